//! The table of every RPC method: names, parameters, result types and errors. The
//! server registers exactly these methods and `rpc.discover` describes them from the
//! same table (a test checks that the two agree).

use schemars::{JsonSchema, Schema, SchemaGenerator};

use crate::block_ref::BlockRef;
use crate::error::codes;
use crate::hex::{Hex, HexHash, HexKey};
use crate::node_api::PeerStatus;
use crate::types::{
    AccountInfo, BlockInfo, BlockOutcomes, CommitInfo, ConsensusStatus, HeadInfo, HealthInfo,
    StateEntry, TxInfo, TxProof, TxSubmitResult, TxSubmitted, ValidatorsInfo, VersionInfo,
};

/// `tx_submit`.
pub const TX_SUBMIT: &str = "tx_submit";
/// `tx_submitBatch`.
pub const TX_SUBMIT_BATCH: &str = "tx_submitBatch";
/// Most transactions in one `tx_submitBatch` call.
pub const MAX_SUBMIT_BATCH: usize = 1024;
/// `tx_get`.
pub const TX_GET: &str = "tx_get";
/// `tx_proof`.
pub const TX_PROOF: &str = "tx_proof";
/// `chain_head`.
pub const CHAIN_HEAD: &str = "chain_head";
/// `chain_getBlock`.
pub const CHAIN_GET_BLOCK: &str = "chain_getBlock";
/// `chain_getOutcomes`.
pub const CHAIN_GET_OUTCOMES: &str = "chain_getOutcomes";
/// `chain_getCommit`.
pub const CHAIN_GET_COMMIT: &str = "chain_getCommit";
/// `chain_subscribeHeads`.
pub const CHAIN_SUBSCRIBE_HEADS: &str = "chain_subscribeHeads";
/// `chain_unsubscribeHeads`.
pub const CHAIN_UNSUBSCRIBE_HEADS: &str = "chain_unsubscribeHeads";
/// The method name of `chain_subscribeHeads` notifications.
pub const CHAIN_HEAD_NOTIFICATION: &str = "chain_head";
/// `state_get`.
pub const STATE_GET: &str = "state_get";
/// `account_get`.
pub const ACCOUNT_GET: &str = "account_get";
/// `validators_list`.
pub const VALIDATORS_LIST: &str = "validators_list";
/// `system_health`.
pub const SYSTEM_HEALTH: &str = "system_health";
/// `system_peers`.
pub const SYSTEM_PEERS: &str = "system_peers";
/// `system_version`.
pub const SYSTEM_VERSION: &str = "system_version";
/// `consensus_status`.
pub const CONSENSUS_STATUS: &str = "consensus_status";
/// `rpc.discover`.
pub const RPC_DISCOVER: &str = "rpc.discover";

/// Builds the JSON Schema of a type (a `$ref` into the document's components).
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// The OpenRPC document is described by a link to the OpenRPC meta-schema.
fn openrpc_schema(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({
        "$ref": "https://raw.githubusercontent.com/open-rpc/meta-schema/master/schema.json"
    })
}

/// One parameter of a method.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    /// Its name (for by-name calls) and position in this list (for positional calls).
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// Whether it must be given.
    pub required: bool,
    /// Its schema.
    pub schema: SchemaFn,
}

/// Subscription details of a method that opens a subscription.
#[derive(Clone, Copy, Debug)]
pub struct SubscriptionSpec {
    /// The method that ends it.
    pub unsubscribe: &'static str,
    /// The method name of its notifications.
    pub notification: &'static str,
}

/// One RPC method.
#[derive(Clone, Copy, Debug)]
pub struct MethodSpec {
    /// Its name.
    pub name: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// Its parameters, in positional order.
    pub params: &'static [ParamSpec],
    /// The name of its result.
    pub result_name: &'static str,
    /// The schema of its result (for a subscription: of each notification).
    pub result: SchemaFn,
    /// The cairn error codes it may answer with (besides the JSON-RPC ones).
    pub errors: &'static [i32],
    /// Set for a subscription.
    pub subscription: Option<SubscriptionSpec>,
}

const fn param(name: &'static str, description: &'static str, schema: SchemaFn) -> ParamSpec {
    ParamSpec {
        name,
        description,
        required: true,
        schema,
    }
}

const fn method(
    name: &'static str,
    summary: &'static str,
    params: &'static [ParamSpec],
    result_name: &'static str,
    result: SchemaFn,
    errors: &'static [i32],
) -> MethodSpec {
    MethodSpec {
        name,
        summary,
        params,
        result_name,
        result,
        errors,
        subscription: None,
    }
}

const HASH: ParamSpec = param("hash", "The transaction hash.", schema::<HexHash>);

const SUBMIT_ERRORS: &[i32] = &[
    codes::TX_MALFORMED,
    codes::TX_TOO_LARGE,
    codes::TX_WRONG_CHAIN,
    codes::TX_BAD_SIGNATURE,
    codes::TX_UNKNOWN_SENDER,
    codes::TX_NOT_PERMITTED,
    codes::TX_STALE_NONCE,
    codes::TX_NONCE_TOO_FAR,
    codes::TX_NONCE_IN_USE,
    codes::TX_INSUFFICIENT_BALANCE,
    codes::MEMPOOL_FULL,
    codes::SHUTTING_DOWN,
    codes::INTERNAL,
];

