//! The validator processes of a fault run, each started inside its host's namespace,
//! and what the faults do to them (SIGKILL, SIGSTOP/SIGCONT, an emptied data
//! directory). Dropping [`Nodes`] kills whatever still runs.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::hosts::Hosts;
use crate::error::{Result, io};
use crate::layout::Layout;
use crate::process;

use crate::byzantine::{ByzantineNode, DORMANT_ENV, ENV as BYZANTINE_ENV};

/// The variable naming the file whose milliseconds slow a validator's synced writes.
const SLOW_SYNC_ENV: &str = "CAIRN_FAULT_SLOW_SYNC_FILE";

/// How a validator is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running,
    Paused,
    Killed,
}

/// The validators of one run.
pub struct Nodes<'a> {
    cairn: PathBuf,
    layout: &'a Layout,
    namespaces: Vec<String>,
    children: Vec<Option<Child>>,
    states: Vec<State>,
    /// The Byzantine behaviour of each validator, if any.
    behaviours: Vec<Option<String>>,
    /// Byzantine validators still honest (until [`Nodes::misbehave`]).
    dormant: Vec<bool>,
}

impl<'a> Nodes<'a> {
    /// Validators for `hosts`, none started yet.
    pub fn new(
        cairn: &Path,
        layout: &'a Layout,
        hosts: &Hosts,
        n: usize,
        byzantine: &[ByzantineNode],
    ) -> Nodes<'a> {
        let behaviours = crate::byzantine::per_node(byzantine, n);
        let dormant = (0..n)
            .map(|i| byzantine.iter().any(|b| b.node == i && b.from_s.is_some()))
            .collect();
        Nodes {
            dormant,
            cairn: cairn.to_path_buf(),
            layout,
            namespaces: (0..n).map(|i| hosts.namespace(i)).collect(),
            children: (0..n).map(|_| None).collect(),
            states: vec![State::Killed; n],
            behaviours,
        }
    }

    /// Number of validators.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Starts validator `i` (if it is not running) in its namespace.
    pub fn start(&mut self, i: usize) -> Result<()> {
        if self.states[i] != State::Killed {
            return Ok(());
        }
        let log_path = self.layout.log(i);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io(&log_path))?;
        let mut command = Command::new("ip");
        if let Some(behaviour) = &self.behaviours[i] {
            command.env(BYZANTINE_ENV, behaviour);
            if self.dormant[i] {
                command.env(DORMANT_ENV, "1");
            }
        }
        command.env(SLOW_SYNC_ENV, self.slow_sync_file(i));
        command.args(["netns", "exec", &self.namespaces[i]]);
        if self.behaviours[i].is_some() {
            // On separate machines the attacker's work costs the honest validators
            // nothing; here they share the cores, so it runs at the lowest priority
            // (docs/TESTING.md "Byzantine validators").
            command.args(["nice", "-n", "19"]);
        }
        let child = command
            .arg(&self.cairn)
            .args(["node", "run", "--home"])
            .arg(self.layout.home(i))
            .arg("--genesis")
            .arg(self.layout.genesis())
            // The runner's own RUST_LOG, if set, reaches the nodes (to debug a run).
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(io("ip"))?;
        self.children[i] = Some(child);
        self.states[i] = State::Running;
        Ok(())
    }

    /// SIGKILL.
    pub fn kill(&mut self, i: usize) -> Result<()> {
        if let Some(mut child) = self.children[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.states[i] = State::Killed;
        Ok(())
    }

    /// SIGUSR1: a dormant Byzantine validator starts misbehaving (and stays so across
    /// restarts).
    pub fn misbehave(&mut self, i: usize) -> Result<()> {
        self.dormant[i] = false;
        if let (State::Running, Some(child)) = (self.states[i], &self.children[i]) {
            process::signal(child.id(), "USR1");
        }
        Ok(())
    }

    /// Every synced write of validator `i` waits `ms` first (in a build with the
    /// `byzantine` feature, which reads the file; storage/src/slow_sync.rs).
    pub fn slow_disk(&self, i: usize, ms: u64) -> Result<()> {
        let path = self.slow_sync_file(i);
        std::fs::write(&path, format!("{ms}\n")).map_err(io(&path))
    }

    /// Ends every slow disk.
    pub fn heal_disks(&self) {
        for i in 0..self.len() {
            let _ = std::fs::remove_file(self.slow_sync_file(i));
        }
    }

    fn slow_sync_file(&self, i: usize) -> PathBuf {
        self.layout.dir.join(format!("slow-sync-v{i}"))
    }

    /// SIGSTOP.
    pub fn pause(&mut self, i: usize) -> Result<()> {
        if let (State::Running, Some(child)) = (self.states[i], &self.children[i]) {
            process::signal(child.id(), "STOP");
            self.states[i] = State::Paused;
        }
        Ok(())
    }

    /// SIGCONT.
    pub fn resume(&mut self, i: usize) -> Result<()> {
        if let (State::Paused, Some(child)) = (self.states[i], &self.children[i]) {
            process::signal(child.id(), "CONT");
            self.states[i] = State::Running;
        }
        Ok(())
    }

    /// SIGKILL, empty the data directory, start again: the validator comes back with
    /// its keys and its `validator-started` marker but no data (it must recover).
    pub fn wipe(&mut self, i: usize) -> Result<()> {
        self.kill(i)?;
        let data = self.layout.data(i);
        if data.exists() {
            std::fs::remove_dir_all(&data).map_err(io(&data))?;
        }
        self.start(i)
    }

    /// Resumes paused validators and starts killed ones.
    pub fn recover_all(&mut self) -> Result<()> {
        for i in 0..self.len() {
            self.resume(i)?;
            self.start(i)?;
        }
        Ok(())
    }

    /// Which validators the load may send to: the running ones.
    pub fn reachable(&self) -> Vec<bool> {
        self.states.iter().map(|s| *s == State::Running).collect()
    }

    /// Stops every validator with SIGTERM (SIGKILL after 10 s), so its data can be
    /// copied and audited.
    pub fn stop_all(&mut self) {
        for i in 0..self.len() {
            let _ = self.resume(i);
            if let Some(mut child) = self.children[i].take() {
                if !process::stop(child.id(), Duration::from_secs(10)) {
                    let _ = child.kill();
                }
                let _ = child.wait();
            }
            self.states[i] = State::Killed;
        }
    }
}

impl Drop for Nodes<'_> {
    fn drop(&mut self) {
        for child in self.children.iter_mut().filter_map(Option::take) {
            let mut child = child;
            process::signal(child.id(), "CONT");
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
