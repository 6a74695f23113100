//! Four batch machines wired by hand: dissemination, proofs, fetching, quotas, expiry.

use std::collections::HashSet;

use cairn_crypto::{Hash, SecretKey};
use cairn_types::{
    Batch, ChainId, Key, Op, ProofOfAvailability, Transaction, TxPayload, ValidatorId, ValidatorSet,
};

use crate::{Action, Assembly, Batches, BatchesError, Config, Event, HeldBatch, Refusal};

fn chain() -> ChainId {
    ChainId(Hash::digest(b"batches test chain"))
}

fn machines(n: usize) -> Vec<Batches> {
    let keys: Vec<SecretKey> = (0..n)
        .map(|i| SecretKey::from_seed(&[i as u8 + 1; 32]))
        .collect();
    let set = ValidatorSet::new(keys.iter().map(SecretKey::public).collect()).expect("set");
    keys.into_iter()
        .enumerate()
        .map(|(i, key)| {
            let mut config = Config::new(chain(), ValidatorId(i as u16), key, set.clone());
            config.quota_batches = 4;
            Batches::new(config)
        })
        .collect()
}

fn txs(from_nonce: u64, count: u64) -> Vec<(Transaction, Hash)> {
    let key = SecretKey::from_seed(&[42; 32]);
    (from_nonce..from_nonce + count)
        .map(|nonce| {
            let tx = Transaction::sign(
                TxPayload {
                    chain_id: chain(),
                    sender: key.public(),
                    nonce,
                    op: Op::Delete {
                        key: Key::new(b"k".to_vec()).expect("key"),
                    },
                },
                &key,
            );
            let hash = tx.hash();
            (tx, hash)
        })
        .collect()
}

/// The batch `machine` seals from `count` transactions after the linger.
fn seal(machine: &mut Batches, from_nonce: u64, count: u64) -> HeldBatch {
    let mut actions = machine.handle(Event::Submitted {
        txs: txs(from_nonce, count),
        now_ms: 0,
    });
    actions.extend(machine.handle(Event::Tick { now_ms: 1_000 }));
    actions
        .into_iter()
        .find_map(|action| match action {
            Action::Disseminate { batch } => Some(batch),
            _ => None,
        })
        .expect("a batch is sealed")
}

/// Delivers validator 0's `batch` to `to`, its votes back to 0, and returns the proof
/// once formed.
fn certify(nodes: &mut [Batches], batch: &HeldBatch, to: &[usize]) -> Option<ProofOfAvailability> {
    let mut proof = None;
    for &i in to {
        for action in nodes[i].handle(Event::Received {
            from: ValidatorId(0),
            batch: batch.clone(),
        }) {
            let Action::StoreAndVote { vote, .. } = action else {
                panic!("expected a vote, got {action:?}");
            };
            for back in nodes[0].handle(Event::Vote { vote }) {
                if let Action::BroadcastProof { proof: p } = back {
                    proof = Some(p);
                }
            }
        }
    }
    proof
}

#[test]
fn a_batch_is_disseminated_certified_by_a_quorum_and_assembled_everywhere() {
    let mut nodes = machines(4);
    let batch = seal(&mut nodes[0], 0, 10);
    assert_eq!(batch.info().txs, 10);
    // Validator 0's own vote and one more are not a quorum of three.
    assert!(certify(&mut nodes, &batch, &[1]).is_none());
    let proof = certify(&mut nodes, &batch, &[2]).expect("the third vote makes a proof");
    proof
        .verify(
            &chain(),
            &ValidatorSet::new(
                (0..4u8)
                    .map(|i| SecretKey::from_seed(&[i + 1; 32]).public())
                    .collect(),
            )
            .expect("set"),
        )
        .expect("the proof verifies");
    assert_eq!(
        certify(&mut nodes, &batch, &[3]),
        None,
        "a late vote adds nothing"
    );
    for node in nodes.iter_mut() {
        node.handle(Event::Proof {
            proof: proof.clone(),
        });
        let pulled = node.pull(1, &HashSet::new(), 10_000, 1 << 24);
        assert_eq!(pulled, vec![proof.clone()]);
        match node.assemble(1, &pulled).expect("assembles") {
            Assembly::Ready(batches) => assert_eq!(batches[0].digest(), batch.digest()),
            Assembly::Missing(fetches) => panic!("missing {fetches:?}"),
        }
    }
}

