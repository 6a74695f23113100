//! Byzantine behaviours for fault runs, in builds with the test-only cargo feature
#![cfg_attr(not(feature = "byzantine"), allow(dead_code))]
//! `byzantine` (never the default binary). `CAIRN_BYZANTINE=<behaviour>` in a
//! validator's environment turns it Byzantine; a build without the feature refuses to
//! start with the variable set, so a test cannot believe it ran an attack it did not.
//! `cairn testnet up --byzantine 3:equivocate` and the fault runner's scenarios set it.
//!
//! * `silent`: sends no consensus message at all (a crashed validator that still
//!   holds its connections).
//! * `equivocate`: as leader, signs a second block for the round (the same parent and
//!   transactions, another timestamp) and sends both proposals to every validator, in
//!   opposite orders to alternate validators.
//! * `bad-signatures`: every proposal, vote and timeout it sends carries a broken
//!   signature.
//! * `double-vote`: every vote goes out together with a validly signed vote for
//!   another block of the same round, in alternating order.
//! * `inflated-timeouts`: with each vote and timeout it also sends timeouts that claim
//!   a high QC 1,000 rounds ahead (signed by it, the certificate forged) and timeouts
//!   for a round 1,000 ahead.
//! * `replay-flood`: with each message it resends its last 16 messages (valid
//!   signatures, old rounds).
//! * `bad-frames`: with each message it sends an undecodable consensus payload, an
//!   undecodable envelope, a message of an unknown kind and, every 8th time, a frame
//!   above the receiver's cap.
//! * `stop-reading`: never reads what peers send it (their streams stay open until
//!   their timeouts) while it keeps sending like an honest validator.
//! * `crafted-batches`: with each message it sends a batch of its own of 256
//!   transactions of genesis accounts with forged signatures, which cost every
//!   receiver a check before the batch is refused.

#[cfg(feature = "byzantine")]
mod on;

use cairn_consensus::Message;
use cairn_crypto::PublicKey;
use cairn_types::{ChainId, ValidatorId};

// The names are the fault tools' contract with the node: one list, in cairn-testnet.
pub use cairn_testnet::byzantine::ENV;
#[cfg(feature = "byzantine")]
pub use cairn_testnet::byzantine::{BEHAVIOURS, DORMANT_ENV};

#[cfg(feature = "byzantine")]
pub use on::{Byzantine, arm};

#[cfg(not(feature = "byzantine"))]
pub use off::Byzantine;

/// What a behaviour forges with: the chain, the accounts whose transactions it can
/// fake, and the network's message cap.
pub struct Context {
    /// The chain id signatures are bound to.
    pub chain: ChainId,
    /// This validator (the author of the batches it forges).
    pub me: ValidatorId,
    /// Genesis accounts (a forged transaction of a known sender costs a check).
    pub senders: Vec<PublicKey>,
    /// The receivers' message cap, in bytes.
    pub max_message_bytes: usize,
}

/// One thing to send.
pub enum Frame {
    /// A consensus message.
    Message(ValidatorId, Box<Message>),
    /// A payload of a message kind.
    Payload(ValidatorId, u8, Vec<u8>),
    /// Bytes sent as a frame as they are, without an envelope.
    #[cfg(feature = "byzantine")]
    Raw(ValidatorId, Vec<u8>),
}

/// What to send for one outgoing consensus message.
pub type Outgoing = Vec<Frame>;

#[cfg(not(feature = "byzantine"))]
mod off {
    use anyhow::Result;
    use cairn_crypto::SecretKey;

    use super::*;

    /// No behaviour exists in this build: the type has no values.
    pub enum Byzantine {}

    impl Byzantine {
        /// `None`, or an error if [`ENV`] asks for a behaviour this build lacks.
        pub fn from_env(key: &SecretKey, context: Context) -> Result<Option<Byzantine>> {
            Byzantine::from_name(std::env::var(ENV).ok(), key, context)
        }

        /// As [`Byzantine::from_env`], for the value `name` of the variable.
        pub fn from_name(
            name: Option<String>,
            _key: &SecretKey,
            _context: Context,
        ) -> Result<Option<Byzantine>> {
            match name {
                Some(name) => anyhow::bail!(
                    "{ENV}={name}: this cairn was built without Byzantine behaviours \
                     (they exist only in builds with `--features byzantine`, for fault runs)"
                ),
                None => Ok(None),
            }
        }

        /// Never called: there is no value.
        pub fn on_start(&mut self, _net: &cairn_network::NetworkHandle) {
            match *self {}
        }

        /// Never called: there is no value.
        pub fn rewrite(&mut self, _to: &[ValidatorId], _message: &Message) -> Outgoing {
            match *self {}
        }
    }
}

#[cfg(test)]
mod tests {
    use cairn_crypto::SecretKey;

    use super::*;

    fn context() -> Context {
        Context {
            chain: ChainId(cairn_crypto::Hash::from([1; 32])),
            me: ValidatorId(0),
            senders: vec![SecretKey::from_seed(&[2; 32]).public()],
            max_message_bytes: 1024,
        }
    }

    #[test]
    fn unset_means_honest() {
        let key = SecretKey::from_seed(&[1; 32]);
        assert!(
            Byzantine::from_name(None, &key, context())
                .unwrap()
                .is_none()
        );
    }

    #[cfg(not(feature = "byzantine"))]
    #[test]
    fn a_build_without_the_feature_refuses_a_behaviour() {
        let key = SecretKey::from_seed(&[1; 32]);
        let error = Byzantine::from_name(Some("equivocate".into()), &key, context())
            .err()
            .expect("refused");
        assert!(
            error.to_string().contains("--features byzantine"),
            "{error}"
        );
    }

    #[cfg(feature = "byzantine")]
    #[test]
    fn behaviours_parse_and_unknown_ones_are_named() {
        let key = SecretKey::from_seed(&[1; 32]);
        for name in BEHAVIOURS {
            assert!(
                Byzantine::from_name(Some(name.into()), &key, context())
                    .unwrap()
                    .is_some()
            );
        }
        let error = Byzantine::from_name(Some("nice".into()), &key, context())
            .err()
            .unwrap();
        assert!(error.to_string().contains("unknown behaviour"), "{error}");
    }
}
