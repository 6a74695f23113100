//! The JSON shapes of every method's parameters and results, shared by the server,
//! the [`crate::Client`] and the OpenRPC document.
//!
//! Binary values are `0x`-prefixed lowercase hex ([`Hex`], [`HexHash`], [`HexKey`]);
//! numbers are JSON numbers. Optional fields are left out when absent.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::block_ref::BlockRef;
use crate::hex::{Hex, HexHash, HexKey};
pub use crate::node_api::PeerStatus;

/// Result of `tx_submit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TxSubmitted {
    /// The transaction hash (blake3 of its encoding).
    pub hash: HexHash,
}

/// One transaction's answer in `tx_submitBatch`: its hash once decoded, and either
/// success (no `error`) or the error `tx_submit` would have answered for it alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TxSubmitResult {
    /// The transaction hash, when the bytes decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<HexHash>,
    /// Why it was refused; absent when the mempool accepted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TxRefusal>,
}

/// A refusal inside a batch: the JSON-RPC error object `tx_submit` would answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TxRefusal {
    /// The error code (docs/RPC.md).
    pub code: i32,
    /// What went wrong.
    pub message: String,
    /// Details, where the code has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

/// Where a transaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TxStatus {
    /// Neither the chain nor the mempool knows it.
    Unknown,
    /// Waiting in the mempool.
    Pending,
    /// In a committed block, and applied.
    Committed,
    /// In a committed block, but rejected by execution (see the receipt).
    Rejected,
    /// Dropped from the mempool without being committed (see `reason`).
    Evicted,
}

/// Result of `tx_get`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TxInfo {
    /// The transaction hash asked for.
    pub hash: HexHash,
    /// Where it stands.
    pub status: TxStatus,
    /// Height of the block that holds it (committed or rejected only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Its position in that block, from 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Id of that block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_id: Option<HexHash>,
    /// What executing it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<ReceiptInfo>,
    /// Why it was evicted from the mempool (evicted only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Whether execution applied a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeKind {
    /// It took effect.
    Applied,
    /// It had no effect.
    Rejected,
}

/// A transaction's receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReceiptInfo {
    /// Applied or rejected.
    pub outcome: OutcomeKind,
    /// Why it was rejected, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why it was rejected, as a stable code (`bad_nonce`, `insufficient_balance`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
}

/// Result of `tx_proof`: everything needed to check offline that a transaction is in
/// a committed block. All of it is raw SCALE, to be verified against `docs/PROTOCOL.md`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TxProof {
    /// The SCALE-encoded transaction (its blake3 is `tx_hash`).
    pub tx: Hex,
    /// The transaction hash: the Merkle leaf.
    pub tx_hash: HexHash,
    /// Height of the block that holds it.
    pub height: u64,
    /// Its position in that block: the leaf index.
    pub index: u32,
    /// Number of transactions in the block: the tree's leaf count.
    pub leaf_count: u64,
    /// The Merkle siblings from the leaf up to the root (`payload_root` of the header).
    pub siblings: Vec<HexHash>,
    /// SCALE-encoded headers from `height` up to `certificate_height`, in order; each
    /// names its predecessor by id.
    pub headers: Vec<Hex>,
    /// SCALE-encoded quorum certificate proving `certificate_height` committed.
    pub certificate: Hex,
    /// The height whose commit the certificate proves.
    pub certificate_height: u64,
}

/// Result of `chain_head`, and each notification of `chain_subscribeHeads`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HeadInfo {
    /// Block height (0: the implicit genesis block).
    pub height: u64,
    /// Block id (at height 0, the chain id).
    pub block_id: HexHash,
    /// The round it was proposed in (0 at genesis).
    pub round: u64,
    /// The proposer's timestamp in ms since the Unix epoch (the genesis time at 0).
    pub timestamp_ms: u64,
    /// Number of transactions in the block.
    pub tx_count: u32,
    /// The state hash after executing this block, as this node computed it (null if
    /// the node has not recorded one).
    pub state_root: Option<HexHash>,
}

/// A committed head, as sent by `chain_subscribeHeads`.
pub type HeadEvent = HeadInfo;