#[test]
fn a_validator_without_a_certified_batch_fetches_it_from_the_signers() {
    let mut nodes = machines(4);
    let batch = seal(&mut nodes[0], 0, 3);
    let proof = certify(&mut nodes, &batch, &[1, 2]).expect("proof");
    let Ok(Assembly::Missing(fetches)) = nodes[3].assemble(1, std::slice::from_ref(&proof)) else {
        panic!("validator 3 never received the batch");
    };
    let [Action::Fetch { digest, from }] = fetches.as_slice() else {
        panic!("one fetch expected: {fetches:?}");
    };
    assert_eq!(*digest, batch.digest());
    assert_eq!(from, &[ValidatorId(0), ValidatorId(1), ValidatorId(2)]);
    // A batch nobody asked for is not taken.
    let other = seal(&mut nodes[1], 100, 2);
    assert!(nodes[3].handle(Event::Fetched { batch: other }).is_empty());
    let stored = nodes[3].handle(Event::Fetched {
        batch: batch.clone(),
    });
    assert!(matches!(stored.as_slice(), [Action::Store { .. }]));
    assert!(matches!(
        nodes[3].assemble(1, &[proof]),
        Ok(Assembly::Ready(_))
    ));
}

#[test]
fn pushed_batches_must_come_from_their_author_fit_the_quota_and_be_timely() {
    let mut nodes = machines(4);
    let batch = seal(&mut nodes[0], 0, 1);
    let refused = |actions: Vec<Action>| match actions.as_slice() {
        [Action::Refused { reason, .. }] => Some(*reason),
        _ => None,
    };
    let relayed = nodes[1].handle(Event::Received {
        from: ValidatorId(2),
        batch: batch.clone(),
    });
    assert_eq!(refused(relayed), Some(Refusal::NotFromAuthor));
    // The quota is four batches held per author.
    for k in 0..4 {
        let batch = seal(&mut nodes[0], 10 + k * 10, 1);
        let stored = nodes[1].handle(Event::Received {
            from: ValidatorId(0),
            batch,
        });
        assert!(matches!(stored.as_slice(), [Action::StoreAndVote { .. }]));
    }
    let over = nodes[1].handle(Event::Received {
        from: ValidatorId(0),
        batch,
    });
    assert_eq!(refused(over), Some(Refusal::OverQuota));
    assert!(
        !nodes[0].accepting(),
        "the author stops at its own quota too"
    );

    // Expiry windows: a batch made at round 0 lives for 100 rounds.
    let mut fresh = machines(4);
    let batch = seal(&mut fresh[0], 0, 1);
    fresh[2].handle(Event::Round { round: 100 });
    let late = fresh[2].handle(Event::Received {
        from: ValidatorId(0),
        batch: batch.clone(),
    });
    assert_eq!(refused(late), Some(Refusal::Expired));
    fresh[0].handle(Event::Round { round: 1_000 });
    let ahead = seal(&mut fresh[0], 5, 1);
    let early = fresh[1].handle(Event::Received {
        from: ValidatorId(0),
        batch: ahead,
    });
    assert_eq!(refused(early), Some(Refusal::TooFarAhead));
    fresh[1].handle(Event::Received {
        from: ValidatorId(0),
        batch: batch.clone(),
    });
    let again = fresh[1].handle(Event::Received {
        from: ValidatorId(0),
        batch: HeldBatch::new(
            Batch::new(
                ValidatorId(0),
                batch.info().sequence,
                50,
                txs(7, 1).into_iter().map(|(t, _)| t).collect(),
                &[txs(7, 1)[0].1],
            )
            .expect("batch"),
            vec![txs(7, 1)[0].1],
        ),
    });
    assert_eq!(refused(again), Some(Refusal::SequenceReused));
}

#[test]
fn commits_remove_batches_and_expiry_returns_own_uncommitted_ones() {
    let mut nodes = machines(4);
    let first = seal(&mut nodes[0], 0, 2);
    let second = seal(&mut nodes[0], 2, 2);
    let proof = certify(&mut nodes, &first, &[1, 2]).expect("proof");
    certify(&mut nodes, &second, &[1]);
    assert_eq!(nodes[0].certified_count(), 1);
    let actions = nodes[0].handle(Event::Committed {
        round: 5,
        digests: vec![first.digest()],
        txs: Vec::new(),
    });
    assert!(
        matches!(actions.as_slice(), [Action::Forget { digests }] if digests == &vec![first.digest()])
    );
    assert_eq!(nodes[0].certified_count(), 0);
    assert!(nodes[0].get(&first.digest()).is_none());
    assert!(nodes[0].pull(6, &HashSet::new(), 100, 1 << 20).is_empty());
    // The uncommitted second batch expires once round 100 is committed past.
    let actions = nodes[0].handle(Event::Committed {
        round: 100,
        digests: Vec::new(),
        txs: Vec::new(),
    });
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Expired { batch } if batch.digest() == second.digest()))
    );
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Forget { digests } if digests.contains(&second.digest())))
    );
    // A peer forgets it too, without the `Expired` meant for the author.
    let peer = nodes[1].handle(Event::Committed {
        round: 100,
        digests: Vec::new(),
        txs: Vec::new(),
    });
    assert!(!peer.iter().any(|a| matches!(a, Action::Expired { .. })));
    let _ = proof;
}

