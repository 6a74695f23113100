//! Batches of client transactions, disseminated once and certified available.
//!
//! A validator groups the transactions its own clients submit into a [`Batch`] and
//! sends it once to every other validator. A validator that stored the batch durably
//! and found every transaction signature valid signs its [`BatchInfo`] (a
//! [`BatchVote`]); `2f + 1` such votes make a [`ProofOfAvailability`]: at least
//! `f + 1` honest validators hold the batch and serve it. Proposals then carry proofs,
//! not transaction bytes (docs/PROTOCOL.md §14, docs/DATAPATH.md).

use cairn_crypto::{Domain, Hash, MerkleTree, SecretKey, Signature, SignedItem};
use parity_scale_codec::{Decode, Encode};

use crate::cert::check_signer_order;
use crate::codec::{BoundedVec, Wire};
use crate::limits::{
    MAX_BATCH_BYTES, MAX_BATCH_TXS, MAX_BLOCK_BATCHES, MAX_CERT_BYTES, MAX_VALIDATORS,
};
use crate::{
    Block, BlockHeader, ChainId, Proposal, Result, Round, SignerEntry, TimeoutCert, Transaction,
    TypesError, ValidatorId, ValidatorSet,
};

/// What a batch is, without its transactions: what votes and proofs sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode)]
pub struct BatchInfo {
    /// The validator that made the batch from its clients' transactions.
    pub author: ValidatorId,
    /// The author's counter: each batch of an author has a new one, increasing.
    pub sequence: u64,
    /// The Merkle root (`cairn_crypto::merkle`) of the transactions' hashes, in order.
    pub digest: Hash,
    /// How many transactions.
    pub txs: u32,
    /// The transactions' encoded bytes, summed.
    pub bytes: u32,
    /// The batch may be proposed in blocks of rounds below this one only; after it,
    /// every validator may forget the batch unless a committed block holds it.
    pub expires: Round,
}

impl BatchInfo {
    /// The bytes a validator signs (after the `cairn/batch/v1` tag):
    /// `SCALE(chain_id, info)`.
    pub fn signing_bytes(&self, chain: &ChainId) -> Vec<u8> {
        (chain, self).encode()
    }
}

/// A batch: its info and its transactions.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Batch {
    /// What the batch is; `digest`, `txs` and `bytes` must match `txs`.
    pub info: BatchInfo,
    /// The transactions, in order.
    pub txs: BoundedVec<Transaction, MAX_BATCH_TXS>,
}

impl Batch {
    /// Makes the batch of `txs` (whose hashes are `hashes`, in order) for `author`.
    pub fn new(
        author: ValidatorId,
        sequence: u64,
        expires: Round,
        txs: Vec<Transaction>,
        hashes: &[Hash],
    ) -> Result<Batch> {
        let bytes = txs.iter().map(Encode::encoded_size).sum::<usize>();
        let info = BatchInfo {
            author,
            sequence,
            digest: MerkleTree::root_of(hashes),
            txs: count(txs.len())?,
            bytes: count(bytes)?,
            expires,
        };
        Ok(Batch {
            info,
            txs: BoundedVec::new(txs)?,
        })
    }

    /// Checks what the batch says about itself (counts, bytes, digest) and returns its
    /// transactions' hashes, computed once here. Does not check signatures.
    pub fn check_well_formed(&self) -> Result<Vec<Hash>> {
        let invalid = |problem: String| TypesError::InvalidBatch {
            author: self.info.author,
            sequence: self.info.sequence,
            problem,
        };
        if self.txs.len() != self.info.txs as usize {
            return Err(invalid(format!(
                "{} transactions, the info says {}",
                self.txs.len(),
                self.info.txs
            )));
        }
        if self.txs.is_empty() {
            return Err(invalid("a batch holds at least one transaction".into()));
        }
        let bytes = self.txs.iter().map(Encode::encoded_size).sum::<usize>();
        if bytes != self.info.bytes as usize || bytes > MAX_BATCH_BYTES {
            return Err(invalid(format!(
                "{bytes} bytes of transactions, the info says {} (at most {MAX_BATCH_BYTES})",
                self.info.bytes
            )));
        }
        let hashes: Vec<Hash> = self.txs.iter().map(Transaction::hash).collect();
        let root = MerkleTree::root_of(&hashes);
        if root != self.info.digest {
            return Err(invalid(format!(
                "digest {} is not the transactions' root {root}",
                self.info.digest
            )));
        }
        Ok(hashes)
    }
}

