//! Certificates, votes, timeouts and proposals checked against a real validator set
//! with real ed25519 signatures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_crypto::{Hash, SecretKey};
use cairn_types::*;

struct Fixture {
    chain: ChainId,
    keys: Vec<SecretKey>,
    set: ValidatorSet,
}

/// n = 4 validators from fixed seeds; quorum 3.
fn fixture() -> Fixture {
    let keys: Vec<SecretKey> = (0..4u8)
        .map(|i| SecretKey::from_seed(&[i + 1; 32]))
        .collect();
    let set = ValidatorSet::new(keys.iter().map(SecretKey::public).collect()).unwrap();
    Fixture {
        chain: ChainId(Hash::digest(b"test chain")),
        keys,
        set,
    }
}

impl Fixture {
    fn data(&self, round: Round) -> VoteData {
        VoteData {
            block_id: Hash::digest(&round.to_le_bytes()),
            round,
            height: round,
            parent_id: Hash::digest(b"parent"),
            parent_round: round - 1,
        }
    }

    fn vote(&self, data: VoteData, who: u16) -> Vote {
        Vote::sign(
            &self.chain,
            data,
            ValidatorId(who),
            &self.keys[who as usize],
        )
    }

    fn qc(&self, round: Round, signers: &[u16]) -> QuorumCert {
        let data = self.data(round);
        let votes: Vec<Vote> = signers.iter().map(|&i| self.vote(data, i)).collect();
        QuorumCert::from_votes(data, &votes).unwrap()
    }

    fn timeout(&self, round: Round, who: u16, high_qc: QuorumCert) -> Timeout {
        self.timeout_after(round, who, high_qc, None)
    }

    fn timeout_after(
        &self,
        round: Round,
        who: u16,
        high_qc: QuorumCert,
        last_tc: Option<TimeoutCert>,
    ) -> Timeout {
        Timeout::sign(
            &self.chain,
            round,
            high_qc,
            last_tc,
            ValidatorId(who),
            &self.keys[who as usize],
        )
    }

    /// A TC for `round` from validators 1, 2, 3, all reporting `high_qc`.
    fn tc(&self, round: Round, high_qc: &QuorumCert) -> TimeoutCert {
        let timeouts: Vec<Timeout> = (1..4)
            .map(|i| self.timeout_after(round, i, high_qc.clone(), self.tc_before(round, high_qc)))
            .collect();
        TimeoutCert::from_timeouts(round, &timeouts).unwrap()
    }

    /// The TC that justifies `round` after `high_qc`, if it needs one.
    fn tc_before(&self, round: Round, high_qc: &QuorumCert) -> Option<TimeoutCert> {
        (high_qc.round() + 1 < round).then(|| self.tc(round - 1, high_qc))
    }
}

#[test]
fn vote_verifies_only_for_its_chain_and_signer() {
    let f = fixture();
    let vote = f.vote(f.data(5), 2);
    vote.verify(&f.chain, &f.set).unwrap();
    assert!(
        vote.verify(&ChainId(Hash::digest(b"other")), &f.set)
            .is_err()
    );
    let mut forged = vote.clone();
    forged.voter = ValidatorId(1);
    assert!(forged.verify(&f.chain, &f.set).is_err());
    forged.voter = ValidatorId(9);
    assert!(matches!(
        forged.verify(&f.chain, &f.set),
        Err(TypesError::UnknownValidator { .. })
    ));
}

