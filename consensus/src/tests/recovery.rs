//! Re-entry without safety state: a validator that may have signed what it no longer
//! remembers signs nothing until `n − quorum + f + 1` other validators have reported
//! their highest certificates, and then only in rounds above the highest reported
//! plus 2 (docs/PROTOCOL.md, "Re-entry without safety state").

use super::*;

/// Validator `i` of `net` rebuilt from `safety` with an empty data directory: no
/// committed chain, no blocks.
fn wiped(net: &Net, i: usize, safety: SafetyData) -> Consensus {
    net.rebuilt(i, safety, BlockInfo::genesis(&chain()))
}

/// The rounds of the votes, timeouts and proposals in `actions` signed by `me` (sent,
/// broadcast or recorded in a persisted safety state), and of any payload request.
fn signed_rounds(me: ValidatorId, actions: &[Action]) -> Vec<u64> {
    let of = |m: &Message| match m {
        Message::Vote(v) if v.voter == me => Some(v.data.round),
        Message::Timeout(t) if t.signer == me => Some(t.round),
        Message::Proposal(p) if p.block.header.proposer == me => Some(p.block.header.round),
        _ => None,
    };
    actions
        .iter()
        .flat_map(|a| match a {
            Action::Send { message, .. } | Action::Broadcast { message } => {
                of(message).into_iter().collect::<Vec<_>>()
            }
            Action::RequestPayload { round, .. } => vec![*round],
            Action::PersistSafety(s) => {
                let vote = s.last_vote.as_ref().map(|v| v.data.round);
                let timeout = s.last_timeout.as_ref().map(|t| t.round);
                vote.into_iter().chain(timeout).collect()
            }
            _ => Vec::new(),
        })
        .collect()
}

fn status_requests(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| {
            matches!(
                a,
                Action::Broadcast {
                    message: Message::StatusRequest
                }
            )
        })
        .count()
}

fn finished(actions: &[Action]) -> Option<(u64, u64)> {
    actions.iter().find_map(|a| match a {
        Action::Recovery(Recovery::Finished {
            signs_from_round,
            highest_reported_round,
            ..
        }) => Some((*signs_from_round, *highest_reported_round)),
        _ => None,
    })
}

/// Runs `net` for `limit` events, holding back every `Status` answer addressed to
/// validator `who` (in `held`), and returns everything `who` did.
fn run_holding_status(
    net: &mut Net,
    who: usize,
    limit: usize,
    held: &mut Vec<(ValidatorId, RoundStatus)>,
) -> Vec<Action> {
    let mut done = Vec::new();
    for _ in 0..limit {
        let Some((to, event)) = net.queue.pop_front() else {
            break;
        };
        if let Event::Message {
            from,
            message: Message::Status(status),
        } = &event
            && to.0 as usize == who
        {
            held.push((*from, status.clone()));
            continue;
        }
        let actions = net.nodes[to.0 as usize].handle(event);
        if to.0 as usize == who {
            done.extend(actions.iter().cloned());
        }
        net.perform(to, actions);
    }
    done
}

/// A cluster that has run for a while, then validator 1 restarted with its data
/// directory lost (it starts from `SafetyData::recovering`).
fn cluster_with_wiped_validator_1() -> (Net, Vec<Action>) {
    let mut net = Net::new(4);
    net.start();
    net.run(400);
    assert!(net.nodes[1].safety().highest_voted_round > 5);
    net.nodes[1] = wiped(&net, 1, SafetyData::recovering(&chain()));
    net.committed[1].clear();
    let actions = net.nodes[1].handle(Event::Start);
    (net, actions)
}

