//! Replays one simulator seed, or soaks a range of seeds.
//!
//! ```text
//! cargo run -p cairn-consensus --release --features sim --example sim -- --scenario n7f2_mixed --seed 1234
//! cargo run -p cairn-consensus --release --features sim --example sim -- --scenario mix_n4,mix_n7 --seeds 100000
//! cargo run -p cairn-consensus --release --features sim --example sim -- --list
//! ```
//!
//! Options: `--scenario NAME[,NAME…]` (default `mix_n4,mix_n7`), `--seed S` (replay one
//! seed and print the full report), `--trace N` (with `--seed`: keep and print the last
//! N lines of the event trace), `--seeds N` and `--from S` (soak seeds S..S+N of every
//! scenario named), `--threads T` (soak threads, default: all cores), `--durable-blocks`
//! (drivers keep received blocks across restarts), `--list`.
//! Exits with status 1 if any run broke an invariant.

use std::process::ExitCode;

use cairn_consensus::sim::{scenarios, sweep, sweep_with};

struct Args {
    scenarios: Vec<String>,
    seed: Option<u64>,
    seeds: Option<u64>,
    from: u64,
    threads: usize,
    trace: usize,
    list: bool,
    durable_blocks: bool,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        scenarios: vec!["mix_n4".into(), "mix_n7".into()],
        seed: None,
        seeds: None,
        from: 0,
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        trace: 0,
        list: false,
        durable_blocks: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--list" {
            args.list = true;
            continue;
        }
        if flag == "--durable-blocks" {
            args.durable_blocks = true;
            continue;
        }
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
            "--from" => args.from = number()?,
            "--threads" => args.threads = number()?.max(1) as usize,
            "--trace" => args.trace = number()? as usize,
            other => {
                return Err(format!(
                    "unknown option {other}; see --list and the file's header"
                ));
            }
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
    let started = std::time::Instant::now();
    let outcome = scenario.run(seed);
    println!("{outcome}");
    println!("  wall time {:.3} s", started.elapsed().as_secs_f64());
    outcome.is_ok()
}

fn soak(name: &str, from: u64, seeds: u64, threads: usize, durable_blocks: bool) -> bool {
    const CHUNK: u64 = 2_000;
    let mut failed = 0;
    let mut done = 0;
    let started = std::time::Instant::now();
    while done < seeds {
        let n = CHUNK.min(seeds - done);
        let range = from + done..from + done + n;
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
        println!("{name}: {done}/{seeds} seeds, {failed} failed, {rate:.1} seeds/s");
    }
    failed == 0
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    if args.list {
        for (name, _) in scenarios::all() {
            println!("{name}");
        }
        return ExitCode::SUCCESS;
    }
    let mut ok = true;
    for name in &args.scenarios {
        ok &= match (args.seed, args.seeds) {
            (Some(seed), _) => replay(name, seed, args.trace, args.durable_blocks),
            (None, Some(seeds)) => soak(name, args.from, seeds, args.threads, args.durable_blocks),
            (None, None) => soak(name, args.from, 100, args.threads, args.durable_blocks),
        };
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
