//! Plain-text layout: aligned `label  value` fields and column tables.

/// Labelled values, one per line, the values aligned.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    rows: Vec<(String, String)>,
}

impl Fields {
    /// No fields yet.
    pub(crate) fn new() -> Fields {
        Fields::default()
    }

    /// Adds `label: value`.
    pub(crate) fn add(mut self, label: &str, value: impl ToString) -> Fields {
        self.rows.push((label.to_string(), value.to_string()));
        self
    }

    /// Adds `label: value` if there is a value.
    pub(crate) fn add_some(self, label: &str, value: Option<impl ToString>) -> Fields {
        match value {
            Some(value) => self.add(label, value),
            None => self,
        }
    }

    /// The lines, each ending with a newline.
    pub(crate) fn render(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|(l, _)| l.len() + 1)
            .max()
            .unwrap_or(0);
        self.rows
            .iter()
            .map(|(label, value)| {
                let line = format!("{:<width$}  {value}", format!("{label}:"));
                format!("{}\n", line.trim_end())
            })
            .collect()
    }
}

/// A table with a header row; columns are as wide as their widest cell.
#[derive(Debug)]
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub(crate) fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are empty).
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table, each line ending with a newline.
    pub(crate) fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                let len = cell.chars().count();
                match widths.get_mut(i) {
                    Some(width) => *width = (*width).max(len),
                    None => widths.push(len),
                }
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(i, width)| {
                    let cell = cells.get(i).map(String::as_str).unwrap_or("");
                    format!("{cell:<width$}")
                })
                .collect();
            format!("{}\n", padded.join("  ").trim_end())
        };
        let mut text = line(&self.header);
        for row in &self.rows {
            text.push_str(&line(row));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_align_their_values() {
        let text = Fields::new()
            .add("height", 7)
            .add("block id", "0xab")
            .add_some("reason", None::<String>)
            .render();
        assert_eq!(text, "height:    7\nblock id:  0xab\n");
    }

    #[test]
    fn tables_pad_columns_to_the_widest_cell() {
        let mut table = Table::new(&["ID", "NAME"]);
        table.row(vec!["0".into(), "validator-zero".into()]);
        table.row(vec!["12".into(), "v".into()]);
        assert_eq!(table.render(), "ID  NAME\n0   validator-zero\n12  v\n");
    }
}