#[test]
fn a_recovering_validator_signs_nothing_until_enough_validators_answer() {
    let (mut net, start) = cluster_with_wiped_validator_1();
    let me = ValidatorId(1);
    assert!(net.nodes[1].is_recovering());
    assert_eq!(net.nodes[1].recovery_quorum(), 3, "2f + 1 for n = 4");
    assert!(start.iter().any(|a| matches!(
        a,
        Action::Recovery(Recovery::Started {
            reason: RecoveryReason::AtStart,
            replies_needed: 3
        })
    )));
    assert_eq!(status_requests(&start), 1, "asks at start");
    net.perform(me, start);

    // The others keep going; its timer fires again and again; no answer reaches it.
    let mut held = Vec::new();
    let mut done = Vec::new();
    for _ in 0..20 {
        done.extend(run_holding_status(&mut net, 1, 2_000, &mut held));
        net.fire_timers();
    }
    assert!(
        signed_rounds(me, &done).is_empty(),
        "a recovering validator signed: {:?}",
        signed_rounds(me, &done)
    );
    assert!(
        !done.iter().any(|a| matches!(a, Action::PersistBlock(_))),
        "nothing to vote for, so nothing to persist"
    );
    assert!(
        status_requests(&done) >= 10,
        "asks again on its timers and as it follows"
    );
    assert!(net.nodes[1].is_recovering());
    // It followed the chain all the same (rounds, fetched blocks, commits).
    assert!(net.nodes[1].round() > 10);
    assert!(net.committed[1].len() > 5, "commits as it follows");

    // Two distinct answers, one of them twice: still two, still recovering.
    let from = |id: u16| {
        held.iter()
            .rev()
            .find(|(f, _)| f.0 == id)
            .cloned()
            .expect("answered")
    };
    let mut answers = Vec::new();
    for id in [0, 2, 0] {
        let (f, status) = from(id);
        answers.push(status.round());
        let actions = net.nodes[1].handle(Event::message(f, Message::Status(status)));
        assert!(signed_rounds(me, &actions).is_empty());
        assert!(finished(&actions).is_none(), "{id}: not enough answers yet");
        net.perform(me, actions);
    }
    assert!(
        net.nodes[1].is_recovering(),
        "the same validator counts once"
    );

    // The third distinct answer ends it.
    let (f, status) = from(3);
    answers.push(status.round());
    let actions = net.nodes[1].handle(Event::message(f, Message::Status(status)));
    let x = answers.iter().copied().max().unwrap();
    assert_eq!(finished(&actions), Some((x + 3, x)));
    let persisted = actions
        .iter()
        .find_map(|a| match a {
            Action::PersistSafety(s) => Some(s.clone()),
            _ => None,
        })
        .expect("the end of the recovery is persisted");
    assert!(!persisted.recovering);
    assert_eq!(persisted.highest_voted_round, x + 2);
    assert_eq!(persisted.highest_proposed_round, x + 2);
    assert!(!net.nodes[1].is_recovering());
    net.perform(me, actions);

    // From now on it signs, but only in rounds from X + 3 on.
    let mut after = Vec::new();
    for _ in 0..3 {
        after.extend(run_holding_status(&mut net, 1, 2_000, &mut held));
        net.fire_timers();
    }
    let rounds = signed_rounds(me, &after);
    assert!(!rounds.is_empty(), "it signs again");
    assert!(
        rounds.iter().all(|&r| r >= x + 3),
        "signed in {rounds:?}, below {}",
        x + 3
    );
    net.assert_consistent();
}

#[test]
fn an_answer_with_a_bad_certificate_does_not_count() {
    let (mut net, start) = cluster_with_wiped_validator_1();
    net.perform(ValidatorId(1), start);
    let mut held = Vec::new();
    run_holding_status(&mut net, 1, 1_000, &mut held);
    let status_of = |id: u16| {
        held.iter()
            .find(|(f, _)| f.0 == id)
            .map(|(_, s)| s.clone())
            .expect("answered")
    };
    let node = &mut net.nodes[1];
    // Validator 0's answer with one broken signature in its QC, then with a TC of
    // another chain's genesis QC: both dropped, neither counts.
    let mut bad = status_of(0);
    assert!(!bad.high_qc.signatures.is_empty());
    let mut signatures = bad.high_qc.signatures.clone().into_inner();
    signatures[0].1.0[0] ^= 1;
    bad.high_qc.signatures = cairn_types::BoundedVec::new(signatures).unwrap();
    node.handle(Event::message(ValidatorId(0), Message::Status(bad)));
    let mut bad_tc = status_of(0);
    bad_tc.high_tc = Some(cairn_types::TimeoutCert {
        round: bad_tc.high_qc.round() + 1,
        high_qc: Box::new(cairn_types::QuorumCert::genesis(&chain())),
        entries: Default::default(),
    });
    node.handle(Event::message(ValidatorId(0), Message::Status(bad_tc)));
    for id in [2, 3] {
        let actions = node.handle(Event::message(
            ValidatorId(id),
            Message::Status(status_of(id)),
        ));
        assert!(
            finished(&actions).is_none(),
            "the bad answers did not count"
        );
    }
    assert!(node.is_recovering());
    // Validator 0's real answer counts.
    let actions = node.handle(Event::message(
        ValidatorId(0),
        Message::Status(status_of(0)),
    ));
    assert!(finished(&actions).is_some());
    // Answers claiming to be from itself or from no validator never count.
    let mut other = wiped(&net, 2, SafetyData::recovering(&chain()));
    other.handle(Event::Start);
    for from in [2, 9, 0, 0, 1] {
        other.handle(Event::message(
            ValidatorId(from),
            Message::Status(status_of(0)),
        ));
    }
    assert!(other.is_recovering(), "only 0 and 1 counted");
}