#[test]
fn proposals_skip_ancestors_keep_limits_and_refuse_expired_or_repeated_proofs() {
    let mut nodes = machines(4);
    let a = seal(&mut nodes[0], 0, 3);
    let b = seal(&mut nodes[0], 3, 3);
    let pa = certify(&mut nodes, &a, &[1, 2]).expect("proof a");
    let pb = certify(&mut nodes, &b, &[1, 2]).expect("proof b");
    let leader = &nodes[0];
    assert_eq!(
        leader.pull(1, &HashSet::new(), 100, 1 << 20),
        vec![pa.clone(), pb.clone()]
    );
    let ancestors: HashSet<Hash> = [a.digest()].into();
    assert_eq!(leader.pull(1, &ancestors, 100, 1 << 20), vec![pb.clone()]);
    assert_eq!(
        leader.pull(1, &HashSet::new(), 5, 1 << 20),
        vec![pa.clone()],
        "six transactions do not fit in five"
    );
    assert!(
        leader.pull(100, &HashSet::new(), 100, 1 << 20).is_empty(),
        "expired at round 100"
    );
    let node = &mut nodes[1];
    assert!(matches!(
        node.assemble(100, std::slice::from_ref(&pa)),
        Err(BatchesError::Expired { .. })
    ));
    assert!(matches!(
        node.assemble(1, &[pa.clone(), pa]),
        Err(BatchesError::Repeated { .. })
    ));
}

#[test]
fn a_batch_short_of_a_quorum_is_sent_again_to_those_that_did_not_vote() {
    let mut nodes = machines(4);
    let batch = seal(&mut nodes[0], 0, 2);
    // Only validator 1 got it; 2 and 3 were down.
    assert!(certify(&mut nodes, &batch, &[1]).is_none());
    assert!(
        nodes[0].handle(Event::Tick { now_ms: 1_500 }).is_empty(),
        "not yet"
    );
    let again = nodes[0].handle(Event::Tick { now_ms: 2_000 });
    let [Action::Resend { batch: resent, to }] = again.as_slice() else {
        panic!("expected a resend: {again:?}");
    };
    assert_eq!(resent.digest(), batch.digest());
    assert_eq!(to, &[ValidatorId(2), ValidatorId(3)]);
    // Validator 1 lost its vote and gets it again: it votes again.
    let revote = nodes[1].handle(Event::Received {
        from: ValidatorId(0),
        batch: batch.clone(),
    });
    assert!(matches!(revote.as_slice(), [Action::StoreAndVote { .. }]));
    assert!(
        certify(&mut nodes, &batch, &[2]).is_some(),
        "the resent batch certifies"
    );
}

#[test]
fn a_batch_whose_transactions_committed_in_a_block_that_came_whole_leaves_too() {
    let mut nodes = machines(4);
    let batch = seal(&mut nodes[0], 0, 3);
    let proof = certify(&mut nodes, &batch, &[1, 2]).expect("proof");
    nodes[1].handle(Event::Proof { proof });
    assert_eq!(nodes[1].certified_count(), 1);
    // Validator 1 learns the block holding the batch without its proofs: only the
    // committed transactions name it.
    let actions = nodes[1].handle(Event::Committed {
        round: 3,
        digests: Vec::new(),
        txs: vec![batch.hashes[1]],
    });
    assert!(
        matches!(actions.as_slice(), [Action::Forget { digests }] if digests == &vec![batch.digest()])
    );
    assert_eq!(nodes[1].certified_count(), 0, "never proposed again");
    assert!(nodes[1].get(&batch.digest()).is_none());
}

#[test]
fn room_is_what_the_batch_being_filled_still_takes() {
    let mut nodes = machines(4);
    let (txs, bytes) = nodes[0].room();
    assert_eq!(txs, 1_000);
    nodes[0].handle(Event::Submitted {
        txs: super::tests::txs(0, 10),
        now_ms: 0,
    });
    let (after_txs, after_bytes) = nodes[0].room();
    assert_eq!(after_txs, 990);
    assert!(after_bytes < bytes);
}
