//! Creating a new testnet: validator homes (with `cairn node init`), funded accounts
//! and a genesis, in an empty directory.

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use cairn_crypto::{KeyFile, KeyKind, PublicKey, SecretKey};
use cairn_genesis::{AccountEntry, GenesisDoc, ValidatorEntry};
use cairn_types::Role;
use serde::Deserialize;

use crate::error::{Result, TestnetError, io};
use crate::layout::{Layout, Manifest};

/// Balance of every funded testnet account.
pub const ACCOUNT_BALANCE: u64 = 1_000_000_000_000;

/// What `cairn node init --json` prints.
#[derive(Deserialize)]
struct InitReport {
    consensus_key: PublicKey,
    peer_id: String,
    address: String,
}

/// Creates an `n`-validator network with `accounts` funded writer accounts (plus an
/// admin, `accounts/admin.json`) in the empty directory of `layout`.
pub fn create(
    cairn: &Path,
    layout: &Layout,
    n: usize,
    base_port: u16,
    accounts: usize,
) -> Result<Manifest> {
    let loopback = |i| ("127.0.0.1".to_string(), crate::layout::ports(base_port, i));
    create_with(cairn, layout, n, base_port, accounts, loopback, |_| {})
}

/// As [`create`], but validator `i` listens on `hosts[i]` (each its own host), on the
/// ports of node 0.
///
/// With `unlisted` (addresses on the hosts' subnet that no host has, one per
/// validator), the genesis lists only validator 0's real address and every node is given it as its one
/// `p2p.bootstrap` address: the others must be found by discovery.
pub fn create_on_hosts(
    cairn: &Path,
    layout: &Layout,
    hosts: &[std::net::Ipv4Addr],
    base_port: u16,
    accounts: usize,
    unlisted: Option<&[std::net::Ipv4Addr]>,
) -> Result<Manifest> {
    let on_host = |i: usize| (hosts[i].to_string(), crate::layout::ports(base_port, 0));
    let Some(nowhere) = unlisted else {
        return create_with(
            cairn,
            layout,
            hosts.len(),
            base_port,
            accounts,
            on_host,
            |_| {},
        );
    };
    let p2p = crate::layout::ports(base_port, 0).p2p;
    create_with(
        cairn,
        layout,
        hosts.len(),
        base_port,
        accounts,
        on_host,
        |doc| {
            for (v, nowhere) in doc.validators.iter_mut().zip(nowhere).skip(1) {
                v.address = format!("/ip4/{nowhere}/tcp/{p2p}");
            }
        },
    )?;
    let doc = GenesisDoc::load(&layout.genesis())?;
    let first = &doc.validators[0];
    let bootstrap = format!("{}/p2p/{}", first.address, first.peer_id);
    for i in 0..hosts.len() {
        set_bootstrap(&layout.home(i).join("config.toml"), &bootstrap)?;
    }
    layout.load()
}

/// Sets `p2p.bootstrap = [addr]` in a node's config file.
fn set_bootstrap(path: &Path, addr: &str) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let mut config: toml::Table = text.parse().map_err(|e| TestnetError::Command {
        command: format!("read {}", path.display()),
        stderr: format!("{e}"),
    })?;
    let p2p = config
        .entry("p2p")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(p2p) = p2p {
        p2p.insert(
            "bootstrap".into(),
            toml::Value::Array(vec![toml::Value::String(addr.into())]),
        );
    }
    std::fs::write(path, config.to_string()).map_err(io(path))
}

fn create_with(
    cairn: &Path,
    layout: &Layout,
    n: usize,
    base_port: u16,
    accounts: usize,
    listen: impl Fn(usize) -> (String, crate::layout::Ports),
    edit: impl FnOnce(&mut GenesisDoc),
) -> Result<Manifest> {
    let mut doc = GenesisDoc::new("cairn-testnet", SystemTime::now());
    doc.params.round_timeout_ms = 1_000;
    doc.params.heartbeat_ms = 1_000;
    for i in 0..n {
        let (ip, ports) = listen(i);
        let report = init_node(cairn, layout, i, &ip, ports)?;
        doc.validators.push(ValidatorEntry {
            name: format!("v{i}"),
            consensus_key: report.consensus_key,
            peer_id: report.peer_id,
            address: report.address,
        });
    }
    let accounts_dir = layout.dir.join("accounts");
    std::fs::create_dir_all(&accounts_dir).map_err(io(&accounts_dir))?;
    let admin = new_account(&accounts_dir.join("admin.json"))?;
    doc.accounts.push(AccountEntry {
        name: Some("admin".into()),
        public_key: admin,
        role: Role::Admin,
        balance: ACCOUNT_BALANCE,
    });
    for k in 0..accounts {
        doc.accounts.push(AccountEntry {
            name: Some(format!("account-{k}")),
            public_key: new_account(&layout.account(k))?,
            role: Role::Writer,
            balance: ACCOUNT_BALANCE,
        });
    }
    edit(&mut doc);
    let genesis = doc.validate()?;
    doc.save(&layout.genesis())?;
    let manifest = Manifest {
        kind: "cairn-testnet".into(),
        n,
        base_port,
        chain_id: genesis.chain_id().to_string(),
        accounts,
    };
    layout.save(&manifest)?;
    Ok(manifest)
}

fn init_node(
    cairn: &Path,
    layout: &Layout,
    i: usize,
    ip: &str,
    ports: crate::layout::Ports,
) -> Result<InitReport> {
    let home = layout.home(i);
    let args = vec![
        "--json".to_string(),
        "node".into(),
        "init".into(),
        "--home".into(),
        home.display().to_string(),
        "--name".into(),
        format!("v{i}"),
        "--p2p-listen".into(),
        format!("/ip4/{ip}/tcp/{}", ports.p2p),
        "--rpc-listen".into(),
        format!("{ip}:{}", ports.rpc),
        "--metrics-listen".into(),
        format!("{ip}:{}", ports.metrics),
    ];
    let stdout = run_cairn(cairn, &args)?;
    serde_json::from_str(&stdout).map_err(|e| TestnetError::Command {
        command: args.join(" "),
        stderr: format!("unexpected output ({e}): {stdout}"),
    })
}

fn new_account(path: &Path) -> Result<PublicKey> {
    let key = SecretKey::generate();
    KeyFile::write_new(path, KeyKind::Account, &key)?;
    Ok(key.public())
}

/// Runs `cairn args…`, returning stdout or the error with its stderr.
pub(crate) fn run_cairn(cairn: &Path, args: &[String]) -> Result<String> {
    let out = Command::new(cairn).args(args).output().map_err(io(cairn))?;
    if !out.status.success() {
        return Err(TestnetError::Command {
            command: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