#[test]
fn a_certificate_with_its_own_forgotten_signature_makes_a_validator_recover() {
    let mut net = Net::new(4);
    net.start();
    net.run(400);
    // A QC validator 1 signed in, of a round above 2.
    let qc = (0..4)
        .map(|i| net.nodes[i].safety().high_qc.clone())
        .find(|qc| qc.round() > 2 && qc.signatures.iter().any(|(id, _)| id.0 == 1))
        .expect("validator 1 is in some high QC");
    // Validator 1 restarts from an old backup: the genesis state, not recovering.
    let mut node = wiped(&net, 1, SafetyData::genesis(&chain()));
    let start = node.handle(Event::Start);
    assert!(!node.is_recovering());
    // Every validator asks for status at start (to catch up with the rounds it
    // missed); this one is not recovering, so nothing else is asked of the answers.
    assert!(finished(&start).is_none() && status_requests(&start) == 1);
    let actions = node.handle(Event::quorum_cert(ValidatorId(0), qc.clone()));
    assert!(node.is_recovering());
    assert!(actions.iter().any(|a| matches!(
        a,
        Action::Recovery(Recovery::Started {
            reason: RecoveryReason::OwnSignatureAbove {
                highest_voted_round: 0,
                ..
            },
            replies_needed: 3,
        })
    )));
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::PersistSafety(s) if s.recovering)),
        "the switch is persisted"
    );
    assert_eq!(status_requests(&actions), 1);
    assert!(signed_rounds(ValidatorId(1), &actions).is_empty());

    // A validator whose state is current never switches: its own signatures are in
    // certificates of rounds it remembers.
    let mut fresh = Net::new(4);
    fresh.start();
    for _ in 0..5 {
        fresh.run(1_000);
        fresh.fire_timers();
    }
    assert!(fresh.nodes.iter().all(|n| !n.is_recovering()));
    assert!(fresh.committed.iter().all(|c| c.len() > 20));
}

