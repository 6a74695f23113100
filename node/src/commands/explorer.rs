//! `cairn explorer …` (the work is in the `cairn-explorer` crate).

use anyhow::{Context, Result};
use cairn_explorer::cli::ExplorerArgs;

/// Runs an explorer command.
pub fn run(args: ExplorerArgs, json: bool) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(cairn_explorer::cli::run(args, json))?;
    Ok(())
}
