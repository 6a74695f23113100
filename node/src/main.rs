//! `cairn`: the command-line entry point of a cairn validator node.
//!
//! Every command prints human-readable output by default and one JSON document with
//! `--json`. On failure it prints one line, `error: <cause>`, to stderr (a JSON object
//! `{"error": "..."}` with `--json`) and exits with status 1; usage errors exit with 2.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cli;
mod commands;
mod config;
mod logging;
mod output;
mod run;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::output::Output;

fn main() {
    let cli = Cli::parse();
    let out = Output::new(cli.json);
    let result = match cli.command {
        Command::Keys(command) => commands::keys::run(command, &out),
        Command::Genesis(command) => commands::genesis::run(command, &out),
        Command::Node(command) => commands::node::run(command, &out),
        Command::Testnet(command) => commands::testnet::run(command, cli.json),
        Command::Tx(command) => commands::tx::run(command, &out),
        Command::Explorer(args) => commands::explorer::run(args, cli.json),
    };
    if let Err(error) = result {
        out.error(&error);
        std::process::exit(1);
    }
}