/// Every method the server serves, in documentation order.
pub const METHODS: &[MethodSpec] = &[
    method(
        TX_SUBMIT,
        "Decodes a SCALE-encoded signed transaction and hands it to the mempool; answers once the mempool accepted it.",
        &[param(
            "tx",
            "The SCALE-encoded transaction (docs/PROTOCOL.md).",
            schema::<Hex>,
        )],
        "submitted",
        schema::<TxSubmitted>,
        SUBMIT_ERRORS,
    ),
    method(
        TX_SUBMIT_BATCH,
        "Submits many SCALE-encoded transactions in one call (at most 1024); answers with one result per transaction, in order: its hash, and the error tx_submit would give it alone, if refused.",
        &[param(
            "txs",
            "The SCALE-encoded transactions, in the order their results are wanted.",
            schema::<Vec<Hex>>,
        )],
        "results",
        schema::<Vec<TxSubmitResult>>,
        SUBMIT_ERRORS,
    ),
    method(
        TX_GET,
        "Where a transaction stands: unknown, pending, committed, rejected or evicted, with its block and receipt.",
        &[HASH],
        "transaction",
        schema::<TxInfo>,
        &[codes::INTERNAL],
    ),
    method(
        TX_PROOF,
        "A Merkle inclusion proof of a committed transaction, with the headers up to a commit certificate.",
        &[HASH],
        "proof",
        schema::<TxProof>,
        &[codes::NOT_FOUND, codes::INTERNAL],
    ),
    method(
        CHAIN_HEAD,
        "The committed head.",
        &[],
        "head",
        schema::<HeadInfo>,
        &[codes::INTERNAL],
    ),
    method(
        CHAIN_GET_BLOCK,
        "A committed block by height or id, with its transactions and their outcomes.",
        &[param(
            "at",
            "A block height (number) or block id (hex string).",
            schema::<BlockRef>,
        )],
        "block",
        schema::<BlockInfo>,
        &[codes::NOT_FOUND, codes::INTERNAL],
    ),
    method(
        CHAIN_GET_OUTCOMES,
        "A committed block's transaction hashes and their outcomes, without the transactions: what a client following its submissions needs.",
        &[param(
            "at",
            "A block height (number) or block id (hex string).",
            schema::<BlockRef>,
        )],
        "outcomes",
        schema::<BlockOutcomes>,
        &[codes::NOT_FOUND, codes::INTERNAL],
    ),
    method(
        CHAIN_GET_COMMIT,
        "The quorum certificate that proves a height committed.",
        &[param("height", "A committed height (≥ 1).", schema::<u64>)],
        "commit",
        schema::<CommitInfo>,
        &[codes::NOT_FOUND, codes::INTERNAL],
    ),
    MethodSpec {
        name: CHAIN_SUBSCRIBE_HEADS,
        summary: "Notifies every committed block, in height order, never skipping one: first the stored ones from `from`, then each new one.",
        params: &[ParamSpec {
            name: "from",
            description: "First height to send (default: the next block to commit).",
            required: false,
            schema: schema::<u64>,
        }],
        result_name: "head",
        result: schema::<HeadInfo>,
        errors: &[codes::SUBSCRIBER_TOO_SLOW, codes::INTERNAL],
        subscription: Some(SubscriptionSpec {
            unsubscribe: CHAIN_UNSUBSCRIBE_HEADS,
            notification: CHAIN_HEAD_NOTIFICATION,
        }),
    },
    method(
        STATE_GET,
        "The value stored under a state key at the committed head.",
        &[param("key", "The state key.", schema::<Hex>)],
        "entry",
        schema::<StateEntry>,
        &[codes::INTERNAL],
    ),
    method(
        ACCOUNT_GET,
        "An account's role, balance and next nonce; null for an unknown account.",
        &[param("key", "The account's public key.", schema::<HexKey>)],
        "account",
        schema::<Option<AccountInfo>>,
        &[codes::INTERNAL],
    ),
    method(
        VALIDATORS_LIST,
        "The genesis validator set.",
        &[],
        "validators",
        schema::<ValidatorsInfo>,
        &[],
    ),
    method(
        SYSTEM_HEALTH,
        "Whether the node is connected to enough peers and caught up.",
        &[],
        "health",
        schema::<HealthInfo>,
        &[codes::INTERNAL],
    ),
    method(
        SYSTEM_PEERS,
        "Every validator with its connection state.",
        &[],
        "peers",
        schema::<Vec<PeerStatus>>,
        &[],
    ),
    method(
        CONSENSUS_STATUS,
        "This validator's round, leader, votes and timeouts held and missing, peers and their last faults, and why the chain is not progressing if it is not.",
        &[],
        "status",
        schema::<ConsensusStatus>,
        &[codes::NO_CONSENSUS],
    ),
    method(
        SYSTEM_VERSION,
        "Software and protocol version, chain name and id.",
        &[],
        "version",
        schema::<VersionInfo>,
        &[],
    ),
    method(
        RPC_DISCOVER,
        "This API as an OpenRPC 1.2.6 document.",
        &[],
        "openrpc",
        openrpc_schema,
        &[],
    ),
];

/// The table entry of `name`.
pub fn spec(name: &str) -> Option<&'static MethodSpec> {
    METHODS.iter().find(|m| m.name == name)
}

/// Every method name the server registers: the table's, plus each subscription's
/// unsubscribe method.
pub fn registered_names() -> impl Iterator<Item = &'static str> {
    METHODS
        .iter()
        .flat_map(|m| std::iter::once(m.name).chain(m.subscription.map(|s| s.unsubscribe)))
}
