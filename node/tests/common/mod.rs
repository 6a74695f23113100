//! Shared test helpers.
#![allow(dead_code)]

pub mod cluster;
pub mod ledger;