#[test]
fn qc_needs_a_quorum_of_distinct_valid_signers() {
    let f = fixture();
    f.qc(5, &[0, 1, 2]).verify(&f.chain, &f.set).unwrap();
    f.qc(5, &[3, 1, 0, 2]).verify(&f.chain, &f.set).unwrap();

    let too_few = f
        .qc(5, &[0, 1])
        .verify(&f.chain, &f.set)
        .unwrap_err()
        .to_string();
    assert!(too_few.contains("quorum is 3"), "{too_few}");

    // The same signer three times is one signer.
    let mut repeated = f.qc(5, &[0, 1, 2]);
    let entry = repeated.signatures[0];
    repeated.signatures = BoundedVec::new(vec![entry, entry, entry]).unwrap();
    let err = repeated.verify(&f.chain, &f.set).unwrap_err().to_string();
    assert!(err.contains("out of order or repeated"), "{err}");

    let mut bad_sig = f.qc(5, &[0, 1, 2]);
    let mut entries = bad_sig.signatures.clone().into_inner();
    entries[1].1.0[10] ^= 1;
    bad_sig.signatures = BoundedVec::new(entries).unwrap();
    assert!(bad_sig.verify(&f.chain, &f.set).is_err());

    let mut unknown = f.qc(5, &[0, 1, 2]);
    let mut entries = unknown.signatures.clone().into_inner();
    entries[2].0 = ValidatorId(7);
    unknown.signatures = BoundedVec::new(entries).unwrap();
    assert!(unknown.verify(&f.chain, &f.set).is_err());

    // Signatures are bound to the data: change the block and the QC fails.
    let mut moved = f.qc(5, &[0, 1, 2]);
    moved.data.block_id = Hash::digest(b"elsewhere");
    assert!(moved.verify(&f.chain, &f.set).is_err());
}

#[test]
fn genesis_qc_is_the_only_unsigned_certificate() {
    let f = fixture();
    QuorumCert::genesis(&f.chain)
        .verify(&f.chain, &f.set)
        .unwrap();
    assert!(
        QuorumCert::genesis(&f.chain)
            .verify(&ChainId(Hash::ZERO), &f.set)
            .is_err()
    );
    let mut fake = QuorumCert::genesis(&f.chain);
    fake.data.height = 7;
    assert!(fake.verify(&f.chain, &f.set).is_err());
}

#[test]
fn qc_with_consecutive_rounds_proves_the_parent_committed() {
    let f = fixture();
    let data = f.data(5);
    assert_eq!(data.commits(), Some((data.parent_id, 4)));
    let gap = VoteData {
        parent_round: 3,
        ..data
    };
    assert_eq!(gap.commits(), None);
}

#[test]
fn timeout_and_timeout_cert() {
    let f = fixture();
    let high = f.qc(5, &[0, 1, 2]);
    let tc6 = f.tc(6, &high);
    tc6.verify(&f.chain, &f.set).unwrap();
    let timeouts: Vec<Timeout> = (0..3)
        .map(|i| f.timeout_after(7, i, high.clone(), Some(tc6.clone())))
        .collect();
    for t in &timeouts {
        t.verify(&f.chain, &f.set).unwrap();
    }
    let tc = TimeoutCert::from_timeouts(7, &timeouts).unwrap();
    tc.verify(&f.chain, &f.set).unwrap();
    assert_eq!(tc.max_high_qc_round(), 5);
    assert_eq!(*tc.high_qc, high);

    let short = TimeoutCert::from_timeouts(7, &timeouts[..2]).unwrap();
    assert!(short.verify(&f.chain, &f.set).is_err());
    assert!(TimeoutCert::from_timeouts(7, &[]).is_err());

    // Lying about the high QC round breaks that signer's signature.
    let mut lying = tc.clone();
    let mut entries = lying.entries.clone().into_inner();
    entries[0].high_qc_round = 6;
    lying.entries = BoundedVec::new(entries).unwrap();
    assert!(lying.verify(&f.chain, &f.set).is_err());

    // A timeout whose QC is not older than its round is refused.
    let stale = f.timeout(5, 0, high);
    assert!(stale.verify(&f.chain, &f.set).is_err());
}

