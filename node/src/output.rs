//! Human or JSON output, chosen once by `--json`.

use serde::Serialize;

/// Where command results go: plain text for people, or one JSON document per command.
pub struct Output {
    json: bool,
}

impl Output {
    /// Output in JSON when `json` is set, text otherwise.
    pub fn new(json: bool) -> Output {
        Output { json }
    }

    /// Prints a command's result: `value` as JSON, or the text `human` builds.
    pub fn print<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        if self.json {
            match serde_json::to_string_pretty(value) {
                Ok(text) => println!("{text}"),
                Err(e) => eprintln!("error: cannot render JSON output: {e}"),
            }
        } else {
            let text = human();
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
        }
    }

    /// Prints an error as one line on stderr: the whole cause chain, joined by ": ".
    pub fn error(&self, error: &anyhow::Error) {
        let line = format!("{error:#}").replace('\n', " ");
        if self.json {
            eprintln!("{}", serde_json::json!({ "error": line }));
        } else {
            eprintln!("error: {line}");
        }
    }
}
