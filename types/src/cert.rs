//! Votes, timeouts and the certificates built from them.
//!
//! A vote signs [`VoteData`]: the block, its round and height, and its parent's id and
//! round. Carrying the parent makes a quorum certificate self-contained evidence of a
//! commit under the 2-chain rule: a QC whose `round == parent_round + 1` proves that
//! the parent block is committed.

use cairn_crypto::{Domain, Hash, Signature, SignedItem};
use parity_scale_codec::{Decode, Encode};

use crate::codec::{BoundedVec, Wire};
use crate::limits::{MAX_CERT_BYTES, MAX_VALIDATORS};
use crate::{ChainId, Height, Result, Round, TypesError, ValidatorId, ValidatorSet};

/// What a vote for a block says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode)]
pub struct VoteData {
    /// The block voted for.
    pub block_id: Hash,
    /// Its round.
    pub round: Round,
    /// Its height.
    pub height: Height,
    /// Its parent's id.
    pub parent_id: Hash,
    /// Its parent's round.
    pub parent_round: Round,
}

impl VoteData {
    /// The bytes a voter signs (after the `cairn/vote/v1` tag): `SCALE(chain_id, data)`.
    pub fn signing_bytes(&self, chain: &ChainId) -> Vec<u8> {
        (chain, self).encode()
    }

    /// If a QC on this data proves a commit, the id and round of the committed block:
    /// the parent, when the two rounds are consecutive (the 2-chain rule).
    pub fn commits(&self) -> Option<(Hash, Round)> {
        (self.parent_round.checked_add(1) == Some(self.round) && self.round > 0)
            .then_some((self.parent_id, self.parent_round))
    }
}

/// One validator's signed vote, sent to the next round's leader.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Vote {
    /// What is voted for.
    pub data: VoteData,
    /// Who votes.
    pub voter: ValidatorId,
    /// Signature over `cairn/vote/v1 || SCALE(chain_id, data)`.
    pub signature: Signature,
}

impl Vote {
    /// Signs `data` as validator `voter`.
    pub fn sign(
        chain: &ChainId,
        data: VoteData,
        voter: ValidatorId,
        key: &cairn_crypto::SecretKey,
    ) -> Vote {
        let signature = key.sign(Domain::Vote, &data.signing_bytes(chain));
        Vote {
            data,
            voter,
            signature,
        }
    }

    /// Checks that the voter is in the set and the signature is theirs.
    pub fn verify(&self, chain: &ChainId, validators: &ValidatorSet) -> Result<()> {
        let key = validators.require(self.voter)?;
        key.verify(
            Domain::Vote,
            &self.data.signing_bytes(chain),
            &self.signature,
        )?;
        Ok(())
    }
}

impl Wire for Vote {
    const MAX_BYTES: usize = MAX_CERT_BYTES;
    const NAME: &'static str = "vote";
}

/// One signer's entry in a certificate.
pub type SignerEntry = (ValidatorId, Signature);

/// Proof that a quorum of validators voted for the same [`VoteData`].
///
/// Signers are listed in strictly ascending id order, so a certificate has one
/// encoding and no signer can be counted twice. The genesis QC (round 0) is the one
/// certificate without signatures: it certifies the genesis block, whose id is the
/// chain id.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct QuorumCert {
    /// What the quorum voted for.
    pub data: VoteData,
    /// `(signer, signature)` pairs, ascending by signer.
    pub signatures: BoundedVec<SignerEntry, MAX_VALIDATORS>,
}

impl QuorumCert {
    /// The certificate of the genesis block of `chain`, which needs no signatures.
    pub fn genesis(chain: &ChainId) -> QuorumCert {
        QuorumCert {
            data: VoteData {
                block_id: chain.0,
                round: 0,
                height: 0,
                parent_id: Hash::ZERO,
                parent_round: 0,
            },
            signatures: BoundedVec::default(),
        }
    }

    /// Builds a certificate from votes on the same data, sorting the signers. Does not
    /// check signatures: verify votes as they arrive, or the result with [`Self::verify`].
    pub fn from_votes(data: VoteData, votes: &[Vote]) -> Result<QuorumCert> {
        let mut signatures: Vec<SignerEntry> = votes
            .iter()
            .filter(|vote| vote.data == data)
            .map(|vote| (vote.voter, vote.signature))
            .collect();
        signatures.sort_by_key(|(id, _)| *id);
        signatures.dedup_by_key(|(id, _)| *id);
        Ok(QuorumCert {
            data,
            signatures: BoundedVec::new(signatures)?,
        })
    }

    /// The certified block's round.
    pub fn round(&self) -> Round {
        self.data.round
    }

    /// The certified block's id.
    pub fn block_id(&self) -> Hash {
        self.data.block_id
    }

