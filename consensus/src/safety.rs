//! The safety rules: what a validator must remember, and when it may sign.
//!
//! Everything here is checked *before* signing, and the state it updates is handed to
//! the driver to persist (synced) *before* the signed message leaves the node. After a
//! restart the validator resumes from the persisted [`SafetyData`], so it never signs
//! two different votes, timeouts or proposals for one round, even across `kill -9`.

use cairn_types::{ChainId, QuorumCert, Round, Timeout, TimeoutCert, Vote};
use parity_scale_codec::{Decode, Encode};

/// What a validator persists so that it never equivocates.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SafetyData {
    /// Highest round in which this validator voted or timed out. It never votes in a
    /// round at or below this one (except to re-send `last_vote`).
    pub highest_voted_round: Round,
    /// Highest round in which this validator proposed; it never proposes again in a
    /// round at or below it.
    pub highest_proposed_round: Round,
    /// The highest quorum certificate seen. Timeouts carry it, and proposals extend it.
    pub high_qc: QuorumCert,
    /// The last vote signed, re-sent unchanged if the same proposal is seen again.
    pub last_vote: Option<Vote>,
    /// The last timeout signed, re-broadcast unchanged while its round lasts.
    pub last_timeout: Option<Timeout>,
    /// The highest timeout certificate seen. With `high_qc` it justifies the round this
    /// validator is in — a round follows a QC or a TC — so that after a restart it may
    /// still time out in that round, and can show other validators how it got there.
    pub high_tc: Option<TimeoutCert>,
    /// This validator may have signed messages it no longer remembers (it started
    /// without its safety state, or found its own signature in a certificate above
    /// `highest_voted_round`). While set it signs nothing — no vote, timeout or
    /// proposal — and asks the others for their highest certificates; once enough
    /// have answered it raises `highest_voted_round` and `highest_proposed_round`
    /// past every round it could have signed in, drops `last_vote` and
    /// `last_timeout`, and clears the flag (docs/PROTOCOL.md, "Re-entry without
    /// safety state").
    pub recovering: bool,
}

impl SafetyData {
    /// The state of a validator that has signed nothing on chain `chain`.
    pub fn genesis(chain: &ChainId) -> SafetyData {
        SafetyData {
            highest_voted_round: 0,
            highest_proposed_round: 0,
            high_qc: QuorumCert::genesis(chain),
            last_vote: None,
            last_timeout: None,
            high_tc: None,
            recovering: false,
        }
    }

    /// The state of a validator that has run on chain `chain` before but lost its
    /// safety state (an empty or replaced data directory): the genesis state, marked
    /// recovering, so it signs nothing until other validators have told it how far the
    /// chain got. The driver uses it when the store holds no safety state but shows
    /// that the node has run before.
    pub fn recovering(chain: &ChainId) -> SafetyData {
        SafetyData {
            recovering: true,
            ..SafetyData::genesis(chain)
        }
    }

    /// The round this state justifies entering: the one after the high QC or after the
    /// high TC, whichever is later.
    pub fn justified_round(&self) -> Round {
        let after_qc = self.high_qc.round().saturating_add(1);
        let after_tc = self
            .high_tc
            .as_ref()
            .map_or(0, |tc| tc.round.saturating_add(1));
        after_qc.max(after_tc)
    }
}