impl Wire for Batch {
    const MAX_BYTES: usize = MAX_BATCH_BYTES + 1024;
    const NAME: &'static str = "batch";
}

fn count(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| TypesError::TooLarge {
        what: "batch",
        len: n,
        max: u32::MAX as usize,
    })
}

/// One validator's signed statement that it stored a batch and checked its
/// transactions' signatures.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct BatchVote {
    /// The batch.
    pub info: BatchInfo,
    /// Who vouches.
    pub voter: ValidatorId,
    /// Signature over `cairn/batch/v1 || SCALE(chain_id, info)`.
    pub signature: Signature,
}

impl BatchVote {
    /// Signs `info` as validator `voter`.
    pub fn sign(
        chain: &ChainId,
        info: BatchInfo,
        voter: ValidatorId,
        key: &SecretKey,
    ) -> BatchVote {
        let signature = key.sign(Domain::Batch, &info.signing_bytes(chain));
        BatchVote {
            info,
            voter,
            signature,
        }
    }

    /// Checks that the voter is in the set and the signature is theirs.
    pub fn verify(&self, chain: &ChainId, validators: &ValidatorSet) -> Result<()> {
        let key = validators.require(self.voter)?;
        key.verify(
            Domain::Batch,
            &self.info.signing_bytes(chain),
            &self.signature,
        )?;
        Ok(())
    }
}

impl Wire for BatchVote {
    const MAX_BYTES: usize = 1024;
    const NAME: &'static str = "batch vote";
}

/// A quorum's votes on one [`BatchInfo`]: the batch is stored by at least `f + 1`
/// honest validators, so any validator can fetch it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ProofOfAvailability {
    /// The batch.
    pub info: BatchInfo,
    /// `(signer, signature)` pairs, ascending by signer.
    pub signatures: BoundedVec<SignerEntry, MAX_VALIDATORS>,
}

