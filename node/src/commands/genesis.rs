//! `cairn genesis new|add-validator|add-account|validate`.

use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use cairn_crypto::{KeyFile, KeyKind, PublicKey};
use cairn_genesis::{AccountEntry, Genesis, GenesisDoc, GenesisError, ValidatorEntry};
use serde::Serialize;

use crate::cli::{AddAccount, AddValidator, GenesisCommand};
use crate::output::Output;

/// Runs a `genesis` subcommand.
pub fn run(command: GenesisCommand, out: &Output) -> Result<()> {
    match command {
        GenesisCommand::New {
            chain_name,
            genesis_time,
            out: path,
            force,
        } => new(&chain_name, genesis_time.as_deref(), &path, force, out),
        GenesisCommand::AddValidator(args) => add_validator(args, out),
        GenesisCommand::AddAccount(args) => add_account(args, out),
        GenesisCommand::Validate { file } => validate(&file, out),
    }
}

fn new(chain_name: &str, time: Option<&str>, path: &Path, force: bool, out: &Output) -> Result<()> {
    if path.exists() && !force {
        bail!(
            "{} already exists; pass --force to replace it",
            path.display()
        );
    }
    let time = match time {
        Some(text) => humantime::parse_rfc3339_weak(text).with_context(|| {
            format!("--genesis-time {text:?} is not an RFC 3339 time such as 2026-11-23T00:00:00Z")
        })?,
        None => SystemTime::now(),
    };
    let doc = GenesisDoc::new(chain_name, time);
    doc.check_draft()?;
    doc.save(path)?;
    #[derive(Serialize)]
    struct Created<'a> {
        file: String,
        chain_name: &'a str,
        genesis_time: &'a str,
    }
    let created = Created {
        file: path.display().to_string(),
        chain_name: &doc.chain_name,
        genesis_time: &doc.genesis_time,
    };
    out.print(&created, || {
        format!(
            "created {} for chain {:?} starting {}\nnext: cairn genesis add-validator / add-account, then cairn genesis validate\n",
            created.file, created.chain_name, created.genesis_time
        )
    });
    Ok(())
}

/// Loads, changes and saves a draft genesis document, refusing changes that break it.
fn edit(path: &Path, change: impl FnOnce(&mut GenesisDoc)) -> Result<GenesisDoc> {
    let mut doc = GenesisDoc::load(path)?;
    change(&mut doc);
    doc.check_draft()
        .with_context(|| format!("not changing {}", path.display()))?;
    doc.save(path)?;
    Ok(doc)
}

fn public_key_from(
    hex: Option<&str>,
    file: Option<&Path>,
    kind: KeyKind,
    flag: &str,
) -> Result<PublicKey> {
    match (hex, file) {
        (Some(hex), _) => hex.parse().with_context(|| format!("--{flag}")),
        (None, Some(file)) => Ok(KeyFile::load(file, kind)?.public()),
        (None, None) => bail!("--{flag} or its key-file form is required"),
    }
}

fn add_validator(args: AddValidator, out: &Output) -> Result<()> {
    let consensus_key = public_key_from(
        args.consensus_key.as_deref(),
        args.consensus_key_file.as_deref(),
        KeyKind::Consensus,
        "consensus-key",
    )?;
    let peer_id = match (args.peer_id, args.network_key_file) {
        (Some(peer_id), _) => peer_id,
        (None, Some(file)) => {
            cairn_genesis::network_peer_id(&KeyFile::load(&file, KeyKind::Network)?.public())
                .to_string()
        }
        (None, None) => bail!("--peer-id or --network-key-file is required"),
    };
    let entry = ValidatorEntry {
        name: args.name,
        consensus_key,
        peer_id,
        address: args.address,
    };
    let doc = edit(&args.file, |doc| doc.validators.push(entry.clone()))?;
    out.print(&entry, || {
        format!(
            "added validator {} (v{}) to {}; {} validator(s) now\n",
            entry.name,
            doc.validators.len() - 1,
            args.file.display(),
            doc.validators.len()
        )
    });
    Ok(())
}

