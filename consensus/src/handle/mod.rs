//! Event handlers, one file per kind of input (after raft-rs's advice to split by
//! message): proposals, votes, timeouts, certificates, payloads and fetched blocks.

mod certs;
mod fetch;
mod message;
mod proposal;
mod propose;
mod timeout;
mod vote;
