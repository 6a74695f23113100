//! Byzantine behaviours for fault runs, in builds with the test-only cargo feature
//! `byzantine` (never the default binary). `CAIRN_BYZANTINE=<behaviour>` in a
//! validator's environment turns it Byzantine; a build without the feature refuses to
//! start with the variable set, so a test cannot believe it ran an attack it did not.
//!
//! * `silent`: sends no consensus message at all (a crashed validator that still
//!   holds its connections).
//! * `equivocate`: as leader, signs a second block for the round (the same parent and
//!   transactions, another timestamp) and sends both proposals to every validator, in
//!   opposite orders to alternate validators.
//! * `bad-signatures`: every proposal, vote and timeout it sends carries a broken
//!   signature.

use anyhow::Result;
use cairn_consensus::Message;
use cairn_crypto::SecretKey;
use cairn_types::ValidatorId;

/// The environment variable that names the behaviour.
pub const ENV: &str = "CAIRN_BYZANTINE";

#[cfg(feature = "byzantine")]
pub use on::Byzantine;

#[cfg(not(feature = "byzantine"))]
pub use off::Byzantine;

/// What to send for one outgoing consensus message: (recipient, message) pairs.
pub type Outgoing = Vec<(ValidatorId, Message)>;

#[cfg(not(feature = "byzantine"))]
mod off {
    use super::*;

    /// No behaviour exists in this build: the type has no values.
    pub enum Byzantine {}

    impl Byzantine {
        /// `None`, or an error if [`ENV`] asks for a behaviour this build lacks.
        pub fn from_env(key: &SecretKey) -> Result<Option<Byzantine>> {
            Byzantine::from_name(std::env::var(ENV).ok(), key)
        }

        /// As [`Byzantine::from_env`], for the value `name` of the variable.
        pub fn from_name(name: Option<String>, _key: &SecretKey) -> Result<Option<Byzantine>> {
            match name {
                Some(name) => anyhow::bail!(
                    "{ENV}={name}: this cairn was built without Byzantine behaviours \
                     (they exist only in builds with `--features byzantine`, for fault runs)"
                ),
                None => Ok(None),
            }
        }

        /// Never called: there is no value.
        pub fn rewrite(&mut self, _to: &[ValidatorId], _message: &Message) -> Outgoing {
            match *self {}
        }
    }
}

#[cfg(feature = "byzantine")]
mod on {
    use cairn_types::Proposal;

    use super::*;

    /// One behaviour, with the key it signs its forgeries with.
    pub struct Byzantine {
        behaviour: Behaviour,
        key: SecretKey,
    }

    #[derive(Clone, Copy, Debug)]
    enum Behaviour {
        Silent,
        Equivocate,
        BadSignatures,
    }

    impl Byzantine {
        /// The behaviour [`ENV`] names, if set; an error names the known ones.
        pub fn from_env(key: &SecretKey) -> Result<Option<Byzantine>> {
            Byzantine::from_name(std::env::var(ENV).ok(), key)
        }

        /// As [`Byzantine::from_env`], for the value `name` of the variable.
        pub fn from_name(name: Option<String>, key: &SecretKey) -> Result<Option<Byzantine>> {
            let Some(name) = name else {
                return Ok(None);
            };
            let behaviour = match name.as_str() {
                "silent" => Behaviour::Silent,
                "equivocate" => Behaviour::Equivocate,
                "bad-signatures" => Behaviour::BadSignatures,
                other => anyhow::bail!(
                    "{ENV}={other}: unknown behaviour; use silent, equivocate or bad-signatures"
                ),
            };
            tracing::warn!(
                ?behaviour,
                "BYZANTINE: this validator misbehaves on purpose"
            );
            Ok(Some(Byzantine {
                behaviour,
                key: SecretKey::from_seed(&key.seed()),
            }))
        }

        /// What to send instead of `message` to `to`.
        pub fn rewrite(&mut self, to: &[ValidatorId], message: &Message) -> Outgoing {
            match self.behaviour {
                Behaviour::Silent => Vec::new(),
                Behaviour::BadSignatures => {
                    let broken = break_signature(message.clone());
                    to.iter().map(|v| (*v, broken.clone())).collect()
                }
                Behaviour::Equivocate => match message {
                    Message::Proposal(proposal) => self.both(to, proposal),
                    _ => to.iter().map(|v| (*v, message.clone())).collect(),
                },
            }
        }

        /// The proposal and a sibling, to everyone, in alternating order.
        fn both(&self, to: &[ValidatorId], proposal: &Proposal) -> Outgoing {
            let mut block = proposal.block.clone();
            block.header.timestamp_ms = block.header.timestamp_ms.saturating_add(1);
            let sibling = Proposal::sign(block, proposal.timeout_cert.clone(), &self.key);
            let (a, b) = (
                Message::Proposal(proposal.clone()),
                Message::Proposal(sibling),
            );
            let mut out = Vec::with_capacity(2 * to.len());
            for (k, v) in to.iter().enumerate() {
                let (first, second) = if k % 2 == 0 { (&a, &b) } else { (&b, &a) };
                out.push((*v, first.clone()));
                out.push((*v, second.clone()));
            }
            out
        }
    }

    fn break_signature(message: Message) -> Message {
        match message {
            Message::Proposal(mut p) => {
                p.signature.0[0] ^= 1;
                Message::Proposal(p)
            }
            Message::Vote(mut v) => {
                v.signature.0[0] ^= 1;
                Message::Vote(v)
            }
            Message::Timeout(mut t) => {
                t.signature.0[0] ^= 1;
                Message::Timeout(t)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_means_honest() {
        let key = SecretKey::from_seed(&[1; 32]);
        assert!(Byzantine::from_name(None, &key).unwrap().is_none());
    }

    #[cfg(not(feature = "byzantine"))]
    #[test]
    fn a_build_without_the_feature_refuses_a_behaviour() {
        let key = SecretKey::from_seed(&[1; 32]);
        let error = Byzantine::from_name(Some("equivocate".into()), &key)
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
        for name in ["silent", "equivocate", "bad-signatures"] {
            assert!(
                Byzantine::from_name(Some(name.into()), &key)
                    .unwrap()
                    .is_some()
            );
        }
        let error = Byzantine::from_name(Some("nice".into()), &key)
            .err()
            .unwrap();
        assert!(error.to_string().contains("unknown behaviour"), "{error}");
    }
}
