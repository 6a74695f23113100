//! The view of `tx`, with the verified proof of `tx --prove`.

use cairn_rpc::HexKey;
use cairn_rpc::types::{OpInfo, TxInfo};
use serde::Serialize;

use super::{Fields, View, op, outcome, serde_name, signers};
use crate::prove::ProvedTx;

/// A transaction's status, and with `--prove` what its verified proof established.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TxView {
    /// What the node says about the transaction.
    #[serde(flatten)]
    pub info: TxInfo,
    /// The verified proof, with `--prove`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof: Option<ProofView>,
}

/// A verified inclusion proof and the transaction it carried.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProofView {
    /// Always true: a proof that fails is an error.
    pub verified: bool,
    /// The signing account.
    pub sender: HexKey,
    /// Its nonce.
    pub nonce: u64,
    /// What it does.
    pub op: OpInfo,
    /// What the proof established.
    #[serde(flatten)]
    pub proved: ProvedTx,
}

impl ProofView {
    /// The view of a verified proof.
    pub fn new(proved: ProvedTx) -> ProofView {
        ProofView {
            verified: true,
            sender: HexKey(proved.tx.payload.sender),
            nonce: proved.tx.payload.nonce,
            op: (&proved.tx.payload.op).into(),
            proved,
        }
    }
}

impl View for TxView {
    fn text(&self) -> String {
        let info = &self.info;
        let mut fields = Fields::new()
            .add("hash", info.hash)
            .add("status", serde_name(&info.status))
            .add_some("height", info.height)
            .add_some("index", info.index)
            .add_some("block id", info.block_id)
            .add_some("outcome", info.receipt.as_ref().map(outcome))
            .add_some("reason", info.reason.as_ref());
        let Some(proof) = &self.proof else {
            return fields.render();
        };
        fields = fields
            .add(
                "proof",
                "VALID (checked against the genesis; nothing taken from the node on trust)",
            )
            .add("sender", proof.sender)
            .add("nonce", proof.nonce)
            .add("op", op(&proof.op));
        let mut text = fields.render();
        for check in checks(&proof.proved) {
            text.push_str(&format!("  ok  {check}\n"));
        }
        text
    }
}

/// What the verification established, one line per check.
fn checks(proved: &ProvedTx) -> [String; 4] {
    [
        format!("the transaction bytes hash to {}", proved.tx_hash),
        format!(
            "the Merkle path puts it at index {} under payload root {} of block {} (height {})",
            proved.index, proved.payload_root, proved.block_id, proved.height
        ),
        format!(
            "headers {}..={} are consecutive, of the genesis chain, each naming the one below \
             as parent",
            proved.height, proved.certificate_height
        ),
        format!(
            "a quorum of the genesis validators ({}) certified block {} (round {}), a child in \
             the next round of height {}: height {} is committed (2-chain rule), and with it \
             height {}",
            signers(&proved.signers),
            proved.certified_block_id,
            proved.certified_round,
            proved.certificate_height,
            proved.certificate_height,
            proved.height
        ),
    ]
}