/// Why the safety rules refuse to sign. Each variant carries the values compared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SafetyError {
    /// Already voted or timed out in this round or a later one.
    #[error("round {round} is not above the highest voted round {highest_voted_round}")]
    AlreadyVoted {
        /// The round asked for.
        round: Round,
        /// The highest round voted or timed out in.
        highest_voted_round: Round,
    },
    /// The block's round does not follow its QC, and no timeout certificate for the
    /// previous round justifies the gap.
    #[error("round {round} neither follows QC round {qc_round} nor a timeout certificate for round {}", round.saturating_sub(1))]
    NotJustified {
        /// The block's round.
        round: Round,
        /// Its QC's round.
        qc_round: Round,
    },
    /// After a timeout certificate, the block's QC must be at least as high as every
    /// QC the timed-out validators reported, or it could fork away from a locked block.
    #[error(
        "QC round {qc_round} is below the highest QC round {tc_high_qc_round} in the timeout certificate"
    )]
    QcBelowTimeoutCert {
        /// The block's QC round.
        qc_round: Round,
        /// The highest QC round reported in the timeout certificate.
        tc_high_qc_round: Round,
    },
    /// Timing out in a round below one already voted in, or in the highest voted round
    /// itself without a vote of this validator there (after a recovery that round is
    /// barred: it may hold a forgotten signature).
    #[error("cannot time out in round {round}: already voted in round {highest_voted_round}")]
    TimeoutBelowVoted {
        /// The round asked for.
        round: Round,
        /// The highest round voted or timed out in.
        highest_voted_round: Round,
    },
    /// A timeout must carry the highest QC seen: reporting a lower one could let the
    /// next leader extend a block below one a quorum may have locked on.
    #[error(
        "a timeout carrying QC round {qc_round} is below the highest QC round {high_qc_round} seen"
    )]
    TimeoutQcBelowHighest {
        /// The round of the QC the timeout would carry.
        qc_round: Round,
        /// The highest QC round seen.
        high_qc_round: Round,
    },
    /// A round is timed out in only if it follows the carried QC or a TC of the
    /// previous round.
    #[error(
        "cannot time out in round {round}: it follows neither QC round {qc_round} nor a timeout certificate of the previous round (TC round {tc_round:?})"
    )]
    TimeoutNotJustified {
        /// The round asked for.
        round: Round,
        /// The round of the QC the timeout would carry.
        qc_round: Round,
        /// The round of the TC it would carry, if any.
        tc_round: Option<Round>,
    },
    /// Already proposed in this round or a later one.
    #[error("round {round} is not above the highest proposed round {highest_proposed_round}")]
    AlreadyProposed {
        /// The round asked for.
        round: Round,
        /// The highest round proposed in.
        highest_proposed_round: Round,
    },
    /// The validator is recovering its safety state (`SafetyData::recovering`): it
    /// may have signed in this round before, so it signs nothing until enough other
    /// validators have reported their highest certificates.
    #[error(
        "recovering the safety state: signs nothing in round {round} until enough validators have reported their highest certificates"
    )]
    Recovering {
        /// The round asked for.
        round: Round,
    },
}

/// Rule switches for the simulator's self-test: each breaks one safety rule so the
/// simulator can show it catches the resulting violation. Never used by the node.
#[cfg(feature = "unsafe-test-variants")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnsafeVariant {
    /// Skip the `round > highest_voted_round` check when voting.
    pub skip_voted_round_check: bool,
    /// Ignore the recovering flag: a validator that lost its safety state signs at
    /// once from the genesis state, and never switches to recovering on finding its
    /// own signature above its highest voted round.
    pub skip_recovery: bool,
}

impl SafetyData {
    /// May this validator vote for a block of round `round` whose QC has round
    /// `qc_round`, entered after timeout certificate `tc` (if any)? The rules:
    ///
    /// 0. not `recovering` — it may have voted in this round already;
    /// 1. `round > highest_voted_round` — one vote per round, never a vote in a round
    ///    already timed out in;
    /// 2. `round == qc_round + 1` — the block directly extends a certified parent; or
    /// 3. `round == tc.round + 1` and `qc_round >= tc.high_qc.round` — after a failed
    ///    round, the block extends a QC at least as high as any that a quorum might
    ///    have locked on. The TC carries the QC of the highest round its signers
    ///    reported and is valid only if that QC verifies, so a signer cannot raise the
    ///    bar with a round it has no QC for.
    pub fn check_vote(
        &self,
        round: Round,
        qc_round: Round,
        tc: Option<&TimeoutCert>,
    ) -> Result<(), SafetyError> {
        self.check_not_recovering(round)?;
        if round <= self.highest_voted_round {
            return Err(SafetyError::AlreadyVoted {
                round,
                highest_voted_round: self.highest_voted_round,
            });
        }
        self.check_justified(round, qc_round, tc)
    }

    /// Rules 2 and 3 of [`Self::check_vote`].
    pub(crate) fn check_justified(
        &self,
        round: Round,
        qc_round: Round,
        tc: Option<&TimeoutCert>,
    ) -> Result<(), SafetyError> {
        if qc_round.checked_add(1) == Some(round) {
            return Ok(());
        }
        match tc {
            Some(tc) if tc.round.checked_add(1) == Some(round) => {
                let tc_high_qc_round = tc.high_qc.round();
                if qc_round >= tc_high_qc_round {
                    Ok(())
                } else {
                    Err(SafetyError::QcBelowTimeoutCert {
                        qc_round,
                        tc_high_qc_round,
                    })
                }
            }
            _ => Err(SafetyError::NotJustified { round, qc_round }),
        }
    }