fn add_account(args: AddAccount, out: &Output) -> Result<()> {
    let public_key = public_key_from(
        args.public_key.as_deref(),
        args.key_file.as_deref(),
        KeyKind::Account,
        "public-key",
    )?;
    let entry = AccountEntry {
        name: args.name,
        public_key,
        role: args.role,
        balance: args.balance,
    };
    let doc = edit(&args.file, |doc| doc.accounts.push(entry.clone()))?;
    out.print(&entry, || {
        format!(
            "added {} account {} with balance {} to {}; {} account(s) now\n",
            entry.role,
            entry.public_key,
            entry.balance,
            args.file.display(),
            doc.accounts.len()
        )
    });
    Ok(())
}

/// The summary `genesis validate` prints for a valid document.
#[derive(Serialize)]
struct Summary {
    file: String,
    valid: bool,
    chain_name: String,
    chain_id: String,
    genesis_time: String,
    validators: usize,
    max_faulty: usize,
    quorum: usize,
    accounts: usize,
    validator_list: Vec<ValidatorSummary>,
}

#[derive(Serialize)]
struct ValidatorSummary {
    id: usize,
    name: String,
    consensus_key: String,
    peer_id: String,
    address: String,
}

impl Summary {
    fn of(path: &Path, genesis: &Genesis) -> Summary {
        let doc = genesis.doc();
        Summary {
            file: path.display().to_string(),
            valid: true,
            chain_name: doc.chain_name.clone(),
            chain_id: genesis.chain_id().to_string(),
            genesis_time: doc.genesis_time.clone(),
            validators: genesis.n(),
            max_faulty: genesis.max_faulty(),
            quorum: genesis.quorum(),
            accounts: doc.accounts.len(),
            validator_list: doc
                .validators
                .iter()
                .enumerate()
                .map(|(id, v)| ValidatorSummary {
                    id,
                    name: v.name.clone(),
                    consensus_key: v.consensus_key.to_string(),
                    peer_id: v.peer_id.clone(),
                    address: v.address.clone(),
                })
                .collect(),
        }
    }

    fn human(&self) -> String {
        let mut text = format!(
            "{} is valid\nchain name:   {}\nchain id:     {}\ngenesis time: {}\nvalidators:   n = {}, tolerates f = {} faulty, quorum {}\naccounts:     {}\n",
            self.file,
            self.chain_name,
            self.chain_id,
            self.genesis_time,
            self.validators,
            self.max_faulty,
            self.quorum,
            self.accounts
        );
        for v in &self.validator_list {
            text.push_str(&format!(
                "  v{:<3} {:<12} {}  {}\n",
                v.id, v.name, v.peer_id, v.address
            ));
        }
        text
    }
}

fn validate(path: &Path, out: &Output) -> Result<()> {
    let doc = GenesisDoc::load(path)?;
    match doc.validate() {
        Ok(genesis) => {
            let summary = Summary::of(path, &genesis);
            out.print(&summary, || summary.human());
            Ok(())
        }
        Err(GenesisError::Invalid { problems }) => {
            #[derive(Serialize)]
            struct Invalid {
                file: String,
                valid: bool,
                problems: Vec<String>,
            }
            let report = Invalid {
                file: path.display().to_string(),
                valid: false,
                problems: problems.iter().map(ToString::to_string).collect(),
            };
            out.print(&report, || {
                let mut text = format!(
                    "{} has {} problem(s):\n",
                    report.file,
                    report.problems.len()
                );
                for problem in &report.problems {
                    text.push_str(&format!("  - {problem}\n"));
                }
                text
            });
            Err(GenesisError::Invalid { problems })
                .with_context(|| format!("{} is not a valid genesis", path.display()))
        }
        Err(other) => Err(other.into()),
    }
}
