//! Crash safety with real processes: a child commits blocks in a loop and reports each
//! height once `commit` has returned (durable); the parent kills it with SIGKILL at a
//! random moment, reopens the store, audits it and checks that every reported commit
//! survived. Twenty-odd kills in a row on one directory.
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

/// The child: commits one to three blocks at a time, forever, printing `durable <h>`
/// after each commit returns. Does nothing when run without `CHILD_DIR_ENV`.
#[test]
#[ignore = "child process of kill9_at_random_moments_loses_no_durable_commit"]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let store = Store::open(&dir, &chain()).unwrap();
    let mut builder = ChainBuilder::resume(&store, 2).unwrap();
    for i in 0u64.. {
        let blocks = 1 + (i % 3) as usize;
        let head = store.commit(&builder.next_commit(blocks)).unwrap();
        println!("durable {}", head.height);
    }
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
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_ENV, dir)
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
