//! Event handlers, one file per kind of input (after raft-rs's advice to split by
//! message): proposals, votes, timeouts, certificates, payloads, fetched blocks, and
//! the status requests and answers of a validator recovering its safety state.

mod certs;
mod fetch;
mod message;
mod proposal;
mod propose;
mod status;
mod timeout;
mod vote;
