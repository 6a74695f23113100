//! The method handlers, one module per namespace group.

pub(crate) mod chain;
pub(crate) mod state;
pub(crate) mod system;
pub(crate) mod tx;
