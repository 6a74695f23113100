//! A deterministic simulator that attacks the consensus state machine (feature `sim`).
//!
//! A run is a [`Scenario`] plus a seed. Time is virtual (milliseconds in a `u64`);
//! events wait in one queue ordered by (time, sequence number); every random choice
//! comes from the simulator's own generator ([`Rng`]), split into independent streams
//! per concern; nothing iterates a hash map. So a seed replays a run exactly, forever.
//!
//! What a run contains:
//! * validators running the real [`crate::Consensus`] with real ed25519 signatures,
//!   driven by a simulated driver that performs their actions in order;
//! * a network model ([`NetworkConfig`]): random delays that reorder, drops and
//!   duplicates, partitions that heal; calm (no drops, bounded delay) after GST;
//! * a [`Workload`] of client transactions in bursts and idle gaps, and a mempool
//!   that answers the leaders' payload requests, waiting up to the heartbeat;
//! * crashes and restarts: a crashed validator loses everything but what it persisted
//!   (its last `PersistSafety` and committed chain) and restarts from that — or, wiped,
//!   from nothing (`SafetyData::recovering`), possibly right after it signed;
//! * in batched scenarios ([`Scenario::batched`]), the real batch machine of
//!   `cairn-batches` in every validator: transactions disseminated in batches,
//!   certified, proposed by proof and fetched when missing;
//! * up to f Byzantine validators ([`Behaviour`]) and Twins (two instances, one key);
//! * invariants ([`Violation`]) checked as the run goes and at its end.
//!
//! ```ignore
//! use cairn_consensus::sim::{Behaviour, Scenario};
//! Scenario::n(4)
//!     .byzantine(0, Behaviour::EquivocatingLeader)
//!     .crash(2).at(5_000).restart_at(9_000)
//!     .partition(&[&[0, 1], &[2, 3]]).heal_at(20_000)
//!     .drops(0.05)
//!     .run_until(60_000)
//!     .expect_commits(10)
//!     .run(7)
//!     .assert_ok();
//! ```

// The simulator is test tooling: it panics (with a message saying what is wrong) on
// an impossible setup or a failed assertion, rather than returning errors.
#![allow(clippy::expect_used, clippy::panic)]

mod batching;
mod byzantine;
mod craft;
mod driver;
mod events;
mod faults;
mod fetch;
mod finish;
mod invariants;
mod network;
mod node;
mod outcome;
mod payload;
mod queue;
mod rng;
mod scenario;
pub mod scenarios;
mod signatures;
mod sweep;
mod violation;
mod workload;
mod world;

pub use batching::BatchStats;
pub use byzantine::Behaviour;
pub use faults::{Crash, CrashAt, CrashBuilder, PartitionBuilder};
pub use network::{NetworkConfig, NetworkStats, Partition};
pub use outcome::{NodeReport, Outcome, RunStats};
pub use rng::Rng;
pub use scenario::{Scenario, sim_config};
pub use sweep::{Sweep, sweep, sweep_with};
pub use violation::Violation;
pub use workload::Workload;
