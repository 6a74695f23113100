//! One module per command group.

pub mod explorer;
pub mod genesis;
pub mod keys;
pub mod node;
pub mod testnet;
pub mod tx;