/// A Byzantine signer may sign any high QC round it likes. A TC holding its claim
/// must carry a QC of that round: with the honest signers' QC it fails, with a made-up
/// one it fails, and only a real QC of the claimed round makes it valid.
#[test]
fn a_timeout_cert_carries_the_qc_of_its_highest_reported_round() {
    let f = fixture();
    // The honest signers hold round 4's QC; signer 0 claims one of round 6 in round 7.
    let real = f.qc(4, &[0, 1, 2]);
    let tc6 = f.tc(6, &real);
    let mut inflated_qc = real.clone();
    inflated_qc.data = f.data(6);
    let honest: Vec<Timeout> = (1..3)
        .map(|i| f.timeout_after(7, i, real.clone(), Some(tc6.clone())))
        .collect();
    let liar = f.timeout_after(7, 0, inflated_qc.clone(), Some(tc6.clone()));
    assert!(
        liar.verify(&f.chain, &f.set).is_err(),
        "its QC does not verify"
    );
    let mut all = honest.clone();
    all.push(liar);
    let built = TimeoutCert::from_timeouts(7, &all).unwrap();
    assert_eq!(*built.high_qc, inflated_qc);
    assert!(
        built.verify(&f.chain, &f.set).is_err(),
        "made-up QC carried"
    );
    let mut swapped = built.clone();
    *swapped.high_qc = real.clone();
    let err = swapped.verify(&f.chain, &f.set).unwrap_err().to_string();
    assert!(err.contains("highest round reported is 6"), "{err}");
}

#[test]
fn a_timeout_follows_its_high_qc_or_the_previous_rounds_tc() {
    let f = fixture();
    let high = f.qc(5, &[0, 1, 2]);
    f.timeout(6, 0, high.clone())
        .verify(&f.chain, &f.set)
        .unwrap();
    let gap = f
        .timeout(7, 0, high.clone())
        .check_form()
        .unwrap_err()
        .to_string();
    assert!(gap.contains("follows neither"), "{gap}");
    let tc6 = f.tc(6, &high);
    f.timeout_after(7, 0, high.clone(), Some(tc6.clone()))
        .verify(&f.chain, &f.set)
        .unwrap();
    let wrong = f
        .timeout_after(8, 0, high.clone(), Some(tc6))
        .check_form()
        .unwrap_err()
        .to_string();
    assert!(wrong.contains("not of the previous round"), "{wrong}");
    // A carried TC must verify like any other.
    let mut broken = f.tc(6, &high);
    let mut entries = broken.entries.clone().into_inner();
    entries[1].signature.0[3] ^= 1;
    broken.entries = BoundedVec::new(entries).unwrap();
    assert!(
        f.timeout_after(7, 0, high, Some(broken))
            .verify(&f.chain, &f.set)
            .is_err()
    );
}

/// The largest timeout (a 256-signer QC and a TC of 256 entries with its own 256-signer
/// QC) still fits the 64 KiB limit on certificates.
#[test]
fn the_largest_timeout_fits_the_certificate_limit() {
    use parity_scale_codec::Encode;
    let sig = cairn_crypto::Signature([7; 64]);
    let qc = QuorumCert {
        data: VoteData {
            block_id: Hash::ZERO,
            round: u64::MAX - 2,
            height: u64::MAX,
            parent_id: Hash::ZERO,
            parent_round: u64::MAX,
        },
        signatures: BoundedVec::new(
            (0..limits::MAX_VALIDATORS as u16)
                .map(|i| (ValidatorId(i), sig))
                .collect(),
        )
        .unwrap(),
    };
    let tc = TimeoutCert {
        round: u64::MAX - 1,
        high_qc: Box::new(qc.clone()),
        entries: BoundedVec::new(
            (0..limits::MAX_VALIDATORS as u16)
                .map(|i| TimeoutEntry {
                    signer: ValidatorId(i),
                    high_qc_round: u64::MAX,
                    signature: sig,
                })
                .collect(),
        )
        .unwrap(),
    };
    let timeout = Timeout {
        round: u64::MAX,
        high_qc: qc,
        last_tc: Some(tc.clone()),
        signer: ValidatorId(u16::MAX),
        signature: sig,
    };
    let bytes = timeout.encode();
    assert!(bytes.len() <= Timeout::MAX_BYTES, "{} bytes", bytes.len());
    assert_eq!(Timeout::from_wire(&bytes).unwrap(), timeout);
    assert!(tc.encode().len() <= TimeoutCert::MAX_BYTES);
}

