//! Replays one simulator seed, sweeps a range of seeds, or runs the documented soak.
//!
//! ```text
//! cargo run -p cairn-consensus --release --features sim --example sim -- --help
//! cargo run -p cairn-consensus --release --features sim --example sim -- --scenario n7f2_mixed --seed 1234
//! cargo run -p cairn-consensus --release --features sim --example sim -- --scenario mix_n4,mix_n7 --seeds 100000 --start 1000000000
//! cargo run -p cairn-consensus --release --features sim --example sim -- --soak
//! ```
//!
//! Exits with status 1 if any run broke an invariant, 2 on a usage error.

use std::process::ExitCode;
use std::time::Instant;

use cairn_consensus::sim::{scenarios, sweep, sweep_with};

const USAGE: &str = "\
Replays or sweeps seeds of the consensus simulator (docs/TESTING.md).

USAGE:
    sim [OPTIONS]

OPTIONS:
    --scenario NAME[,NAME...]  scenarios to run (default: mix_n4,mix_n7); --list shows them
    --seed S                   replay seed S of each scenario and print the full report
    --trace N                  with --seed: keep and print the last N lines of the event trace
    --seeds N                  sweep N seeds of each scenario (default 100)
    --start S, --from S        first seed of the sweep (default 0)
    --soak                     the documented soak: 1,000,000 seeds over four distant ranges
                               (0, 10^9, 10^12, 2^63) of mix_n4, mix_n4_attacks, mix_n7 and
                               mix_n7_attacks; --seeds N scales it (N seeds per range for
                               each n = 4 mix, N/4 for each n = 7 mix; default 100000)
    --threads T                threads of a sweep (default: all cores)
    --durable-blocks           drivers keep received blocks across restarts
    --list                     list the registered scenarios
    -h, --help                 show this help

Every failure prints the command that replays it.";

/// The soak's seed ranges: far apart, so they share no structure with the CI seeds.
const SOAK_STARTS: [u64; 4] = [0, 1_000_000_000, 1_000_000_000_000, 1 << 63];

struct Args {
    scenarios: Vec<String>,
    seed: Option<u64>,
    seeds: Option<u64>,
    start: u64,
    threads: usize,
    trace: usize,
    list: bool,
    soak: bool,
    help: bool,
    durable_blocks: bool,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        scenarios: vec!["mix_n4".into(), "mix_n7".into()],
        seed: None,
        seeds: None,
        start: 0,
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        trace: 0,
        list: false,
        soak: false,
        help: false,
        durable_blocks: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--list" => args.list = true,
            "--soak" => args.soak = true,
            "-h" | "--help" => args.help = true,
            "--durable-blocks" => args.durable_blocks = true,
            "--scenario" | "--seed" | "--seeds" | "--start" | "--from" | "--threads"
            | "--trace" => {
                let value = it.next().ok_or(format!("{flag} needs a value"))?;
                let number = || {
                    value
                        .parse::<u64>()
                        .map_err(|e| format!("{flag} {value}: {e}"))
                };
                match flag.as_str() {
                    "--scenario" => args.scenarios = value.split(',').map(str::to_string).collect(),
                    "--seed" => args.seed = Some(number()?),
                    "--seeds" => args.seeds = Some(number()?),
                    "--start" | "--from" => args.start = number()?,
                    "--threads" => args.threads = number()?.max(1) as usize,
                    _ => args.trace = usize::try_from(number()?).unwrap_or(usize::MAX),
                }
            }
            other => return Err(format!("unknown option {other}; see --help")),
        }
    }
    for name in &args.scenarios {
        if scenarios::build(name, 0).is_none() {
            return Err(format!("no scenario named {name:?}; --list shows them"));
        }
    }
    Ok(args)
}

fn replay(name: &str, seed: u64, trace: usize, durable_blocks: bool) -> bool {
    let Some(scenario) = scenarios::build(name, seed) else {
        return false;
    };
    let scenario = scenario.trace(trace).durable_blocks(durable_blocks);
    let started = Instant::now();
    let outcome = scenario.run(seed);
    println!("{outcome}");
    println!("  wall time {:.3} s", started.elapsed().as_secs_f64());
    outcome.is_ok()
}

/// Sweeps `seeds` seeds of `name` from `start` in chunks, printing progress; returns
/// the number of failed seeds.
fn sweep_range(name: &str, start: u64, seeds: u64, threads: usize, durable_blocks: bool) -> u64 {
    const CHUNK: u64 = 2_000;
    let mut failed = 0;
    let mut done = 0;
    let started = Instant::now();
    while done < seeds {
        let n = CHUNK.min(seeds - done);
        let from = start.saturating_add(done);
        let range = from..from.saturating_add(n);
        let result = if durable_blocks {
            sweep_with(name, range, threads, |s| s.durable_blocks(true))
        } else {
            sweep(name, range, threads)
        };
        done += n;
        failed += result.failed;
        for outcome in &result.failures {
            println!("{}\n  replay: {}", outcome.summary(), outcome.replay_hint());
        }
        let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
        println!("{name} from {start}: {done}/{seeds} seeds, {failed} failed, {rate:.1} seeds/s");
    }
    failed
}

/// The documented soak (docs/TESTING.md): every range of [`SOAK_STARTS`] with `per_range`
/// seeds of each n = 4 mix and a quarter as many of each n = 7 mix.
fn soak(per_range: u64, threads: usize, durable_blocks: bool) -> bool {
    let plan = [
        ("mix_n4", per_range),
        ("mix_n4_attacks", per_range),
        ("mix_n7", per_range / 4),
        ("mix_n7_attacks", per_range / 4),
    ];
    let started = Instant::now();
    let mut rows = Vec::new();
    for start in SOAK_STARTS {
        for &(name, seeds) in &plan {
            let t = Instant::now();
            let failed = sweep_range(name, start, seeds, threads, durable_blocks);
            rows.push((name, start, seeds, failed, t.elapsed().as_secs_f64()));
        }
    }
    println!("\nsoak summary ({threads} threads):");
    println!(
        "{:<16} {:>20} {:>9} {:>7} {:>9}",
        "scenario", "first seed", "seeds", "failed", "wall s"
    );
    for (name, start, seeds, failed, secs) in &rows {
        println!("{name:<16} {start:>20} {seeds:>9} {failed:>7} {secs:>9.0}");
    }
    let seeds: u64 = rows.iter().map(|r| r.2).sum();
    let failed: u64 = rows.iter().map(|r| r.3).sum();
    println!(
        "total: {seeds} seeds, {failed} failed, {:.0} s wall",
        started.elapsed().as_secs_f64()
    );
    failed == 0
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.list {
        for (name, _) in scenarios::all() {
            println!("{name}");
        }
        return ExitCode::SUCCESS;
    }
    let ok = if args.soak {
        soak(
            args.seeds.unwrap_or(100_000),
            args.threads,
            args.durable_blocks,
        )
    } else {
        let mut ok = true;
        for name in &args.scenarios {
            ok &= match args.seed {
                Some(seed) => replay(name, seed, args.trace, args.durable_blocks),
                None => {
                    let seeds = args.seeds.unwrap_or(100);
                    sweep_range(name, args.start, seeds, args.threads, args.durable_blocks) == 0
                }
            };
        }
        ok
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
