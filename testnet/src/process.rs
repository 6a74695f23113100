//! Validator processes: start detached, find by pid file, stop with SIGTERM.

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Result, io};
use crate::layout::Layout;

/// Starts validator `i` in its own process group (so the terminal's Ctrl-C does not
/// reach it), logging to its `node.log`, and records its pid. With `byzantine` it
/// takes on that behaviour (a `cairn` built with `--features byzantine` only).
pub fn start(cairn: &Path, layout: &Layout, i: usize, byzantine: Option<&str>) -> Result<u32> {
    let log_path = layout.log(i);
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(io(&log_path))?;
    let mut command = Command::new(cairn);
    if let Some(behaviour) = byzantine {
        command.env(crate::byzantine::ENV, behaviour);
    } else {
        command.env_remove(crate::byzantine::ENV);
    }
    let child = command
        .arg("node")
        .arg("run")
        .arg("--home")
        .arg(layout.home(i))
        .arg("--genesis")
        .arg(layout.genesis())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(io(cairn))?;
    let pid = child.id();
    let pid_path = layout.pid(i);
    std::fs::write(&pid_path, format!("{pid}\n")).map_err(io(&pid_path))?;
    Ok(pid)
}

/// The pid of validator `i` if it is running (its pid file names a live `cairn`
/// process; a stale pid file is ignored).
pub fn running(layout: &Layout, i: usize) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(layout.pid(i))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    alive(pid).then_some(pid)
}

/// True if `pid` is a live (not zombie) `cairn` process.
pub fn alive(pid: u32) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false);
    !zombie && String::from_utf8_lossy(&cmdline).contains("cairn")
}

/// Sends `signal` (`TERM` or `KILL`) to `pid`.
pub fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// SIGTERM, then up to `grace` for it to exit, then SIGKILL. True if it exited by itself.
pub fn stop(pid: u32, grace: Duration) -> bool {
    signal(pid, "TERM");
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    signal(pid, "KILL");
    false
}

/// The last `lines` lines of validator `i`'s log.
pub fn log_tail(layout: &Layout, i: usize, lines: usize) -> String {
    let text = std::fs::read_to_string(layout.log(i)).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
