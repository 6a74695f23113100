//! Following commits: one WebSocket subscription, and each new block's transaction
//! hashes and outcomes (`chain_getOutcomes`, not the whole block).

use std::sync::Arc;
use std::time::Instant;

use cairn_rpc::Client;
use cairn_rpc::types::OutcomeKind;

use super::tracker::Tracker;

/// Follows committed blocks from `from` and marks the bench's transactions committed.
pub async fn follow(client: Client, from: u64, tracker: Arc<Tracker>) {
    let mut heads = match client.subscribe_heads(Some(from)).await {
        Ok(subscription) => subscription,
        Err(e) => {
            tracing::error!(error = %e, "cannot subscribe to heads; no commits will be seen");
            return;
        }
    };
    while let Some(Ok(head)) = heads.next().await {
        let now = Instant::now();
        if head.tx_count == 0 {
            continue;
        }
        match client.chain_get_outcomes(head.height).await {
            Ok(block) => {
                for tx in block.txs {
                    let applied = tx.outcome.outcome == OutcomeKind::Applied;
                    tracker.committed(&tx.hash.0, applied, now);
                }
            }
            Err(e) => {
                tracing::warn!(height = head.height, error = %e, "cannot read a committed block")
            }
        }
    }
}
