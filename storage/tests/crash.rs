//! Crash safety with real processes: a child commits blocks in a loop and reports each
//! height once `commit` has returned (durable); the parent kills it with SIGKILL at a
//! random moment, reopens the store, audits it and checks that every reported commit
//! survived. Twenty-odd kills in a row on one directory.
//!
//! The child writes as a validator does: each block is first stored as a pending
//! block with the safety state (the write before a vote), then committed. A second test
//! lets one child run for many thousands of commits, kills it, and checks that the
//! reopen stays within a fixed memory bound and replays a bounded write-ahead log.
//!
//! The child is this test binary run again with `--exact crash_child --ignored` and
//! the data directory in `CHILD_DIR_ENV`. Reproduce a run with `CAIRN_CRASH_SEED=<seed>`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cairn_storage::testing::ChainBuilder;
use cairn_storage::{StorageError, Store};
use common::*;

const CHILD_DIR_ENV: &str = "CAIRN_STORAGE_CRASH_CHILD_DIR";
const KILLS: usize = 24;
/// Commits the long-running writer makes before it is killed. The defect this guards
/// against (one range tombstone per commit, replayed at open) cost 1 s to reopen after
/// about 1,000 commits, 24 s after 5,900 and 15 GB after 23,600.
const LONG_RUN_COMMITS: u64 = 15_000;
/// Peak resident memory allowed to the process that reopens the store after the long
/// run (the test harness included); docs/OPERATING.md states the bound for the node.
const REOPEN_PEAK_BYTES: u64 = 400 * 1024 * 1024;

/// The child: commits one to three blocks at a time, forever, printing `durable <h>`
/// after each commit returns. Each block is stored pending, with a safety state, before
/// the commit that includes it, as a validator does. Does nothing when run without
/// `CHILD_DIR_ENV`.
#[test]
#[ignore = "child process of the kill -9 tests"]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let store = Store::open(&dir, &chain()).unwrap();
    let mut builder = ChainBuilder::resume(&store, 2).unwrap();
    for i in 0u64.. {
        let blocks = 1 + (i % 3) as usize;
        let commit = builder.next_commit(blocks);
        for block in &commit.blocks {
            store
                .put_pending_block_and_safety(block, &i.to_le_bytes())
                .unwrap();
        }
        let head = store.commit(&commit).unwrap();
        println!("durable {}", head.height);
    }
}

/// The reopening process of the long-run test: opens the store, reads its pending
/// blocks as the node does, and prints `opened <height> <peak resident bytes>`.
#[test]
#[ignore = "child process of kill9_after_a_long_run_reopens_within_a_memory_bound"]
fn reopen_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let store = Store::open(&dir, &chain()).unwrap();
    store.pending_blocks().unwrap();
    let height = store.head().unwrap().height;
    println!("opened {height} {}", peak_resident_bytes());
}

/// This process's peak resident set size (`VmHWM` in /proc/self/status).
fn peak_resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// xorshift64*: enough randomness for kill moments, reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// Starts the child; returns it and a channel of the heights it reports durable.
fn spawn_child(dir: &std::path::Path) -> (Child, mpsc::Receiver<u64>) {
    let mut child = child_command(dir, "crash_child")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(height) = line.strip_prefix("durable ") {
                let _ = send.send(height.trim().parse::<u64>().unwrap());
            }
        }
    });
    (child, receive)
}

/// This test binary, to run its ignored test `name` on the data directory `dir`.
fn child_command(dir: &std::path::Path, name: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_ENV, dir);
    command
}