#[test]
fn a_status_request_is_answered_once_per_peer_per_timer_period() {
    let net = Net::new(4);
    let mut node = wiped(&net, 0, SafetyData::genesis(&chain()));
    node.handle(Event::Start);
    let answers = |actions: &[Action]| {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send {
                    to,
                    message: Message::Status(s),
                } => Some((to.0, s.high_qc.round())),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let mut got = Vec::new();
    for from in [1, 1, 2, 1, 0, 2, 7] {
        got.extend(answers(
            &node.handle(Event::message(ValidatorId(from), Message::StatusRequest)),
        ));
    }
    assert_eq!(
        got,
        vec![(1, 0), (2, 0)],
        "one answer per peer; none to itself or to a stranger"
    );
    // A non-recovering validator ignores answers it did not ask for.
    let status = RoundStatus {
        high_qc: cairn_types::QuorumCert::genesis(&chain()),
        high_tc: None,
    };
    assert!(
        node.handle(Event::message(ValidatorId(1), Message::Status(status)))
            .is_empty()
    );
    // After its timer fires, each asks and is answered again.
    let round = node.round();
    node.handle(Event::LocalTimeout { round });
    let again: Vec<_> = [1, 1, 2]
        .into_iter()
        .flat_map(|from| {
            answers(&node.handle(Event::message(ValidatorId(from), Message::StatusRequest)))
        })
        .collect();
    assert_eq!(again, vec![(1, 0), (2, 0)]);
}

/// The bound is tight: the leader of round 3 (validator 3, Byzantine) shows its
/// proposal only to validator 1, which votes and loses its data directory. Validators 0
/// and 2 hold the QC of round 1 at most (they voted in round 2 and never saw QC(2)), and
/// the Byzantine validator reports that one too: X = 1 although validator 1 voted in
/// round X + 2 = 3. Barring up to X + 2 refuses the leader's second round-3 proposal;
/// barring only up to X + 1 would sign it.
#[test]
fn the_bound_is_tight_a_withheld_proposal_needs_the_plus_two() {
    let mut net = Net::new(4);
    let (v1, v3) = (ValidatorId(1), ValidatorId(3));
    let set = net.nodes[0].validators.clone();
    assert_eq!((set.leader(3), set.leader(4)), (v3, ValidatorId(0)));
    net.start();
    // Run until validator 1 votes in round 3; validator 3's round-3 proposal reaches
    // only validator 1.
    let mut first_vote = None;
    for _ in 0..500 {
        let Some((to, event)) = net.queue.pop_front() else {
            break;
        };
        if let Event::Message {
            message: Message::Proposal(p),
            ..
        } = &event
            && p.block.header.round == 3
            && to != v1
        {
            continue;
        }
        let actions = net.nodes[to.0 as usize].handle(event);
        if to == v1 {
            first_vote = actions.iter().find_map(|a| match a {
                Action::Send {
                    message: Message::Vote(v),
                    ..
                } if v.data.round == 3 => Some(v.data),
                _ => None,
            });
        }
        net.perform(to, actions);
        if first_vote.is_some() {
            break;
        }
    }
    let first_vote = first_vote.expect("validator 1 voted in round 3");
    for i in [0, 2] {
        assert_eq!(net.nodes[i].safety().high_qc.round(), 1);
    }
    let qc2 = net.nodes[3].safety().high_qc.clone();
    assert_eq!(qc2.round(), 2, "the leader of round 3 holds QC(2)");

    // Validator 1 loses its data and recovers: X = 1.
    net.queue.clear();
    let mut node = wiped(&net, 1, SafetyData::recovering(&chain()));
    node.handle(Event::Start);
    let mut end = Vec::new();
    for i in [0u16, 2] {
        let answer = net.nodes[i as usize].handle(Event::message(v1, Message::StatusRequest));
        for a in answer {
            if let Action::Send { message, .. } = a {
                end = node.handle(Event::message(ValidatorId(i), message));
            }
        }
    }
    let stale = RoundStatus {
        high_qc: net.nodes[0].safety().high_qc.clone(),
        high_tc: None,
    };
    end.extend(node.handle(Event::message(v3, Message::Status(stale))));
    assert_eq!(finished(&end), Some((4, 1)), "X = 1: signs from round 4");

    // The Byzantine leader's second proposal for round 3, on QC(2).
    let mut second = net.nodes[3]
        .proposals
        .get(&3)
        .expect("the leader kept its proposal")
        .block
        .clone();
    second.header.timestamp_ms += 1;
    assert_ne!(second.id(), first_vote.block_id);
    let second = cairn_types::Proposal::sign(second, None, &SecretKey::from_seed(&[4; 32]));
    let votes_for_second = |node: &mut Consensus, net: &Net| {
        let mut all = Vec::new();
        let mut next = vec![Event::proposal(v3, second.clone())];
        while let Some(event) = next.pop() {
            let actions = node.handle(event);
            // Its ancestors come from the others' stores.
            for a in &actions {
                if let Action::FetchBlock { id, .. } = a {
                    let block = net.blocks.get(id).cloned().expect("proposed");
                    next.push(Event::BlockFetched { block });
                }
            }
            all.extend(actions);
        }
        signed_rounds(v1, &all).contains(&3)
    };
    assert!(!votes_for_second(&mut node, &net), "round 3 is barred");
    assert_eq!(node.round(), 3, "it did reach round 3");

    // Barring only up to X + 1 = 2 would sign a second vote in round 3.
    let loose = SafetyData {
        highest_voted_round: 2,
        highest_proposed_round: 2,
        ..SafetyData::genesis(&chain())
    };
    let mut loose = wiped(&net, 1, loose);
    loose.handle(Event::Start);
    assert!(votes_for_second(&mut loose, &net), "X + 1 is not enough");
}
