//! Views of the chain: head, block, validators, account, the audit report, watch rows.

use cairn_rpc::types::{AccountInfo, BlockInfo, ConsensusStatus, HeadInfo, ValidatorsInfo};
use cairn_rpc::{HexHash, HexKey};
use serde::{Serialize, Serializer};

use super::{Fields, Table, View, op, outcome, serde_name, signers, time};

impl View for HeadInfo {
    fn text(&self) -> String {
        Fields::new()
            .add("height", self.height)
            .add("block id", self.block_id)
            .add("round", self.round)
            .add("time", time(self.timestamp_ms))
            .add("transactions", self.tx_count)
            .add(
                "state root",
                self.state_root
                    .map_or_else(|| "not recorded".to_string(), |root| root.to_string()),
            )
            .render()
    }
}

impl View for BlockInfo {
    fn text(&self) -> String {
        let justify = &self.justify;
        let mut text = Fields::new()
            .add("height", self.height)
            .add("block id", self.id)
            .add("parent", self.parent)
            .add("round", self.round)
            .add("proposer", format!("v{}", self.proposer))
            .add("time", time(self.timestamp_ms))
            .add("payload root", self.payload_root)
            .add("state root", self.state_root)
            .add_some("result state", self.result_state_root)
            .add(
                "justify",
                format!(
                    "certifies {} (height {}, round {}), signed by {}",
                    justify.block_id,
                    justify.height,
                    justify.round,
                    signers(&justify.signers)
                ),
            )
            .add("transactions", self.txs.len())
            .render();
        if !self.txs.is_empty() {
            let mut table = Table::new(&["#", "HASH", "SENDER", "NONCE", "OP", "OUTCOME"]);
            for (index, tx) in self.txs.iter().enumerate() {
                table.row(vec![
                    index.to_string(),
                    tx.hash.to_string(),
                    short(&tx.sender.to_string()),
                    tx.nonce.to_string(),
                    op(&tx.op),
                    outcome(&tx.outcome),
                ]);
            }
            text.push('\n');
            text.push_str(&table.render());
        }
        text
    }
}

impl View for ValidatorsInfo {
    fn text(&self) -> String {
        let mut text = Fields::new()
            .add("chain id", self.chain_id)
            .add("validators", self.validators.len())
            .add("quorum", self.quorum)
            .render();
        let mut table = Table::new(&["ID", "NAME", "CONSENSUS KEY", "PEER ID", "ADDRESS"]);
        for validator in &self.validators {
            table.row(vec![
                format!("v{}", validator.id),
                validator.name.clone(),
                validator.consensus_key.to_string(),
                validator.peer_id.clone(),
                validator.address.clone(),
            ]);
        }
        text.push('\n');
        text.push_str(&table.render());
        text
    }
}

impl View for ConsensusStatus {
    fn text(&self) -> String {
        let ids = |list: &[u16]| {
            let named: Vec<String> = list.iter().map(|id| format!("v{id}")).collect();
            if named.is_empty() {
                "-".to_string()
            } else {
                named.join(" ")
            }
        };
        let ago = |ms: Option<u64>| ms.map_or_else(|| "-".to_string(), |ms| format!("{ms} ms ago"));
        let mut text = Fields::new()
            .add("diagnosis", &self.diagnosis)
            .add("validator", format!("v{}", self.validator))
            .add(
                "round",
                format!("{} (for {} ms)", self.round, self.round_age_ms),
            )
            .add(
                "leader",
                self.leader.as_ref().map_or_else(
                    || "not known yet".to_string(),
                    |l| format!("v{} {}", l.id, l.name),
                ),
            )
            .add("height", self.height)
            .add("last commit", ago(self.last_commit_age_ms))
            .add("high QC round", self.high_qc_round)
            .add("entered by timeout", self.entered_by_timeout)
            .add("timeouts in a row", self.consecutive_timeouts)
            .add("votes held", ids(&self.votes.have))
            .add("votes missing", ids(&self.votes.missing))
            .add("timeouts held", ids(&self.timeouts.have))
            .add("timeouts missing", ids(&self.timeouts.missing))
            .add("quorum", self.quorum)
            .add("recovering", self.recovering)
            .add("syncing", self.syncing)
            .render();
        let mut table = Table::new(&["ID", "NAME", "CONNECTED", "LAST FAULT", "WHEN"]);
        for peer in &self.peers {
            table.row(vec![
                format!("v{}", peer.id),
                peer.name.clone(),
                peer.connected.to_string(),
                peer.last_error.clone().unwrap_or_else(|| "-".to_string()),
                ago(peer.last_error_age_ms),
            ]);
        }
        text.push('\n');
        text.push_str(&table.render());
        text
    }
}