    /// May this validator time out in `round`, carrying a QC of round `qc_round` and
    /// the TC `tc` (if any)? The rules:
    ///
    /// 0. not `recovering`;
    /// 1. `round > highest_voted_round`, or `round == highest_voted_round` and
    ///    `last_vote` is in that round — a validator may time out in the round it
    ///    voted in (its own timeout there, if it has one, is re-sent, never signed
    ///    again), but never go back to an earlier round, nor time out in a highest
    ///    voted round it holds no vote for: after a recovery that round is barred;
    /// 2. `qc_round >= high_qc.round` — the timeout reports the highest QC seen, so a
    ///    TC never hides a QC a quorum may be locked on;
    /// 3. `round == qc_round + 1`, or `round == tc.round + 1` — the round follows a QC
    ///    or a TC. Both live in this state ([`SafetyData::high_qc`],
    ///    [`SafetyData::high_tc`]) and are persisted before the timeout leaves, so the
    ///    rule holds after a restart too.
    pub fn check_timeout(
        &self,
        round: Round,
        qc_round: Round,
        tc: Option<&TimeoutCert>,
    ) -> Result<(), SafetyError> {
        self.check_not_recovering(round)?;
        let voted_here = self
            .last_vote
            .as_ref()
            .is_some_and(|v| v.data.round == round);
        if round < self.highest_voted_round || (round == self.highest_voted_round && !voted_here) {
            return Err(SafetyError::TimeoutBelowVoted {
                round,
                highest_voted_round: self.highest_voted_round,
            });
        }
        if qc_round < self.high_qc.round() {
            return Err(SafetyError::TimeoutQcBelowHighest {
                qc_round,
                high_qc_round: self.high_qc.round(),
            });
        }
        let tc_round = tc.map(|tc| tc.round);
        let follows = |r: Round| r.checked_add(1) == Some(round);
        if follows(qc_round) || tc_round.is_some_and(follows) {
            Ok(())
        } else {
            Err(SafetyError::TimeoutNotJustified {
                round,
                qc_round,
                tc_round,
            })
        }
    }

    /// May this validator propose in `round`? Only once per round, ever, and never
    /// while `recovering`.
    pub fn check_propose(&self, round: Round) -> Result<(), SafetyError> {
        self.check_not_recovering(round)?;
        if round <= self.highest_proposed_round {
            return Err(SafetyError::AlreadyProposed {
                round,
                highest_proposed_round: self.highest_proposed_round,
            });
        }
        Ok(())
    }