impl ProofOfAvailability {
    /// Builds a proof from votes on `info`, sorting the signers. Does not check
    /// signatures: verify votes as they arrive, or the result with [`Self::verify`].
    pub fn from_votes<'a>(
        info: BatchInfo,
        votes: impl IntoIterator<Item = &'a BatchVote>,
    ) -> Result<ProofOfAvailability> {
        let mut signatures: Vec<SignerEntry> = votes
            .into_iter()
            .filter(|vote| vote.info == info)
            .map(|vote| (vote.voter, vote.signature))
            .collect();
        signatures.sort_by_key(|(id, _)| *id);
        signatures.dedup_by_key(|(id, _)| *id);
        Ok(ProofOfAvailability {
            info,
            signatures: BoundedVec::new(signatures)?,
        })
    }

    /// The validators that vouched for the batch, who can be asked for it.
    pub fn signers(&self) -> impl Iterator<Item = ValidatorId> + '_ {
        self.signatures.iter().map(|(id, _)| *id)
    }

    /// Checks the proof: a quorum of distinct known signers in ascending order, every
    /// signature valid (checked as one batch).
    pub fn verify(&self, chain: &ChainId, validators: &ValidatorSet) -> Result<()> {
        let invalid = |problem: String| TypesError::InvalidBatch {
            author: self.info.author,
            sequence: self.info.sequence,
            problem,
        };
        check_signer_order(self.signers(), validators).map_err(invalid)?;
        if self.signatures.len() < validators.quorum() {
            return Err(invalid(format!(
                "{} signers, a quorum is {}",
                self.signatures.len(),
                validators.quorum()
            )));
        }
        let message = self.info.signing_bytes(chain);
        let items = self
            .signatures
            .iter()
            .map(|(id, signature)| {
                Ok(SignedItem {
                    domain: Domain::Batch,
                    message: &message,
                    signer: validators.require(*id)?,
                    signature,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        cairn_crypto::verify_batch(&items).map_err(|_| invalid("a signature is invalid".into()))
    }
}

impl Wire for ProofOfAvailability {
    const MAX_BYTES: usize = MAX_CERT_BYTES;
    const NAME: &'static str = "proof of availability";
}

/// A proposal as its leader sends it when every transaction of the block is in a
/// certified batch: the header and the batches' proofs instead of the transactions.
/// The block's transactions are the batches' transactions, in the proofs' order; the
/// header's `payload_root` binds them, and the leader's signature covers the header,
/// so a receiver that assembles the batches gets exactly the block that was signed
/// (docs/PROTOCOL.md §14).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct BatchedProposal {
    /// The block's header.
    pub header: BlockHeader,
    /// The proofs of the block's batches, in order.
    pub batches: BoundedVec<ProofOfAvailability, MAX_BLOCK_BATCHES>,
    /// As in [`Proposal`].
    pub timeout_cert: Option<TimeoutCert>,
    /// As in [`Proposal`]: over the block id, the header's hash.
    pub signature: Signature,
}

impl BatchedProposal {
    /// The batched form of `proposal`, whose transactions are `batches`'.
    pub fn new(proposal: &Proposal, batches: Vec<ProofOfAvailability>) -> Result<BatchedProposal> {
        Ok(BatchedProposal {
            header: proposal.block.header.clone(),
            batches: BoundedVec::new(batches)?,
            timeout_cert: proposal.timeout_cert.clone(),
            signature: proposal.signature,
        })
    }

    /// The full proposal, given the batches' transactions in order. The caller checks
    /// it like any proposal (the payload root among the rest).
    pub fn into_proposal(self, txs: Vec<Transaction>) -> Result<Proposal> {
        Ok(Proposal {
            block: Block {
                header: self.header,
                txs: BoundedVec::new(txs)?,
            },
            timeout_cert: self.timeout_cert,
            signature: self.signature,
        })
    }

    /// Checks the chain, the proposer's signature, the certificates, and every proof
    /// `known` does not vouch for (a proof this node verified before, byte for byte).
    /// The transactions are checked once assembled, as in any proposal.
    pub fn verify(
        &self,
        chain: &ChainId,
        validators: &ValidatorSet,
        known: impl Fn(&ProofOfAvailability) -> bool,
    ) -> Result<()> {
        if self.header.chain_id != *chain {
            return Err(TypesError::WrongChain);
        }
        crate::verify_signed_header(
            chain,
            validators,
            &self.header,
            self.timeout_cert.as_ref(),
            &self.signature,
        )?;
        for proof in self.batches.iter().filter(|proof| !known(proof)) {
            proof.verify(chain, validators)?;
        }
        Ok(())
    }

    /// Signatures a full check of this proposal verifies (its own, its certificates'
    /// and its proofs').
    pub fn signature_count(&self) -> usize {
        1 + self.header.justify.signatures.len()
            + self
                .timeout_cert
                .as_ref()
                .map_or(0, |tc| tc.entries.len() + tc.high_qc.signatures.len())
            + self
                .batches
                .iter()
                .map(|proof| proof.signatures.len())
                .sum::<usize>()
    }
}

impl Wire for BatchedProposal {
    const MAX_BYTES: usize = 8 * 1024 * 1024;
    const NAME: &'static str = "batched proposal";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Op, TxPayload};

    fn validators(n: usize) -> (ValidatorSet, Vec<SecretKey>) {
        let keys: Vec<SecretKey> = (0..n)
            .map(|i| SecretKey::from_seed(&[i as u8 + 1; 32]))
            .collect();
        let set = ValidatorSet::new(keys.iter().map(SecretKey::public).collect()).expect("set");
        (set, keys)
    }

    fn batch(txs: usize) -> Batch {
        let key = SecretKey::from_seed(&[9; 32]);
        let txs: Vec<Transaction> = (0..txs as u64)
            .map(|nonce| {
                Transaction::sign(
                    TxPayload {
                        chain_id: ChainId(Hash::digest(b"chain")),
                        sender: key.public(),
                        nonce,
                        op: Op::Delete {
                            key: crate::Key::new(b"k".to_vec()).expect("key"),
                        },
                    },
                    &key,
                )
            })
            .collect();
        let hashes: Vec<Hash> = txs.iter().map(Transaction::hash).collect();
        Batch::new(ValidatorId(0), 1, 10, txs, &hashes).expect("batch")
    }

    #[test]
    fn a_well_formed_batch_checks_and_a_changed_one_does_not() {
        let good = batch(3);
        assert_eq!(good.check_well_formed().expect("well formed").len(), 3);
        let mut fewer = good.clone();
        fewer.info.txs = 2;
        assert!(fewer.check_well_formed().is_err());
        let mut bytes = good.clone();
        bytes.info.bytes += 1;
        assert!(bytes.check_well_formed().is_err());
        let mut digest = good.clone();
        digest.info.digest = Hash::digest(b"other");
        assert!(digest.check_well_formed().is_err());
        let empty = Batch::new(ValidatorId(0), 1, 10, Vec::new(), &[]).expect("batch");
        assert!(empty.check_well_formed().is_err());
    }

    #[test]
    fn a_quorum_of_votes_is_a_proof_and_less_is_not() {
        let chain = ChainId(Hash::digest(b"chain"));
        let (set, keys) = validators(4);
        let info = batch(2).info;
        let votes: Vec<BatchVote> = (0..4)
            .map(|i| BatchVote::sign(&chain, info, ValidatorId(i as u16), &keys[i]))
            .collect();
        for vote in &votes {
            vote.verify(&chain, &set).expect("vote verifies");
        }
        let proof = ProofOfAvailability::from_votes(info, &votes[1..]).expect("proof");
        proof
            .verify(&chain, &set)
            .expect("three of four is a quorum");
        assert_eq!(
            proof.signers().collect::<Vec<_>>(),
            vec![ValidatorId(1), ValidatorId(2), ValidatorId(3)]
        );
        let short = ProofOfAvailability::from_votes(info, &votes[2..]).expect("proof");
        assert!(short.verify(&chain, &set).is_err(), "two of four is not");
        let other_chain = ChainId(Hash::digest(b"other"));
        assert!(
            proof.verify(&other_chain, &set).is_err(),
            "signed for another chain"
        );
        let mut changed = proof.clone();
        changed.info.txs += 1;
        assert!(
            changed.verify(&chain, &set).is_err(),
            "the info is what is signed"
        );
    }

    #[test]
    fn a_batched_proposal_stands_for_the_signed_proposal_and_checks_its_proofs() {
        let chain = ChainId(Hash::digest(b"chain"));
        let (set, keys) = validators(4);
        let batch = batch(3);
        let hashes = batch.check_well_formed().expect("well formed");
        let header = crate::BlockHeader {
            chain_id: chain,
            height: 1,
            round: 1,
            parent: chain.0,
            payload_root: MerkleTree::root_of(&hashes),
            state_height: 0,
            state_root: Hash::ZERO,
            proposer: ValidatorId(1),
            timestamp_ms: 0,
            justify: crate::QuorumCert::genesis(&chain),
        };
        let block = Block {
            header,
            txs: BoundedVec::new(batch.txs.to_vec()).expect("txs"),
        };
        let proposal = Proposal::sign(block, None, &keys[1]);
        let votes: Vec<BatchVote> = (0..3)
            .map(|i| BatchVote::sign(&chain, batch.info, ValidatorId(i as u16), &keys[i]))
            .collect();
        let proof = ProofOfAvailability::from_votes(batch.info, &votes).expect("proof");
        let batched = BatchedProposal::new(&proposal, vec![proof.clone()]).expect("batched");
        batched.verify(&chain, &set, |_| false).expect("verifies");
        let back = batched
            .clone()
            .into_proposal(batch.txs.to_vec())
            .expect("assembled");
        assert_eq!(back, proposal);
        back.verify(&chain, &set)
            .expect("the assembled proposal verifies");

        let mut forged = batched.clone();
        forged.batches = BoundedVec::new(vec![ProofOfAvailability {
            info: proof.info,
            signatures: BoundedVec::new(vec![proof.signatures[0], proof.signatures[0]])
                .expect("sigs"),
        }])
        .expect("proofs");
        assert!(
            forged.verify(&chain, &set, |_| false).is_err(),
            "a forged proof is refused"
        );
        assert!(
            forged.verify(&chain, &set, |_| true).is_ok(),
            "proofs vouched for as verified before are not checked again"
        );
        let mut other = batched;
        other.header.round = 2;
        assert!(
            other.verify(&chain, &set, |_| true).is_err(),
            "the signature covers the header"
        );
    }
}
