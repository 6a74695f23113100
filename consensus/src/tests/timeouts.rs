//! Timeouts across restarts: what a validator must keep to justify its round, and the
//! certificates a timeout carries so that a lagging validator can catch up from it.

use super::*;

/// The last safety state `actions` asked to persist, if any.
fn persisted(actions: &[Action]) -> Option<SafetyData> {
    actions.iter().rev().find_map(|a| match a {
        Action::PersistSafety(s) => Some(s.clone()),
        _ => None,
    })
}

/// The timeout `actions` broadcast, if any.
fn broadcast_timeout(actions: &[Action]) -> Option<cairn_types::Timeout> {
    actions.iter().find_map(|a| match a {
        Action::Broadcast {
            message: Message::Timeout(t),
        } => Some(t.clone()),
        _ => None,
    })
}

/// Validator `i` of `net` rebuilt from `safety`, as after `kill -9`.
fn restart(net: &Net, i: usize, safety: SafetyData) -> Consensus {
    net.rebuilt(i, safety, *net.nodes[i].committed())
}

/// The deadlock found by the `mix_n4` sweep (seeds 23730, 26454, 35730, 40326, 46957):
/// validators 1 and 2 leave round 1 on a TC that validator 0 never receives, time out
/// in round 2 and restart. If they forget that TC, validator 0 can never leave round 1
/// (1 and 2 will not sign round-1 timeouts again) and 1 and 2 can never leave round 2
/// (they need 0's round-2 timeout): with validator 3 silent, no quorum ever forms.
#[test]
fn n4f1_restarted_validators_keep_the_certificate_of_their_round() {
    let mut net = Net::new(4);
    for i in 0..3 {
        net.nodes[i].handle(Event::Start);
    }
    // Round 1 fails everywhere (its leader's payload request is never answered).
    let timeouts: Vec<_> = (0..3)
        .map(|i| {
            let actions = net.nodes[i].handle(Event::LocalTimeout { round: 1 });
            broadcast_timeout(&actions).expect("times out in round 1")
        })
        .collect();
    // Only 1 and 2 hear all three timeouts: they form TC(1); 0 hears nothing.
    for i in 1..3 {
        for t in &timeouts {
            if t.signer.0 as usize != i {
                net.nodes[i].handle(Event::timeout(t.signer, t.clone()));
            }
        }
        assert_eq!(net.nodes[i].round(), 2, "validator {i} entered round 2");
    }
    assert_eq!(net.nodes[0].round(), 1);
    // 1 and 2 time out in round 2, persist, and are killed before it reaches anyone.
    for i in 1..3 {
        let actions = net.nodes[i].handle(Event::LocalTimeout { round: 2 });
        assert!(broadcast_timeout(&actions).is_some());
        let safety = persisted(&actions).expect("persisted before the timeout left");
        net.nodes[i] = restart(&net, i, safety);
    }
    // From now on the network delivers everything among 0, 1 and 2; 3 stays silent.
    net.queue.clear();
    for i in 0..3 {
        net.queue.push_back((ValidatorId(i), Event::Start));
    }
    for _ in 0..30 {
        for _ in 0..500 {
            let Some((to, event)) = net.queue.pop_front() else {
                break;
            };
            if to.0 == 3 {
                continue;
            }
            let actions = net.nodes[to.0 as usize].handle(event);
            net.perform(to, actions);
        }
        net.timers[3] = None;
        net.fire_timers();
    }
    net.assert_consistent();
    let rounds: Vec<_> = (0..3).map(|i| net.nodes[i].round()).collect();
    let commits: Vec<_> = (0..3).map(|i| net.committed[i].len()).collect();
    assert!(
        commits.iter().all(|&c| c >= 3),
        "the three honest validators must keep committing: rounds {rounds:?}, commits {commits:?}"
    );
}

/// The timeout rule after a restart: a round is timed out in only if it follows the
/// high QC or a TC this validator holds. A state that voted in round 5 but kept
/// neither a QC for round 4 nor a TC for it must not sign a timeout for round 5.
#[test]
fn no_timeout_in_a_round_that_follows_no_certificate() {
    let net = Net::new(4);
    let safety = SafetyData {
        highest_voted_round: 5,
        ..SafetyData::genesis(&chain())
    };
    let mut node = restart(&net, 1, safety);
    node.handle(Event::Start);
    for _ in 0..3 {
        let actions = node.handle(Event::LocalTimeout {
            round: node.round(),
        });
        assert!(
            broadcast_timeout(&actions).is_none(),
            "timed out in round {} with high QC round {} and no TC",
            node.round(),
            node.safety().high_qc.round()
        );
    }
}