/// A writer that ran for [`LONG_RUN_COMMITS`] commits (each block first stored
/// pending) is killed mid-commit; the store then opens in a fresh process within
/// [`REOPEN_PEAK_BYTES`], loses nothing reported durable, audits clean, and its
/// write-ahead log is within the configured cap.
#[test]
fn kill9_after_a_long_run_reopens_within_a_memory_bound() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (mut child, reports) = spawn_child(dir.path());
    let mut durable = 0;
    while durable < LONG_RUN_COMMITS {
        durable = reports
            .recv_timeout(Duration::from_secs(20))
            .expect("the child stopped reporting commits");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    durable = reports.iter().fold(durable, u64::max);
    let written = started.elapsed();

    let wal_bytes = wal_bytes(dir.path());
    let reopen = Instant::now();
    let output = child_command(dir.path(), "reopen_child")
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        // The harness prints the test's name on the same line, before the output.
        .find_map(|l| l.split("opened ").nth(1))
        .unwrap_or_else(|| panic!("the reopening child failed: {stdout}"));
    let mut fields = line.split_whitespace().map(|f| f.parse::<u64>().unwrap());
    let (height, peak) = (fields.next().unwrap(), fields.next().unwrap());
    eprintln!(
        "{durable} commits in {written:?}; write-ahead log {wal_bytes} bytes; reopened at \
         height {height} in {:?} with a peak of {} MiB",
        reopen.elapsed(),
        peak >> 20
    );
    assert!(height >= durable && height <= durable + 3);
    assert!(
        peak < REOPEN_PEAK_BYTES,
        "reopening took {} MiB at its peak",
        peak >> 20
    );
    // One memtable's worth beyond the cap: the log being written when it was reached.
    assert!(
        wal_bytes < 2 * 64 * 1024 * 1024,
        "{wal_bytes} bytes of write-ahead log to replay"
    );
    let store = Store::open(dir.path(), &chain()).unwrap();
    // At most the blocks of the commit the kill interrupted are pending.
    assert!(store.pending_blocks().unwrap().len() <= 3);
    let report = store
        .verify_chain(&validators(), &chain(), |_, _| {})
        .unwrap();
    assert_eq!(report.head.height, height);
}

/// Bytes of write-ahead log files (`*.log`) in a RocksDB directory.
fn wal_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

#[test]
fn kill9_at_random_moments_loses_no_durable_commit() {
    let started = Instant::now();
    let seed = std::env::var("CAIRN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            (nanos as u64) | 1
        });
    eprintln!("crash test seed {seed} (rerun with CAIRN_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut durable = 0u64;
    // Kills after which the store held a commit the child had not yet reported: the
    // kill landed between the synced write and the report.
    let mut unreported = 0;
    for kill in 0..KILLS {
        let (mut child, reports) = spawn_child(dir.path());
        // Kill after a random number of reported commits (so the chain grows by about
        // the same amount on a fast or a loaded machine) plus a random few
        // milliseconds, which lands inside a commit or between two; a target of zero
        // kills the child while it starts up or opens the store.
        let target = rng.below(50);
        let mut reported = 0;
        while reported < target {
            let height = reports
                .recv_timeout(Duration::from_secs(20))
                .expect("the child stopped reporting commits");
            durable = durable.max(height);
            reported += 1;
        }
        std::thread::sleep(Duration::from_micros(rng.below(if target == 0 {
            30_000
        } else {
            4_000
        })));
        let reported = reported > 0;
        if reported && kill % 6 == 5 {
            check_while_running(dir.path(), durable);
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        // Heights reported before the kill took effect are durable too.
        durable = reports.iter().fold(durable, u64::max);

        let store = Store::open(dir.path(), &chain()).unwrap();
        let report = store
            .verify_chain(&validators(), &chain(), |_, _| {})
            .unwrap();
        assert!(
            report.head.height >= durable,
            "kill {kill}: head {} lost commits reported durable up to {durable} (seed {seed})",
            report.head.height
        );
        // At most the one commit in flight (three blocks) beyond what was reported.
        assert!(report.head.height <= durable + 3, "seed {seed}");
        unreported += usize::from(report.head.height > durable);
        durable = report.head.height;
    }
    eprintln!(
        "{KILLS} kills, final height {durable}, {unreported} with an unreported commit, {:?}",
        started.elapsed()
    );
    assert!(durable > 0, "the child never committed");
}

/// While the child writes: a second writer is refused, and a reader sees everything
/// reported durable so far (kept light, so the child does not race far ahead meanwhile;
/// the full audit of a read-only store under a writer is in tests/store.rs).
fn check_while_running(dir: &std::path::Path, durable: u64) {
    match Store::open(dir, &chain()) {
        Err(StorageError::Locked { .. }) => {}
        other => panic!("a second writer must be refused as locked, got {other:?}"),
    }
    let reader = Store::open_read_only(dir, &chain()).unwrap();
    let head = reader.head().unwrap();
    assert!(head.height >= durable);
    assert_eq!(reader.block_at(head.height).unwrap().unwrap().id(), head.id);
    assert!(reader.commit_certificate(head.height).unwrap().is_some());
}
