//! `tx --prove`: checks a node's inclusion proof of a transaction against nothing but
//! the genesis (docs/PROTOCOL.md §5–7).
//!
//! 1. The transaction bytes hash (blake3) to the hash asked for, and decode strictly.
//! 2. The headers decode, name the genesis chain, start at the proof's height, and are
//!    consecutive, each naming the previous one's id as `parent`.
//! 3. The Merkle path leads from the transaction hash, at the proof's index, to the
//!    first header's `payload_root`.
//! 4. The certificate is a valid quorum certificate of the genesis validators whose
//!    `parent_id` is the last header's id, `parent_round` its round, `height` its
//!    height + 1 and `round = parent_round + 1`: the 2-chain commit rule (§7, "Commit
//!    evidence"), so the last header is committed and, through the parent links, so is
//!    the transaction's block.

use cairn_crypto::{Hash, MerkleProof};
use cairn_rpc::HexHash;
use cairn_rpc::types::TxProof;
use cairn_types::{BlockHeader, ChainId, Height, QuorumCert, Round, Transaction, Wire};
use serde::Serialize;

use crate::TrustRoot;

mod fault;

pub use fault::ProofFault;

/// What a verified proof establishes: the transaction is at `index` of the block
/// `block_id` at `height`, and that block is committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProvedTx {
    /// The transaction.
    #[serde(skip)]
    pub tx: Transaction,
    /// Its hash.
    pub tx_hash: HexHash,
    /// The height of its block.
    pub height: Height,
    /// Its position in the block.
    pub index: u64,
    /// Its block's id.
    pub block_id: HexHash,
    /// Its block's payload root.
    pub payload_root: HexHash,
    /// The height the certificate proves committed (≥ `height`).
    pub certificate_height: Height,
    /// The block the certificate's quorum voted for (a child of `certificate_height`).
    pub certified_block_id: HexHash,
    /// Its round.
    pub certified_round: Round,
    /// The validators that signed the certificate.
    pub signers: Vec<u16>,
}

/// Verifies `proof` of transaction `requested` against `trust` alone.
pub fn verify_tx_proof(
    proof: &TxProof,
    requested: &Hash,
    trust: &TrustRoot,
) -> Result<ProvedTx, ProofFault> {
    let tx = check_transaction(proof, requested)?;
    let headers = check_headers(proof, &trust.chain)?;
    let (Some(first), Some(last)) = (headers.first(), headers.last()) else {
        return Err(ProofFault::NoHeaders);
    };
    let merkle = MerkleProof {
        index: u64::from(proof.index),
        leaf_count: proof.leaf_count,
        siblings: proof.siblings.iter().map(|s| s.0).collect(),
    };
    merkle
        .verify(requested, &first.payload_root)
        .map_err(|e| ProofFault::NotInPayload {
            index: merkle.index,
            leaf_count: merkle.leaf_count,
            payload_root: first.payload_root,
            reason: e.to_string(),
        })?;
    if proof.certificate_height != last.height {
        return Err(ProofFault::CertificateHeight {
            stated: proof.certificate_height,
            last_header: last.height,
        });
    }
    let certificate = check_certificate(&proof.certificate.0, last, trust)?;
    Ok(ProvedTx {
        tx,
        tx_hash: HexHash(*requested),
        height: first.height,
        index: merkle.index,
        block_id: HexHash(first.id()),
        payload_root: HexHash(first.payload_root),
        certificate_height: last.height,
        certified_block_id: HexHash(certificate.block_id()),
        certified_round: certificate.round(),
        signers: certificate.signatures.iter().map(|(id, _)| id.0).collect(),
    })
}

fn check_transaction(proof: &TxProof, requested: &Hash) -> Result<Transaction, ProofFault> {
    if proof.tx_hash.0 != *requested {
        return Err(ProofFault::OtherTransaction {
            stated: proof.tx_hash.0,
        });
    }
    let computed = Hash::digest(&proof.tx.0);
    if computed != *requested {
        return Err(ProofFault::TxHashMismatch { computed });
    }
    Transaction::from_wire(&proof.tx.0).map_err(|e| ProofFault::TxUndecodable {
        reason: e.to_string(),
    })
}

/// Decodes the headers and checks they are consecutive, linked and of this chain.
fn check_headers(proof: &TxProof, chain: &ChainId) -> Result<Vec<BlockHeader>, ProofFault> {
    let mut headers: Vec<BlockHeader> = Vec::with_capacity(proof.headers.len());
    for (position, bytes) in proof.headers.iter().enumerate() {
        let header =
            BlockHeader::from_wire(&bytes.0).map_err(|e| ProofFault::HeaderUndecodable {
                position,
                reason: e.to_string(),
            })?;
        let expected = proof.height.saturating_add(position as u64);
        if header.height != expected {
            return Err(ProofFault::HeaderHeight {
                position,
                expected,
                found: header.height,
            });
        }
        if header.chain_id != *chain {
            return Err(ProofFault::WrongChain {
                height: header.height,
                found: header.chain_id,
            });
        }
        if let Some(below) = headers.last() {
            let expected = below.id();
            if header.parent != expected {
                return Err(ProofFault::ParentLink {
                    height: header.height,
                    expected,
                    found: header.parent,
                });
            }
        }
        headers.push(header);
    }
    if headers.is_empty() {
        return Err(ProofFault::NoHeaders);
    }
    Ok(headers)
}

/// The certificate must be a valid QC of the genesis validators proving `last` committed.
fn check_certificate(
    bytes: &[u8],
    last: &BlockHeader,
    trust: &TrustRoot,
) -> Result<QuorumCert, ProofFault> {
    let certificate =
        QuorumCert::from_wire(bytes).map_err(|e| ProofFault::CertificateUndecodable {
            reason: e.to_string(),
        })?;
    let data = certificate.data;
    let last_id = last.id();
    if data.parent_id != last_id {
        return Err(ProofFault::CertificateForOtherBlock {
            certified_parent: data.parent_id,
            last_header: last_id,
        });
    }
    if data.parent_round != last.round || data.height != last.height.saturating_add(1) {
        return Err(ProofFault::CertificateParentMismatch {
            parent_round: data.parent_round,
            height: data.height,
            header_round: last.round,
            header_height: last.height,
        });
    }
    if data.parent_round.checked_add(1) != Some(data.round) {
        return Err(ProofFault::NotCommitting {
            round: data.round,
            parent_round: data.parent_round,
        });
    }
    certificate
        .verify(&trust.chain, &trust.validators)
        .map_err(|e| ProofFault::CertificateInvalid {
            reason: e.to_string(),
        })?;
    Ok(certificate)
}
