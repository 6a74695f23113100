//! `cairn tx sign|send`: build and sign a transaction (docs/PROTOCOL.md §3–4), print
//! it as the hex `tx_submit` takes, or submit it.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use cairn_crypto::{Hash, KeyFile, KeyKind, PublicKey, SecretKey};
use cairn_rpc::Client;
use cairn_types::{BoundedBytes, ChainId, Op, Transaction, TxPayload, Wire};
use serde::Serialize;

use crate::cli::{OpArg, TxCommand};
use crate::output::Output;

/// A signed transaction, as printed.
#[derive(Serialize)]
struct Signed {
    hash: String,
    nonce: u64,
    tx: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<serde_json::Value>,
}

/// Runs a `tx` subcommand.
pub fn run(command: TxCommand, out: &Output) -> Result<()> {
    match command {
        TxCommand::Sign {
            key,
            chain_id,
            nonce,
            op,
        } => {
            let key = KeyFile::load(&key, KeyKind::Account)?;
            let chain = ChainId(
                chain_id
                    .parse::<Hash>()
                    .map_err(|e| anyhow!("--chain-id: {e}"))?,
            );
            let tx = sign(&key, chain, nonce, &op)?;
            let signed = Signed {
                hash: tx.hash().to_string(),
                nonce,
                tx: hex0x(&tx.to_wire()),
                status: None,
            };
            out.print(&signed, || format!("{}\n", signed.tx));
            Ok(())
        }
        TxCommand::Send {
            key,
            rpc,
            nonce,
            wait,
            op,
        } => {
            let key = KeyFile::load(&key, KeyKind::Account)?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let signed = runtime.block_on(send(&key, &rpc, nonce, wait, &op))?;
            out.print(&signed, || match &signed.status {
                Some(status) => format!(
                    "submitted {} (nonce {})\n{status:#}\n",
                    signed.hash, signed.nonce
                ),
                None => format!("submitted {} (nonce {})\n", signed.hash, signed.nonce),
            });
            Ok(())
        }
    }
}

async fn send(
    key: &SecretKey,
    rpc: &str,
    nonce: Option<u64>,
    wait: bool,
    op: &OpArg,
) -> Result<Signed> {
    let client = Client::connect(rpc).await?;
    let chain = ChainId(client.system_version().await?.chain_id.0);
    let nonce = match nonce {
        Some(n) => n,
        None => client
            .account_get(&key.public())
            .await?
            .map_or(0, |a| a.nonce),
    };
    let tx = sign(key, chain, nonce, op)?;
    let hash = client.tx_submit(&tx).await?.hash.0;
    let mut status = None;
    if wait {
        for _ in 0..600 {
            let info = client.tx_get(&hash).await?;
            let value = serde_json::to_value(&info)?;
            if matches!(
                value["status"].as_str(),
                Some("committed" | "rejected" | "evicted")
            ) {
                status = Some(value);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if status.is_none() {
            bail!("transaction {hash} not in a block after 60 s");
        }
    }
    Ok(Signed {
        hash: hash.to_string(),
        nonce,
        tx: hex0x(&tx.to_wire()),
        status,
    })
}

fn sign(key: &SecretKey, chain: ChainId, nonce: u64, op: &OpArg) -> Result<Transaction> {
    let op = match op.clone() {
        OpArg::Put { key, value } => Op::Put {
            key: bytes(&key, "key")?,
            value: bytes(&value, "value")?,
        },
        OpArg::Delete { key } => Op::Delete {
            key: bytes(&key, "key")?,
        },
        OpArg::Transfer { to, amount } => Op::Transfer {
            to: public_key(&to, "to")?,
            amount,
        },
        OpArg::Grant { account, role } => Op::GrantRole {
            account: public_key(&account, "account")?,
            role,
        },
        OpArg::Revoke { account } => Op::RevokeRole {
            account: public_key(&account, "account")?,
        },
    };
    let payload = TxPayload {
        chain_id: chain,
        sender: key.public(),
        nonce,
        op,
    };
    Ok(Transaction::sign(payload, key))
}

/// Text as its UTF-8 bytes, or `0x…` as hex bytes, within the bound `N`.
fn bytes<const N: usize>(text: &str, what: &str) -> Result<BoundedBytes<N>> {
    let raw = match text.strip_prefix("0x") {
        Some(digits) => hex::decode(digits).with_context(|| format!("{what}: bad hex"))?,
        None => text.as_bytes().to_vec(),
    };
    BoundedBytes::new(raw).map_err(|e| anyhow!("{what}: {e}"))
}

fn public_key(text: &str, what: &str) -> Result<PublicKey> {
    text.trim_start_matches("0x")
        .parse()
        .map_err(|e| anyhow!("{what}: {e}"))
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}