/// Result of `chain_getBlock`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BlockInfo {
    /// Block id: blake3 of the SCALE-encoded header.
    pub id: HexHash,
    /// Height.
    pub height: u64,
    /// Round it was proposed in.
    pub round: u64,
    /// Parent block id.
    pub parent: HexHash,
    /// Merkle root of the transaction hashes.
    pub payload_root: HexHash,
    /// The header's state claim: the height whose state it vouches for
    /// (docs/PROTOCOL.md §6).
    pub state_height: u64,
    /// The header's state claim: the state hash after `state_height`.
    pub state_root: HexHash,
    /// The state hash after executing this block, as this node computed it.
    pub result_state_root: Option<HexHash>,
    /// The proposing validator's id.
    pub proposer: u16,
    /// The proposer's timestamp in ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// The certificate of the parent that this block extends.
    pub justify: JustifyInfo,
    /// The transactions with their outcomes, in order.
    pub txs: Vec<BlockTx>,
    /// The whole SCALE-encoded block.
    pub encoded: Hex,
}

/// A committed block's transaction hashes and outcomes (`chain_getOutcomes`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BlockOutcomes {
    /// Block id.
    pub id: HexHash,
    /// Height.
    pub height: u64,
    /// Each transaction's hash and outcome, in block order.
    pub txs: Vec<TxOutcome>,
}

/// One transaction's hash and what executing it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TxOutcome {
    /// Its hash.
    pub hash: HexHash,
    /// What executing it did.
    pub outcome: ReceiptInfo,
}

/// A block's justify certificate, summarised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JustifyInfo {
    /// The certified block (the parent).
    pub block_id: HexHash,
    /// Its round.
    pub round: u64,
    /// Its height.
    pub height: u64,
    /// Ids of the validators that signed, ascending.
    pub signers: Vec<u16>,
}

/// One transaction of a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BlockTx {
    /// Its hash.
    pub hash: HexHash,
    /// The signing account.
    pub sender: HexKey,
    /// Its nonce.
    pub nonce: u64,
    /// What it does.
    pub op: OpInfo,
    /// What executing it did.
    pub outcome: ReceiptInfo,
}

/// A role, as in the genesis document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    /// May read.
    Reader,
    /// May put, delete and transfer.
    Writer,
    /// May also grant and revoke roles.
    Admin,
}

/// A transaction's operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OpInfo {
    /// Sets `key` to `value`.
    Put {
        /// The key.
        key: Hex,
        /// The value.
        value: Hex,
    },
    /// Removes `key`.
    Delete {
        /// The key.
        key: Hex,
    },
    /// Moves `amount` to `to`.
    Transfer {
        /// The receiving account.
        to: HexKey,
        /// The amount.
        amount: u64,
    },
    /// Gives `account` the role `role`.
    GrantRole {
        /// The account.
        account: HexKey,
        /// Its new role.
        role: RoleName,
    },
    /// Takes every role from `account`.
    RevokeRole {
        /// The account.
        account: HexKey,
    },
}

/// Result of `chain_getCommit`: the certificate proving a height committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommitInfo {
    /// The height asked for.
    pub height: u64,
    /// Id of the block at `height`.
    pub block_id: HexHash,
    /// Round of the block at `height`.
    pub round: u64,
    /// The height whose commit the certificate proves directly (≥ `height`; the
    /// headers between link `height` to it).
    pub certificate_height: u64,
    /// The SCALE-encoded quorum certificate.
    pub certificate: Hex,
    /// The block the certificate's quorum voted for (a child of `certificate_height`).
    pub certified_block_id: HexHash,
    /// That block's round.
    pub certified_round: u64,
    /// Ids of the validators that signed, ascending.
    pub signers: Vec<u16>,
}

/// Result of `state_get`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StateEntry {
    /// The key asked for.
    pub key: Hex,
    /// Its value, or null if unset.
    pub value: Option<Hex>,
    /// The committed height the value was read at.
    pub height: u64,
}

