//! Public keys already checked, remembered with their decompressed form.
//!
//! Checking a key's 32 bytes ([`crate::PublicKey::try_from_bytes`]) and preparing it
//! for a single verification each cost a point decompression (a field square root and
//! an inversion: microseconds), and a ledger meets the same accounts and validators
//! again and again — every transaction names its sender, every vote its voter. So a
//! key that passed is remembered here, and later decodings and verifications of it
//! are a table look-up.
//!
//! Only keys that passed are kept, so the cache never changes a verdict: a miss runs
//! the full check. It is bounded: two generations of [`GENERATION`] keys each; when
//! the current one is full it becomes the previous one and the oldest are forgotten
//! (a stranger cycling through fresh keys only costs itself the full checks).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use ed25519_zebra::VerificationKey;

/// Keys per generation (two are kept: at most about 2 × 16 Ki × 100 bytes).
pub(crate) const GENERATION: usize = 16 * 1024;

#[derive(Default)]
struct Generations {
    current: HashMap<[u8; 32], VerificationKey>,
    previous: HashMap<[u8; 32], VerificationKey>,
}

fn cache() -> MutexGuard<'static, Generations> {
    static CACHE: OnceLock<Mutex<Generations>> = OnceLock::new();
    // The map holds only checked keys, so a panic elsewhere leaves nothing to repair.
    CACHE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// The decompressed key of `bytes` if they passed the full check lately.
pub(crate) fn get(bytes: &[u8; 32]) -> Option<VerificationKey> {
    let mut cache = cache();
    if let Some(key) = cache.current.get(bytes) {
        return Some(*key);
    }
    // A key still in use moves to the current generation, so it outlives the old.
    let key = cache.previous.remove(bytes)?;
    insert_into(&mut cache, *bytes, key);
    Some(key)
}

/// Remembers that `bytes` passed the full check, with their decompressed key.
pub(crate) fn insert(bytes: [u8; 32], key: VerificationKey) {
    insert_into(&mut cache(), bytes, key);
}

fn insert_into(cache: &mut Generations, bytes: [u8; 32], key: VerificationKey) {
    if cache.current.len() >= GENERATION {
        cache.previous = std::mem::take(&mut cache.current);
    }
    cache.current.insert(bytes, key);
}

/// Keys remembered (both generations).
#[cfg(test)]
pub(crate) fn len() -> usize {
    let cache = cache();
    cache.current.len() + cache.previous.len()
}