    /// Checks the certificate: either the genesis QC of `chain`, or at least a quorum of
    /// distinct known signers in ascending order, every signature valid (checked as one
    /// batch).
    pub fn verify(&self, chain: &ChainId, validators: &ValidatorSet) -> Result<()> {
        if self.data.round == 0 {
            return if *self == QuorumCert::genesis(chain) {
                Ok(())
            } else {
                Err(self.invalid("round 0 is reserved for the genesis certificate".into()))
            };
        }
        check_signer_order(self.signatures.iter().map(|(id, _)| *id), validators)
            .map_err(|problem| self.invalid(problem))?;
        if self.signatures.len() < validators.quorum() {
            return Err(self.invalid(format!(
                "{} signers, a quorum is {}",
                self.signatures.len(),
                validators.quorum()
            )));
        }
        let message = self.data.signing_bytes(chain);
        let items = self
            .signatures
            .iter()
            .map(|(id, signature)| {
                Ok(SignedItem {
                    domain: Domain::Vote,
                    message: &message,
                    signer: validators.require(*id)?,
                    signature,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        cairn_crypto::verify_batch(&items)
            .map_err(|_| self.invalid("a signature is invalid".into()))
    }

    fn invalid(&self, problem: String) -> TypesError {
        TypesError::InvalidCertificate {
            what: "quorum certificate",
            round: self.data.round,
            problem,
        }
    }
}

impl Wire for QuorumCert {
    const MAX_BYTES: usize = MAX_CERT_BYTES;
    const NAME: &'static str = "quorum certificate";
}

/// Signers must be known and listed in strictly ascending order (so, distinct).
pub(crate) fn check_signer_order(
    ids: impl Iterator<Item = ValidatorId>,
    validators: &ValidatorSet,
) -> std::result::Result<(), String> {
    let mut previous: Option<ValidatorId> = None;
    for id in ids {
        if validators.key(id).is_none() {
            return Err(format!(
                "unknown signer {id}: the set has {} validators",
                validators.len()
            ));
        }
        if previous.is_some_and(|p| p >= id) {
            return Err(format!("signer {id} is out of order or repeated"));
        }
        previous = Some(id);
    }
    Ok(())
}

/// The bytes a validator signs when it times out (after the `cairn/timeout/v1` tag):
/// `SCALE(chain_id, round, high_qc_round)`.
pub fn timeout_signing_bytes(chain: &ChainId, round: Round, high_qc_round: Round) -> Vec<u8> {
    (chain, round, high_qc_round).encode()
}

/// A validator's signed statement that round `round` failed for it, carrying the
/// highest QC it knows and — when it entered `round` on a timeout certificate rather
/// than on that QC — the certificate of `round - 1`. Broadcast to all validators.
///
/// The two certificates are what justifies the round (Jolteon: a round follows a QC
/// or a TC), and what lets a validator still in an earlier round catch up from this
/// one message. Only `(round, high_qc.round)` is signed: the certificates prove
/// themselves.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Timeout {
    /// The round that timed out.
    pub round: Round,
    /// The signer's highest quorum certificate.
    pub high_qc: QuorumCert,
    /// The timeout certificate of `round - 1`, present when `round != high_qc.round + 1`.
    pub last_tc: Option<TimeoutCert>,
    /// Who times out.
    pub signer: ValidatorId,
    /// Signature over `cairn/timeout/v1 || SCALE(chain_id, round, high_qc.round)`.
    pub signature: Signature,
}

impl Timeout {
    /// Signs a timeout for `round` as validator `signer`, carrying `high_qc` and, if
    /// the round does not follow it, `last_tc` (the certificate of `round - 1`).
    pub fn sign(
        chain: &ChainId,
        round: Round,
        high_qc: QuorumCert,
        last_tc: Option<TimeoutCert>,
        signer: ValidatorId,
        key: &cairn_crypto::SecretKey,
    ) -> Timeout {
        let signature = key.sign(
            Domain::Timeout,
            &timeout_signing_bytes(chain, round, high_qc.round()),
        );
        Timeout {
            round,
            high_qc,
            last_tc,
            signer,
            signature,
        }
    }

    /// The checks that need no signature: the QC is older than the round, a carried
    /// TC is for the previous round, and the round follows the QC or that TC.
    pub fn check_form(&self) -> Result<()> {
        let invalid = |problem: String| TypesError::InvalidCertificate {
            what: "timeout",
            round: self.round,
            problem,
        };
        let qc_round = self.high_qc.round();
        if qc_round >= self.round {
            return Err(invalid(format!(
                "high QC round {qc_round} is not below the timeout round"
            )));
        }
        let tc_round = self.last_tc.as_ref().map(|tc| tc.round);
        if let Some(tc_round) = tc_round.filter(|r| r.checked_add(1) != Some(self.round)) {
            return Err(invalid(format!(
                "carries the timeout certificate of round {tc_round}, not of the previous round"
            )));
        }
        if qc_round.checked_add(1) != Some(self.round) && tc_round.is_none() {
            return Err(invalid(format!(
                "the round follows neither its high QC (round {qc_round}) nor a timeout certificate of the previous round"
            )));
        }
        Ok(())
    }

    /// Checks the form ([`Self::check_form`]), the signer, the signature, the QC and the
    /// carried TC.
    pub fn verify(&self, chain: &ChainId, validators: &ValidatorSet) -> Result<()> {
        self.check_form()?;
        let key = validators.require(self.signer)?;
        key.verify(
            Domain::Timeout,
            &timeout_signing_bytes(chain, self.round, self.high_qc.round()),
            &self.signature,
        )?;
        self.high_qc.verify(chain, validators)?;
        if let Some(tc) = &self.last_tc {
            tc.verify(chain, validators)?;
        }
        Ok(())
    }
}

impl Wire for Timeout {
    const MAX_BYTES: usize = MAX_CERT_BYTES;
    const NAME: &'static str = "timeout";
}

/// One signer's entry in a timeout certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct TimeoutEntry {
    /// Who timed out.
    pub signer: ValidatorId,
    /// The round of the highest QC the signer had.
    pub high_qc_round: Round,
    /// The signer's timeout signature.
    pub signature: Signature,
}

/// Proof that a quorum of validators timed out in `round`, with the highest QC round
/// each of them reported and the QC of the highest of those rounds. Entries are in
/// strictly ascending signer order.
///
/// Carrying that QC is what makes the reported rounds trustworthy: a proposal justified
/// by this certificate must extend a QC at least as high as `high_qc`, and a signer
/// that claims a round for which no QC exists cannot produce one, so the certificate
/// holding its claim does not verify.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct TimeoutCert {
    /// The round that failed.
    pub round: Round,
    /// The QC of the highest round any signer reported (`high_qc.round` equals the
    /// highest `entries[i].high_qc_round`). Boxed only to keep the type small in
    /// memory; it is encoded in place.
    pub high_qc: Box<QuorumCert>,
    /// The signed timeouts.
    pub entries: BoundedVec<TimeoutEntry, MAX_VALIDATORS>,
}

impl TimeoutCert {
    /// Builds a certificate from timeouts for `round`, sorting the signers and carrying
    /// the highest of their QCs. Does not check signatures or QCs: verify timeouts as
    /// they arrive, or the result with [`Self::verify`]. Fails on no timeouts.
    pub fn from_timeouts(round: Round, timeouts: &[Timeout]) -> Result<TimeoutCert> {
        let of_round = || timeouts.iter().filter(|t| t.round == round);
        let high_qc = of_round()
            .map(|t| &t.high_qc)
            .max_by_key(|qc| qc.round())
            .map(|qc| Box::new(qc.clone()))
            .ok_or_else(|| TypesError::InvalidCertificate {
                what: "timeout certificate",
                round,
                problem: "no timeouts for the round".into(),
            })?;
        let mut entries: Vec<TimeoutEntry> = of_round()
            .map(|t| TimeoutEntry {
                signer: t.signer,
                high_qc_round: t.high_qc.round(),
                signature: t.signature,
            })
            .collect();
        entries.sort_by_key(|e| e.signer);
        entries.dedup_by_key(|e| e.signer);
        Ok(TimeoutCert {
            round,
            high_qc,
            entries: BoundedVec::new(entries)?,
        })
    }

