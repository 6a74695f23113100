//! The wire and storage types of cairn, and how they are encoded.
//!
//! * [`Transaction`] with its [`Op`] (put, delete, transfer, grant role, revoke role);
//! * [`Block`] and [`BlockHeader`], chained by parent hash;
//! * consensus messages: [`Proposal`], [`Vote`], [`QuorumCert`], [`Timeout`], [`TimeoutCert`];
//! * [`Receipt`]s of execution;
//! * the [`ValidatorSet`] that certificates are checked against.
//!
//! Everything is SCALE-encoded (parity-scale-codec). Bytes from outside are decoded only
//! through [`Wire::from_wire`], which bounds sizes and vector lengths and refuses
//! trailing bytes. Messages are plain structs with a `verify` method that checks them
//! against the chain id and validator set. The exact bytes are in `docs/PROTOCOL.md`,
//! whose test vectors are checked by this crate's tests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod account;
#[cfg(any(test, feature = "arbitrary"))]
pub mod arbitrary;
mod batch;
mod block;
mod cert;
pub mod codec;
mod error;
mod ids;
pub mod limits;
mod receipt;
mod transaction;
mod validators;

pub use account::AccountState;
pub use batch::{Batch, BatchInfo, BatchVote, BatchedProposal, ProofOfAvailability};
pub use block::{
    Block, BlockHeader, Payload, Proposal, proposal_signing_bytes, verify_signed_header,
};
pub use cert::{
    QuorumCert, SignerEntry, Timeout, TimeoutCert, TimeoutEntry, Vote, VoteData,
    timeout_signing_bytes,
};
pub use codec::{BoundedBytes, BoundedVec, Wire};
pub use error::{Result, TypesError};
pub use ids::{ChainId, Height, Round, ValidatorId};
pub use receipt::{Outcome, Receipt, RejectReason};
pub use transaction::{Key, Op, Role, Transaction, TxPayload, Value};
pub use validators::ValidatorSet;
