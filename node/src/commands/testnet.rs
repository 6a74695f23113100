//! `cairn testnet up|status|down|bench` (the work is in the `cairn-testnet` crate).

use anyhow::{Context, Result};
use cairn_testnet::cli::TestnetCommand;

/// Runs a testnet command; validators are started from this same executable.
pub fn run(command: TestnetCommand, json: bool) -> Result<()> {
    let cairn = std::env::current_exe().context("cannot locate the cairn executable")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(cairn_testnet::cli::run(command, json, &cairn))?;
    Ok(())
}