/// An account, or the fact that the chain does not know it (JSON `null`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountView {
    /// The key asked about.
    pub key: HexKey,
    /// Its state, if the chain knows it.
    pub account: Option<AccountInfo>,
}

impl Serialize for AccountView {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.account.serialize(serializer)
    }
}

impl View for AccountView {
    fn text(&self) -> String {
        let Some(account) = &self.account else {
            return format!("account {} is not known to the chain\n", self.key);
        };
        Fields::new()
            .add("account", account.key)
            .add(
                "role",
                account
                    .role
                    .map_or_else(|| "none".to_string(), |role| serde_name(&role)),
            )
            .add("balance", account.balance)
            .add("next nonce", account.nonce)
            .render()
    }
}

/// What a successful `verify` checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChainReport {
    /// Always true: a failed audit is an error.
    pub valid: bool,
    /// The node URL or data directory audited.
    pub source: String,
    /// Blocks checked.
    pub blocks: u64,
    /// Transactions covered by the checked payload roots.
    pub transactions: u64,
    /// Commit certificates checked.
    pub certificates: u64,
    /// The head's height.
    pub head_height: u64,
    /// The head's id.
    pub head_id: HexHash,
    /// What re-executing the chain covered (absent when the trust root had no genesis
    /// state).
    pub replay: Option<crate::replay::ReplayReport>,
}

impl View for ChainReport {
    fn text(&self) -> String {
        let mut text = String::from(
            "chain VALID: every block id, parent link, height, payload root, justify and \
             commit certificate checked against the genesis\n\n",
        );
        text.push_str(
            &Fields::new()
                .add("source", &self.source)
                .add("blocks", self.blocks)
                .add("transactions", self.transactions)
                .add("certificates", self.certificates)
                .add("head height", self.head_height)
                .add("head id", self.head_id)
                .render(),
        );
        if let Some(replay) = &self.replay {
            text.push_str(&format!(
                "\nre-executed from the genesis state: every client signature checked, every \
                 outcome, state hash and header state claim compared\n\n{}",
                Fields::new()
                    .add("transactions", replay.transactions)
                    .add("signatures", replay.signatures_checked)
                    .add("bad signatures", replay.bad_signatures)
                    .add("state claims", replay.state_claims_checked)
                    .add("state root", &replay.state_root)
                    .add("rate", format!("{:.0} tx/s", replay.tx_per_s))
                    .render()
            ));
        }
        text
    }
}

/// The column titles of `watch`.
pub(crate) fn watch_header() -> String {
    watch_line(["HEIGHT", "BLOCK ID", "ROUND", "TXS", "TIME"].map(String::from))
}

/// One `watch` line: a committed head, in the columns of [`watch_header`].
pub(crate) fn watch_row(head: &HeadInfo) -> String {
    watch_line([
        head.height.to_string(),
        head.block_id.to_string(),
        head.round.to_string(),
        head.tx_count.to_string(),
        time(head.timestamp_ms),
    ])
}

/// Fixed column widths, so that rows printed one at a time line up (a block id is
/// 66 characters).
fn watch_line(cells: [String; 5]) -> String {
    let [height, id, round, txs, time] = cells;
    format!("{height:<8}  {id:<66}  {round:<7}  {txs:<5}  {time}\n")
}

/// The first and last characters of a long value.
fn short(value: &str) -> String {
    if value.chars().count() <= 20 {
        return value.to_string();
    }
    let head: String = value.chars().take(10).collect();
    let tail: String = value.chars().skip(value.chars().count() - 6).collect();
    format!("{head}…{tail}")
}