    /// Rule 0 of every check: a recovering validator signs nothing.
    fn check_not_recovering(&self, round: Round) -> Result<(), SafetyError> {
        if self.recovering {
            Err(SafetyError::Recovering { round })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_crypto::{Hash, Signature};
    use cairn_types::{BoundedVec, TimeoutEntry, ValidatorId};

    fn state(voted: Round) -> SafetyData {
        SafetyData {
            highest_voted_round: voted,
            ..SafetyData::genesis(&ChainId(Hash::ZERO))
        }
    }

    fn qc(round: Round) -> QuorumCert {
        let mut qc = QuorumCert::genesis(&ChainId(Hash::ZERO));
        qc.data.round = round;
        qc
    }

    /// A TC (unsigned: only rounds matter here) carrying a QC of the highest round.
    fn tc(round: Round, high_qc_rounds: &[Round]) -> TimeoutCert {
        TimeoutCert {
            round,
            high_qc: Box::new(qc(high_qc_rounds.iter().copied().max().unwrap_or(0))),
            entries: BoundedVec::new(
                high_qc_rounds
                    .iter()
                    .enumerate()
                    .map(|(i, &r)| TimeoutEntry {
                        signer: ValidatorId(i as u16),
                        high_qc_round: r,
                        signature: Signature([0; 64]),
                    })
                    .collect(),
            )
            .unwrap(),
        }
    }

    #[test]
    fn votes_once_per_round() {
        assert!(state(4).check_vote(5, 4, None).is_ok());
        assert_eq!(
            state(5).check_vote(5, 4, None),
            Err(SafetyError::AlreadyVoted {
                round: 5,
                highest_voted_round: 5
            })
        );
        assert!(state(6).check_vote(5, 4, None).is_err());
    }

    #[test]
    fn a_gap_needs_a_timeout_cert_for_the_previous_round() {
        assert_eq!(
            state(0).check_vote(7, 4, None),
            Err(SafetyError::NotJustified {
                round: 7,
                qc_round: 4
            })
        );
        assert!(state(0).check_vote(7, 4, Some(&tc(6, &[4, 3, 2]))).is_ok());
        // A TC for the wrong round does not help.
        assert!(state(0).check_vote(7, 4, Some(&tc(5, &[4, 3, 2]))).is_err());
    }

    #[test]
    fn after_a_timeout_cert_the_qc_must_be_as_high_as_any_reported() {
        assert_eq!(
            state(0).check_vote(7, 4, Some(&tc(6, &[4, 5, 2]))),
            Err(SafetyError::QcBelowTimeoutCert {
                qc_round: 4,
                tc_high_qc_round: 5
            })
        );
    }

    /// A state that voted in `voted` and holds a QC of round `qc_round` and the TC of
    /// round `tc_round`.
    fn holding(voted: Round, qc_round: Round, tc_round: Option<Round>) -> SafetyData {
        SafetyData {
            high_qc: qc(qc_round),
            high_tc: tc_round.map(|r| tc(r, &[qc_round])),
            ..state(voted)
        }
    }

    /// An (unsigned) vote of this validator in `round`.
    fn vote(round: Round) -> Vote {
        Vote {
            data: cairn_types::VoteData {
                block_id: Hash::ZERO,
                round,
                height: 1,
                parent_id: Hash::ZERO,
                parent_round: round - 1,
            },
            voter: ValidatorId(0),
            signature: Signature([0; 64]),
        }
    }

    #[test]
    fn timeouts_never_go_back() {
        let s = SafetyData {
            last_vote: Some(vote(5)),
            ..holding(5, 4, Some(5))
        };
        assert!(s.check_timeout(5, 4, None).is_ok());
        assert!(s.check_timeout(6, 4, s.high_tc.as_ref()).is_ok());
        assert_eq!(
            s.check_timeout(4, 3, None),
            Err(SafetyError::TimeoutBelowVoted {
                round: 4,
                highest_voted_round: 5
            })
        );
    }

    #[test]
    fn a_timeout_carries_the_highest_qc_seen() {
        let s = holding(0, 6, None);
        assert!(s.check_timeout(7, 6, None).is_ok());
        assert_eq!(
            s.check_timeout(7, 5, Some(&tc(6, &[5]))),
            Err(SafetyError::TimeoutQcBelowHighest {
                qc_round: 5,
                high_qc_round: 6
            })
        );
    }

    #[test]
    fn a_timeout_round_follows_its_qc_or_a_tc_of_the_previous_round() {
        let s = holding(0, 4, Some(6));
        assert!(s.check_timeout(5, 4, None).is_ok());
        assert!(s.check_timeout(7, 4, s.high_tc.as_ref()).is_ok());
        assert_eq!(
            s.check_timeout(7, 4, None),
            Err(SafetyError::TimeoutNotJustified {
                round: 7,
                qc_round: 4,
                tc_round: None
            })
        );
        // A TC of another round justifies nothing.
        assert_eq!(
            s.check_timeout(8, 4, s.high_tc.as_ref()),
            Err(SafetyError::TimeoutNotJustified {
                round: 8,
                qc_round: 4,
                tc_round: Some(6)
            })
        );
    }

    #[test]
    fn what_is_persisted_justifies_the_round_after_a_restart() {
        assert_eq!(holding(0, 4, None).justified_round(), 5);
        assert_eq!(holding(7, 4, Some(6)).justified_round(), 7);
        assert_eq!(holding(7, 8, Some(6)).justified_round(), 9);
    }

    #[test]
    fn no_timeout_in_the_highest_voted_round_without_a_vote_there() {
        // After a recovery the highest voted round is barred: no vote of its own there.
        let s = holding(5, 4, None);
        assert_eq!(
            s.check_timeout(5, 4, None),
            Err(SafetyError::TimeoutBelowVoted {
                round: 5,
                highest_voted_round: 5
            })
        );
        // The last vote is of an earlier round: still barred.
        let s = SafetyData {
            last_vote: Some(vote(4)),
            ..s
        };
        assert!(s.check_timeout(5, 4, None).is_err());
        // The round after it is open.
        assert!(s.check_timeout(6, 5, None).is_ok());
    }

    #[test]
    fn a_recovering_validator_signs_nothing() {
        let s = SafetyData::recovering(&ChainId(Hash::ZERO));
        assert!(s.recovering && !SafetyData::genesis(&ChainId(Hash::ZERO)).recovering);
        assert_eq!(
            s.check_vote(1, 0, None),
            Err(SafetyError::Recovering { round: 1 })
        );
        assert_eq!(
            s.check_timeout(1, 0, None),
            Err(SafetyError::Recovering { round: 1 })
        );
        assert_eq!(
            s.check_propose(1),
            Err(SafetyError::Recovering { round: 1 })
        );
        let done = SafetyData {
            recovering: false,
            ..s
        };
        assert!(done.check_vote(1, 0, None).is_ok());
        assert!(done.check_timeout(1, 0, None).is_ok());
        assert!(done.check_propose(1).is_ok());
    }

    #[test]
    fn proposes_once_per_round() {
        let mut s = state(0);
        assert!(s.check_propose(3).is_ok());
        s.highest_proposed_round = 3;
        assert!(s.check_propose(3).is_err());
        assert!(s.check_propose(4).is_ok());
    }
}
