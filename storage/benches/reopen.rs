//! Restart cost against uptime (not run in CI): `cargo bench -p cairn-storage --bench reopen`.
//!
//! For each count of commits (default 1,000, 10,000 and 100,000; set
//! `CAIRN_REOPEN_COMMITS=1000,5000` to choose), a writer process commits that many
//! times into a fresh store as a validator does (each block stored pending with a
//! safety state first, then committed, every write synced) and is killed with SIGKILL
//! right after its last commit. A second, fresh process then opens the store and reads
//! its pending blocks, as a starting node does. Printed per count: the open time (the
//! median of three reopens, each in a new process) and the largest peak resident
//! memory of those processes. Flat columns mean restart cost does not grow with uptime.
//!
//! The processes are this benchmark binary run again with `CAIRN_REOPEN_ROLE` set.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use cairn_storage::Store;
use cairn_storage::testing::ChainBuilder;

const ROLE_ENV: &str = "CAIRN_REOPEN_ROLE";
const DIR_ENV: &str = "CAIRN_REOPEN_DIR";
const REOPENS: usize = 3;

fn main() {
    match std::env::var(ROLE_ENV).as_deref() {
        Ok("write") => write(),
        Ok("open") => open(),
        _ => run(),
    }
}

fn run() {
    // `cargo bench` passes `--bench`; a filter argument that is not ours skips the run.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && a != "reopen")
    {
        return;
    }
    let counts: Vec<u64> = std::env::var("CAIRN_REOPEN_COMMITS")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .map(|c| {
            c.trim()
                .parse()
                .expect("CAIRN_REOPEN_COMMITS: numbers, comma-separated")
        })
        .collect();
    println!("commits | write s | open ms (median of {REOPENS}) | peak MiB | pending");
    for commits in counts {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let height = write_then_kill(dir.path(), commits);
        let write_s = started.elapsed().as_secs_f64();
        let mut times = Vec::new();
        let mut peak = 0;
        let mut pending = 0;
        for _ in 0..REOPENS {
            let (ms, bytes, found_height, found_pending) = reopen(dir.path());
            assert!(
                found_height >= height,
                "lost commits: {found_height} < {height}"
            );
            times.push(ms);
            peak = peak.max(bytes);
            pending = found_pending;
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{commits:>7} | {write_s:>7.1} | {:>10.1} | {:>8} | {pending}",
            times[REOPENS / 2],
            peak >> 20
        );
    }
}

/// Runs the writer until it has reported `commits` commits, then kills it; returns the
/// highest height it reported durable.
fn write_then_kill(dir: &std::path::Path, commits: u64) -> u64 {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(ROLE_ENV, "write")
        .env(DIR_ENV, dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut reported = 0;
    let mut height = 0;
    for line in stdout.lines() {
        height = line.unwrap().trim().parse().unwrap();
        reported += 1;
        if reported == commits {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    height
}

/// Opens the store in a fresh process: (milliseconds, peak resident bytes, head
/// height, pending blocks).
fn reopen(dir: &std::path::Path) -> (f64, u64, u64, usize) {
    let output = Command::new(std::env::current_exe().unwrap())
        .env(ROLE_ENV, "open")
        .env(DIR_ENV, dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(fields.len(), 4, "the opening process failed: {text}");
    (
        fields[0].parse().unwrap(),
        fields[1].parse().unwrap(),
        fields[2].parse().unwrap(),
        fields[3].parse().unwrap(),
    )
}

/// The writer: commits one to three blocks at a time forever, each block first stored
/// pending with a safety state, printing each durable height.
fn write() {
    let dir = std::env::var(DIR_ENV).unwrap();
    let store = Store::open(&dir, &ChainBuilder::chain_id()).unwrap();
    let mut builder = ChainBuilder::resume(&store, 2).unwrap();
    for i in 0u64.. {
        let commit = builder.next_commit(1 + (i % 3) as usize);
        for block in &commit.blocks {
            store
                .put_pending_block_and_safety(block, &i.to_le_bytes())
                .unwrap();
        }
        println!("{}", store.commit(&commit).unwrap().height);
    }
}

/// The opener: prints `<ms> <peak bytes> <height> <pending>`.
fn open() {
    let dir = std::env::var(DIR_ENV).unwrap();
    let started = Instant::now();
    let store = Store::open(&dir, &ChainBuilder::chain_id()).unwrap();
    let pending = store.pending_blocks().unwrap().len();
    let height = store.head().unwrap().height;
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    println!("{ms} {} {height} {pending}", kib * 1024);
}
