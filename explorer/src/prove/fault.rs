//! [`ProofFault`]: what can be wrong with an inclusion proof.

use cairn_crypto::Hash;
use cairn_types::{ChainId, Height, Round};

/// What is wrong with an inclusion proof: the first check that failed, with the values
/// compared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofFault {
    /// The proof is about another transaction than the one asked for.
    #[error("the proof is for transaction {stated}, not the one asked for")]
    OtherTransaction {
        /// The hash the proof states.
        stated: Hash,
    },
    /// The transaction bytes do not hash to the hash asked for.
    #[error("the transaction bytes hash to {computed}, not to the hash asked for")]
    TxHashMismatch {
        /// blake3 of the bytes sent.
        computed: Hash,
    },
    /// The transaction bytes are not a valid transaction.
    #[error("the transaction bytes do not decode: {reason}")]
    TxUndecodable {
        /// The decoder's reason.
        reason: String,
    },
    /// The proof carries no header.
    #[error("the proof carries no block header")]
    NoHeaders,
    /// A header does not decode.
    #[error("header {position} of the proof does not decode: {reason}")]
    HeaderUndecodable {
        /// Its position in the proof, from 0.
        position: usize,
        /// The decoder's reason.
        reason: String,
    },
    /// A header names another chain than the genesis.
    #[error("the header at height {height} names chain {found}, not the genesis chain")]
    WrongChain {
        /// Its height.
        height: Height,
        /// The chain it names.
        found: ChainId,
    },
    /// The headers do not start at the proof's height or are not consecutive.
    #[error("header {position} of the proof is at height {found}, expected {expected}")]
    HeaderHeight {
        /// Its position in the proof, from 0.
        position: usize,
        /// The height it should have.
        expected: Height,
        /// The height it has.
        found: Height,
    },
    /// A header does not name the previous header as its parent.
    #[error(
        "the header at height {height} names parent {found}, but the header below is {expected}"
    )]
    ParentLink {
        /// Its height.
        height: Height,
        /// The id of the header below.
        expected: Hash,
        /// The parent it names.
        found: Hash,
    },
    /// The Merkle path does not lead to the block's payload root.
    #[error(
        "the Merkle proof (leaf {index} of {leaf_count}) does not lead to payload root \
         {payload_root}: {reason}"
    )]
    NotInPayload {
        /// The leaf index the proof claims.
        index: u64,
        /// The leaf count the proof claims.
        leaf_count: u64,
        /// The first header's payload root.
        payload_root: Hash,
        /// Why the path fails.
        reason: String,
    },
    /// The proof's certificate height is not the last header's height.
    #[error(
        "the headers end at height {last_header}, but the certificate is said to be for {stated}"
    )]
    CertificateHeight {
        /// The certificate height the proof states.
        stated: Height,
        /// The last header's height.
        last_header: Height,
    },
    /// The certificate does not decode.
    #[error("the commit certificate does not decode: {reason}")]
    CertificateUndecodable {
        /// The decoder's reason.
        reason: String,
    },
    /// The certificate is not a valid quorum certificate of the genesis validators.
    #[error("the commit certificate is not signed by a quorum of the genesis validators: {reason}")]
    CertificateInvalid {
        /// Why.
        reason: String,
    },
    /// The certificate's parent is not the last header.
    #[error(
        "the commit certificate is for a child of block {certified_parent}, not of the last header {last_header}"
    )]
    CertificateForOtherBlock {
        /// The parent the certificate names.
        certified_parent: Hash,
        /// The last header's id.
        last_header: Hash,
    },
    /// The certificate names another round or height for its parent than the last
    /// header's.
    #[error(
        "the commit certificate names its parent at round {parent_round} and itself at height \
         {height}, but the last header is round {header_round}, height {header_height}"
    )]
    CertificateParentMismatch {
        /// The parent round the certificate names.
        parent_round: Round,
        /// The height the certificate names.
        height: Height,
        /// The last header's round.
        header_round: Round,
        /// The last header's height.
        header_height: Height,
    },
    /// The certificate's rounds are not consecutive: it proves no commit.
    #[error(
        "the commit certificate is for round {round} over parent round {parent_round}: not \
         consecutive, so it proves no commit (2-chain rule)"
    )]
    NotCommitting {
        /// The certificate's round.
        round: Round,
        /// Its parent round.
        parent_round: Round,
    },
}