fn block_on(f: &Fixture, justify: QuorumCert, round: Round, txs: Vec<Transaction>) -> Block {
    let header = BlockHeader {
        chain_id: f.chain,
        height: justify.data.height + 1,
        round,
        parent: justify.block_id(),
        payload_root: Block::payload_root_of(&txs),
        state_height: 0,
        state_root: Hash::ZERO,
        proposer: f.set.leader(round),
        timestamp_ms: 1_700_000_000_000,
        justify,
    };
    Block {
        header,
        txs: BoundedVec::new(txs).unwrap(),
    }
}

fn put_tx(f: &Fixture, nonce: u64) -> Transaction {
    let payload = TxPayload {
        chain_id: f.chain,
        sender: f.keys[0].public(),
        nonce,
        op: Op::Put {
            key: BoundedBytes::new(b"k".to_vec()).unwrap(),
            value: BoundedBytes::new(b"v".to_vec()).unwrap(),
        },
    };
    Transaction::sign(payload, &f.keys[0])
}

#[test]
fn proposal_checks_form_signature_and_certificates() {
    let f = fixture();
    let genesis = QuorumCert::genesis(&f.chain);
    let block = block_on(&f, genesis, 1, vec![put_tx(&f, 0), put_tx(&f, 1)]);
    let leader = f.set.leader(1).0 as usize;
    let proposal = Proposal::sign(block.clone(), None, &f.keys[leader]);
    proposal.verify(&f.chain, &f.set).unwrap();

    // Signed by someone other than the named proposer.
    let wrong = Proposal::sign(block.clone(), None, &f.keys[(leader + 1) % 4]);
    assert!(wrong.verify(&f.chain, &f.set).is_err());

    // Payload swapped after signing.
    let mut swapped = proposal.clone();
    swapped.block.txs = BoundedVec::new(vec![put_tx(&f, 9)]).unwrap();
    let err = swapped.verify(&f.chain, &f.set).unwrap_err().to_string();
    assert!(err.contains("payload root"), "{err}");

    // A block that does not extend its justify QC.
    let mut detached = block;
    detached.header.parent = Hash::digest(b"nowhere");
    let detached = Proposal::sign(detached, None, &f.keys[leader]);
    assert!(detached.verify(&f.chain, &f.set).is_err());
}

#[test]
fn proposal_after_timeout_carries_the_previous_rounds_tc() {
    let f = fixture();
    let high = f.qc(5, &[0, 1, 2]);
    let timeouts: Vec<Timeout> = (1..4).map(|i| f.timeout(6, i, high.clone())).collect();
    let tc = TimeoutCert::from_timeouts(6, &timeouts).unwrap();
    assert_eq!(tc, f.tc(6, &high));
    let block = block_on(&f, high, 7, vec![]);
    let leader = f.set.leader(7).0 as usize;
    Proposal::sign(block.clone(), Some(tc.clone()), &f.keys[leader])
        .verify(&f.chain, &f.set)
        .unwrap();
    let late = block_on(&f, f.qc(5, &[0, 1, 2]), 8, vec![]);
    let leader = f.set.leader(8).0 as usize;
    assert!(
        Proposal::sign(late, Some(tc), &f.keys[leader])
            .verify(&f.chain, &f.set)
            .is_err()
    );
}

#[test]
fn transaction_signature_covers_every_field() {
    let f = fixture();
    let tx = put_tx(&f, 3);
    tx.verify_signature().unwrap();
    let mut changed = tx.clone();
    changed.payload.nonce = 4;
    assert!(changed.verify_signature().is_err());
    assert_ne!(changed.hash(), tx.hash());
}