/// A stale timeout makes a validator send the certificates that end that round back
/// to the sender; a peer replaying one old timeout must not turn that into a stream.
#[test]
fn a_replayed_stale_timeout_is_answered_once_per_timer_period() {
    let mut net = Net::new(4);
    net.start();
    net.run(300);
    let stale = cairn_types::Timeout::sign(
        &chain(),
        1,
        cairn_types::QuorumCert::genesis(&chain()),
        None,
        ValidatorId(3),
        &SecretKey::from_seed(&[4; 32]),
    );
    let node = &mut net.nodes[0];
    assert!(node.round() > 2);
    let helps = |actions: &[Action]| {
        actions
            .iter()
            .filter(|a| matches!(a, Action::Send { .. }))
            .count()
    };
    let mut sent = 0;
    for _ in 0..50 {
        sent += helps(&node.handle(Event::timeout(ValidatorId(3), stale.clone())));
    }
    assert!(
        (1..=2).contains(&sent),
        "50 replays of one stale timeout made {sent} sends"
    );
    // After its timer fires it helps again: a lagging peer whose answer was lost still
    // gets one.
    let round = node.round();
    node.handle(Event::LocalTimeout { round });
    let again = helps(&node.handle(Event::timeout(ValidatorId(3), stale.clone())));
    assert!((1..=2).contains(&again), "{again} sends after the timer");
}

/// A TC of round `round` signed by validators 1, 2 and 3, all reporting the genesis QC.
fn tc_of(round: u64) -> cairn_types::TimeoutCert {
    let genesis = cairn_types::QuorumCert::genesis(&chain());
    let timeouts: Vec<_> = (1..4u8)
        .map(|i| {
            cairn_types::Timeout::sign(
                &chain(),
                round,
                genesis.clone(),
                None,
                ValidatorId(u16::from(i)),
                &SecretKey::from_seed(&[i + 1; 32]),
            )
        })
        .collect();
    cairn_types::TimeoutCert::from_timeouts(round, &timeouts).unwrap()
}

/// A validator far behind catches up from the certificates of a proposal or a timeout
/// of any later round, even one beyond its round window.
#[test]
fn a_lagging_validator_catches_up_from_a_far_proposal_or_timeout() {
    let net = Net::new(4);
    let window = Config::default().round_window;
    let far = 5 * window;
    // A proposal of round `far` on the genesis QC, justified by the TC of `far - 1`.
    let leader = net.nodes[0].validators.leader(far);
    let justify = cairn_types::QuorumCert::genesis(&chain());
    let header = cairn_types::BlockHeader {
        chain_id: chain(),
        height: 1,
        round: far,
        parent: justify.block_id(),
        payload_root: cairn_types::Block::payload_root_of(&[]),
        state_height: 0,
        state_root: Hash::ZERO,
        proposer: leader,
        timestamp_ms: 1,
        justify,
    };
    let block = cairn_types::Block {
        header,
        txs: Default::default(),
    };
    let key = SecretKey::from_seed(&[leader.0 as u8 + 1; 32]);
    let proposal = cairn_types::Proposal::sign(block, Some(tc_of(far - 1)), &key);
    let mut node = restart(&net, 1, SafetyData::genesis(&chain()));
    node.handle(Event::Start);
    node.handle(Event::proposal(leader, proposal));
    assert_eq!(node.round(), far, "caught up from the proposal's TC");

    // The same from a timeout of round `far + 1` carrying the TC of `far`.
    let mut node = restart(&net, 2, SafetyData::genesis(&chain()));
    node.handle(Event::Start);
    let timeout = cairn_types::Timeout::sign(
        &chain(),
        far + 1,
        cairn_types::QuorumCert::genesis(&chain()),
        Some(tc_of(far)),
        ValidatorId(3),
        &SecretKey::from_seed(&[4; 32]),
    );
    node.handle(Event::timeout(ValidatorId(3), timeout));
    assert_eq!(node.round(), far + 1, "caught up from the timeout's TC");
}
