//! `watch`: prints every newly committed block as it commits — over the node's
//! `chain_subscribeHeads` WebSocket subscription, or offline by polling the data
//! directory.

use std::io::Write;
use std::time::Duration;

use cairn_rpc::Client;
use cairn_rpc::types::{BlockRef, HeadInfo};

use crate::local::LocalNode;
use crate::render::{watch_header, watch_row};
use crate::{ExplorerError, Result, Source};

/// How often an offline watch looks for new commits.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Prints committed heads from `from` (default: the next block to commit) to `out`, one
/// line each (one JSON object per line with `json`), until `limit` heads were printed
/// (`None`: forever).
pub async fn watch(
    source: &Source,
    from: Option<u64>,
    json: bool,
    limit: Option<u64>,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    if !json {
        out.write_all(watch_header().as_bytes())?;
        out.flush()?;
    }
    let mut printer = Printer {
        out,
        json,
        left: limit,
    };
    match source {
        Source::Rpc { client, url } if url.starts_with("ws") => {
            watch_rpc(client, url, from, &mut printer).await
        }
        Source::Rpc { url, .. } => {
            let ws_url = websocket_url(url);
            let client = Client::connect(&ws_url)
                .await
                .map_err(ExplorerError::rpc(&ws_url, "connect"))?;
            watch_rpc(&client, &ws_url, from, &mut printer).await
        }
        Source::Local(local) => watch_store(source, local, from, &mut printer).await,
    }
}

struct Printer<'a> {
    out: &'a mut (dyn Write + Send),
    json: bool,
    left: Option<u64>,
}

impl Printer<'_> {
    fn done(&self) -> bool {
        self.left == Some(0)
    }

    fn print(&mut self, head: &HeadInfo) -> Result<()> {
        let line = if self.json {
            let json = serde_json::to_string(head)
                .map_err(|e| ExplorerError::Internal(format!("cannot serialise a head: {e}")))?;
            json + "\n"
        } else {
            watch_row(head)
        };
        self.out.write_all(line.as_bytes())?;
        self.out.flush()?;
        self.left = self.left.map(|left| left.saturating_sub(1));
        Ok(())
    }
}

/// The WebSocket URL of a node given by its HTTP URL (the same port serves both).
pub fn websocket_url(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        url.to_string()
    }
}

/// Follows the heads subscription of `client` (a WebSocket connection to `ws_url`),
/// resubscribing after the last head printed if the node closes it.
async fn watch_rpc(
    client: &Client,
    ws_url: &str,
    from: Option<u64>,
    printer: &mut Printer<'_>,
) -> Result<()> {
    let mut next = from;
    while !printer.done() {
        let mut heads = client
            .subscribe_heads(next)
            .await
            .map_err(ExplorerError::rpc(
                ws_url,
                cairn_rpc::methods::CHAIN_SUBSCRIBE_HEADS,
            ))?;
        let mut received = false;
        while !printer.done() {
            match heads.next().await {
                Some(Ok(head)) => {
                    next = Some(head.height + 1);
                    received = true;
                    printer.print(&head)?;
                }
                Some(Err(e)) => {
                    return Err(ExplorerError::BadAnswer {
                        method: cairn_rpc::methods::CHAIN_SUBSCRIBE_HEADS,
                        problem: e.to_string(),
                    });
                }
                None if received => {
                    // The node closed the subscription (e.g. this client fell behind):
                    // resume after the last head printed, so none is skipped.
                    tracing::warn!(next = ?next, "head subscription closed; resubscribing");
                    break;
                }
                None => {
                    return Err(ExplorerError::SubscriptionEnded {
                        url: ws_url.to_string(),
                        reason: "closed before sending anything".into(),
                    });
                }
            }
        }
    }
    Ok(())
}

async fn watch_store(
    source: &Source,
    local: &LocalNode,
    from: Option<u64>,
    printer: &mut Printer<'_>,
) -> Result<()> {
    // Height 0 is the implicit genesis block: there is no block to show for it.
    let mut next = match from {
        Some(height) => height.max(1),
        None => source.head().await?.height + 1,
    };
    while !printer.done() {
        local.refresh()?;
        let head = source.head().await?.height;
        while next <= head && !printer.done() {
            printer.print(&head_at(source, next).await?)?;
            next += 1;
        }
        if !printer.done() {
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
    Ok(())
}

/// The head summary of the committed block at `height` (≥ 1).
async fn head_at(source: &Source, height: u64) -> Result<HeadInfo> {
    let block = source.block(BlockRef::Height(height)).await?;
    Ok(HeadInfo {
        height: block.height,
        block_id: block.id,
        round: block.round,
        timestamp_ms: block.timestamp_ms,
        tx_count: block.txs.len() as u32,
        state_root: block.result_state_root,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_websocket_url_swaps_the_scheme() {
        assert_eq!(
            websocket_url("http://127.0.0.1:8600"),
            "ws://127.0.0.1:8600"
        );
        assert_eq!(
            websocket_url("https://node.example/rpc"),
            "wss://node.example/rpc"
        );
        assert_eq!(websocket_url("ws://[::1]:9"), "ws://[::1]:9");
    }
}