    /// The highest QC round any signer reported: in a valid certificate, the round of
    /// [`Self::high_qc`]. A proposal justified by this certificate must carry a QC at
    /// least this high.
    pub fn max_high_qc_round(&self) -> Round {
        self.entries
            .iter()
            .map(|e| e.high_qc_round)
            .max()
            .unwrap_or(0)
    }

    /// Checks a quorum of distinct known signers, each reporting a QC round below the
    /// certificate's round, the carried QC of exactly the highest reported round, every
    /// timeout signature (one batch) and that QC.
    pub fn verify(&self, chain: &ChainId, validators: &ValidatorSet) -> Result<()> {
        let invalid = |problem: String| TypesError::InvalidCertificate {
            what: "timeout certificate",
            round: self.round,
            problem,
        };
        check_signer_order(self.entries.iter().map(|e| e.signer), validators).map_err(invalid)?;
        if self.entries.len() < validators.quorum() {
            return Err(invalid(format!(
                "{} signers, a quorum is {}",
                self.entries.len(),
                validators.quorum()
            )));
        }
        if let Some(e) = self.entries.iter().find(|e| e.high_qc_round >= self.round) {
            return Err(invalid(format!(
                "signer {} reports high QC round {} not below the round",
                e.signer, e.high_qc_round
            )));
        }
        let reported = self.max_high_qc_round();
        if self.high_qc.round() != reported {
            return Err(invalid(format!(
                "carries a QC of round {}, but the highest round reported is {reported}",
                self.high_qc.round()
            )));
        }
        let messages: Vec<Vec<u8>> = self
            .entries
            .iter()
            .map(|e| timeout_signing_bytes(chain, self.round, e.high_qc_round))
            .collect();
        let items = self
            .entries
            .iter()
            .zip(&messages)
            .map(|(e, message)| {
                Ok(SignedItem {
                    domain: Domain::Timeout,
                    message,
                    signer: validators.require(e.signer)?,
                    signature: &e.signature,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        cairn_crypto::verify_batch(&items).map_err(|_| invalid("a signature is invalid".into()))?;
        self.high_qc.verify(chain, validators)
    }
}

impl Wire for TimeoutCert {
    const MAX_BYTES: usize = MAX_CERT_BYTES;
    const NAME: &'static str = "timeout certificate";
}
