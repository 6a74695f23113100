//! `cairn node init|run`.

use std::path::Path;

use anyhow::{Context, Result, bail};
use cairn_crypto::{KeyFile, KeyKind, PublicKey, SecretKey};
use serde::Serialize;

use crate::cli::{NodeCommand, NodeInit};
use crate::config::{CONFIG_FILE, NodeConfig};
use crate::output::Output;

/// What `node init` reports: where things are and what to put in the genesis.
#[derive(Serialize)]
struct InitReport {
    home: String,
    config: String,
    consensus_key: PublicKey,
    peer_id: String,
    address: String,
}

/// Runs a `node` subcommand.
pub fn run(command: NodeCommand, out: &Output) -> Result<()> {
    match command {
        NodeCommand::Init(init) => {
            let report = init_home(&init)?;
            out.print(&report, || {
                format!(
                    "created validator home {home}\nconfig:        {config}\nconsensus key: {key}\npeer id:       {peer}\n\n\
                     add it to the genesis with:\n  cairn genesis add-validator GENESIS --name {name} \
                     --consensus-key-file {home}/keys/consensus.json --network-key-file {home}/keys/network.json \
                     --address {addr}\n",
                    home = report.home,
                    config = report.config,
                    key = report.consensus_key,
                    peer = report.peer_id,
                    name = init.name,
                    addr = report.address,
                )
            });
            Ok(())
        }
        NodeCommand::Run {
            home,
            genesis,
            full,
        } => crate::run::run(&home, &genesis, full),
    }
}

/// Writes config.toml and two new keys into `init.home`; never overwrites anything.
fn init_home(init: &NodeInit) -> Result<InitReport> {
    let home = &init.home;
    let config_path = home.join(CONFIG_FILE);
    if config_path.exists() {
        bail!(
            "{} already exists; refusing to overwrite a validator home",
            config_path.display()
        );
    }
    let mut config = NodeConfig::default();
    config.node.name = init.name.clone();
    config.p2p.listen = init.p2p_listen.clone();
    config.rpc.listen = init.rpc_listen;
    config.metrics.listen = init.metrics_listen;
    config.check().context("bad option")?;
    std::fs::create_dir_all(home.join("keys"))
        .with_context(|| format!("cannot create {}", home.join("keys").display()))?;
    let consensus = SecretKey::generate();
    let network = SecretKey::generate();
    write_key(
        home,
        &config.node.consensus_key,
        KeyKind::Consensus,
        &consensus,
    )?;
    write_key(home, &config.node.network_key, KeyKind::Network, &network)?;
    std::fs::write(&config_path, config.to_toml()?)
        .with_context(|| format!("cannot write {}", config_path.display()))?;
    Ok(InitReport {
        home: home.display().to_string(),
        config: config_path.display().to_string(),
        consensus_key: consensus.public(),
        peer_id: cairn_genesis::network_peer_id(&network.public()).to_string(),
        address: init.p2p_listen.clone(),
    })
}

fn write_key(home: &Path, file: &Path, kind: KeyKind, key: &SecretKey) -> Result<()> {
    let path = NodeConfig::resolve(home, file);
    KeyFile::write_new(&path, kind, key).with_context(|| format!("cannot write {}", path.display()))
}
