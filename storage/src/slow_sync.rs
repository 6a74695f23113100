//! A slow disk for fault runs (feature `slow-sync`, never in the default binary): the
//! fault runner writes a number of milliseconds into the file `CAIRN_FAULT_SLOW_SYNC_FILE`
//! names, and every synced write waits that long first, as on a disk whose syncs are
//! slow; removing the file ends it. The kernel here has neither netem nor dm-delay,
//! so the delay is injected where the node waits for its disk.

use std::time::Duration;

/// The variable naming the file.
pub const ENV: &str = "CAIRN_FAULT_SLOW_SYNC_FILE";

/// The longest delay honoured, so a typo cannot stop a node for hours.
const MAX_MS: u64 = 10_000;

/// Sleeps for the configured delay, if any.
pub(crate) fn wait() {
    if let Some(delay) = delay() {
        std::thread::sleep(delay);
    }
}

fn delay() -> Option<Duration> {
    delay_in(std::path::Path::new(&std::env::var_os(ENV)?))
}

/// The delay the file at `path` asks for (none if it is missing or not a number).
fn delay_in(path: &std::path::Path) -> Option<Duration> {
    let text = std::fs::read_to_string(path).ok()?;
    let ms: u64 = text.trim().parse().ok()?;
    Some(Duration::from_millis(ms.min(MAX_MS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_sets_the_delay_and_its_removal_ends_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("slow");
        assert_eq!(delay_in(&file), None, "no file, no delay");
        std::fs::write(&file, "250\n").unwrap();
        assert_eq!(delay_in(&file), Some(Duration::from_millis(250)));
        std::fs::write(&file, "999999").unwrap();
        assert_eq!(delay_in(&file), Some(Duration::from_millis(MAX_MS)));
        std::fs::write(&file, "soon").unwrap();
        assert_eq!(delay_in(&file), None);
        std::fs::remove_file(&file).unwrap();
        assert_eq!(delay_in(&file), None);
    }
}