/// Result of `account_get` (null for an unknown account).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccountInfo {
    /// The account's public key.
    pub key: HexKey,
    /// Its role; null once revoked or for a receive-only account.
    pub role: Option<RoleName>,
    /// Its balance.
    pub balance: u64,
    /// The nonce its next transaction must carry.
    pub nonce: u64,
}

/// Result of `validators_list`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ValidatorsInfo {
    /// The chain id (genesis hash).
    pub chain_id: HexHash,
    /// Signatures a certificate needs.
    pub quorum: usize,
    /// The validators in id order.
    pub validators: Vec<ValidatorInfo>,
}

/// One validator from the genesis document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ValidatorInfo {
    /// Its id (position in the list).
    pub id: u16,
    /// Its name.
    pub name: String,
    /// Its consensus key.
    pub consensus_key: HexKey,
    /// Its libp2p peer id.
    pub peer_id: String,
    /// The multiaddr other validators dial.
    pub address: String,
}

/// Result of `system_health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HealthInfo {
    /// Connected to at least quorum − 1 peers and not syncing.
    pub healthy: bool,
    /// The committed height.
    pub height: u64,
    /// The consensus round.
    pub round: u64,
    /// Validators connected.
    pub connected_peers: usize,
    /// Transactions in the mempool.
    pub mempool_size: usize,
    /// Mempool capacity.
    pub mempool_capacity: usize,
    /// True while catching up.
    pub syncing: bool,
}

/// Result of `consensus_status`: where this validator stands in consensus, and, when
/// the chain is not progressing, why (docs/RPC.md "consensus_status").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsensusStatus {
    /// This validator's id.
    pub validator: u16,
    /// The consensus round it is in.
    pub round: u64,
    /// The round's leader, if this validator can name it yet (the leader rule may need
    /// a block it is still fetching).
    pub leader: Option<NamedValidator>,
    /// Milliseconds since it entered this round.
    pub round_age_ms: u64,
    /// Its committed height.
    pub height: u64,
    /// Milliseconds since it last committed a block, if it has since it started.
    pub last_commit_age_ms: Option<u64>,
    /// The round of the highest quorum certificate it holds.
    pub high_qc_round: u64,
    /// Whether the round was entered by a timeout certificate.
    pub entered_by_timeout: bool,
    /// Rounds ended by timeout in a row.
    pub consecutive_timeouts: u32,
    /// Votes for this round's block it holds (it collects them only if it leads the
    /// next round).
    pub votes: Signers,
    /// Timeouts for this round it holds (a quorum of them makes the round's timeout
    /// certificate).
    pub timeouts: Signers,
    /// The signatures a certificate needs.
    pub quorum: usize,
    /// True while it is recovering its safety state (it signs nothing).
    pub recovering: bool,
    /// True while it is fetching blocks it missed.
    pub syncing: bool,
    /// True if it has not committed for longer than the stall threshold.
    pub stalled: bool,
    /// The other validators, as its network sees them.
    pub peers: Vec<PeerReport>,
    /// One sentence: what it is doing, or what it is waiting for.
    pub diagnosis: String,
}

/// A validator id with its genesis name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NamedValidator {
    /// Its id.
    pub id: u16,
    /// Its name in the genesis document.
    pub name: String,
}

/// Which validators' signatures for a round a node holds, and which it lacks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Signers {
    /// Validators whose signature it holds.
    pub have: Vec<u16>,
    /// Validators whose signature it lacks (itself included, if it has not signed).
    pub missing: Vec<u16>,
}

/// One other validator in a stall report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PeerReport {
    /// Its id.
    pub id: u16,
    /// Its genesis name.
    pub name: String,
    /// True if a connection to it is up.
    pub connected: bool,
    /// The last fault this node saw from it (a message that failed verification, an
    /// undecodable frame, a bad block), if any since start.
    pub last_error: Option<String>,
    /// Milliseconds since that fault.
    pub last_error_age_ms: Option<u64>,
}

/// Result of `system_version`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VersionInfo {
    /// The node software's version.
    pub version: String,
    /// The protocol version (`docs/PROTOCOL.md`).
    pub protocol: u32,
    /// The chain's name from the genesis document.
    pub chain_name: String,
    /// The chain id.
    pub chain_id: HexHash,
}
