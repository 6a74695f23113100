//! Placeholder being written by the genesis helper.
