//! Block limits: a leader builds within them, and voters refuse proposals beyond them
//! even when well signed by the round's leader.

use parity_scale_codec::Encode;

use super::*;

/// Validator `i` of a four-validator chain running `config`.
fn node(i: usize, config: &Config) -> Consensus {
    let set = ValidatorSet::new(keys(4).iter().map(SecretKey::public).collect()).unwrap();
    Consensus::new(Setup {
        config: config.clone(),
        chain: chain(),
        validators: set,
        me: ValidatorId(i as u16),
        key: SecretKey::from_seed(&[i as u8 + 1; 32]),
        safety: SafetyData::genesis(&chain()),
        committed: BlockInfo::genesis(&chain()),
        blocks: Vec::new(),
        history: Vec::new(),
    })
    .unwrap()
}

/// The round-1 leader's signed proposal of `txs`, on the genesis QC.
fn proposal(txs: Vec<Transaction>) -> cairn_types::Proposal {
    let justify = cairn_types::QuorumCert::genesis(&chain());
    let header = cairn_types::BlockHeader {
        chain_id: chain(),
        height: 1,
        round: 1,
        parent: justify.block_id(),
        payload_root: cairn_types::Block::payload_root_of(&txs),
        state_height: 0,
        state_root: Hash::ZERO,
        proposer: ValidatorId(1),
        timestamp_ms: 10,
        justify,
    };
    let block = cairn_types::Block {
        header,
        txs: cairn_types::BoundedVec::new(txs).unwrap(),
    };
    cairn_types::Proposal::sign(block, None, &keys(4)[1])
}

fn votes(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| {
            matches!(
                a,
                Action::Send {
                    message: Message::Vote(_),
                    ..
                }
            )
        })
        .count()
}

#[test]
fn a_proposal_above_the_block_limits_gets_no_vote() {
    let config = Config {
        max_block_txs: 3,
        max_block_bytes: 4_000,
        ..Config::default()
    };
    let cases = [
        ("3 transactions", (1..=3).map(tx).collect::<Vec<_>>(), 1),
        ("4 transactions", (1..=4).map(tx).collect(), 0),
    ];
    for (what, txs, expected) in cases {
        let mut voter = node(3, &config);
        voter.handle(Event::Start);
        let actions = voter.handle(Event::proposal(ValidatorId(1), proposal(txs)));
        assert_eq!(votes(&actions), expected, "{what}");
    }
    // Within the count but above the byte limit: one large value.
    let mut big = tx(1);
    big.payload.op = Op::Put {
        key: BoundedBytes::new(b"k".to_vec()).unwrap(),
        value: BoundedBytes::new(vec![7; 5_000]).unwrap(),
    };
    let mut voter = node(3, &config);
    voter.handle(Event::Start);
    let actions = voter.handle(Event::proposal(ValidatorId(1), proposal(vec![big])));
    assert_eq!(votes(&actions), 0, "a block above max_block_bytes");
}

#[test]
fn the_leader_fills_a_block_only_up_to_its_byte_limit() {
    let config = Config {
        max_block_bytes: 2_000,
        ..Config::default()
    };
    let mut leader = node(1, &config);
    leader.handle(Event::Start);
    let actions = leader.handle(Event::Payload {
        round: 1,
        txs: (1..=50).map(tx).collect(),
        state_height: 0,
        state_root: Hash::ZERO,
        now_ms: 10,
    });
    let block = actions
        .iter()
        .find_map(|a| match a {
            Action::Broadcast {
                message: Message::Proposal(p),
            } => Some(p.block.clone()),
            _ => None,
        })
        .expect("the leader proposes");
    let size = block.encoded_size();
    assert!(size <= 2_000, "{size} bytes");
    assert!(
        block.txs.len() > 5,
        "only {} transactions fit",
        block.txs.len()
    );
    let mut voter = node(3, &config);
    voter.handle(Event::Start);
    let proposal = cairn_types::Proposal::sign(block, None, &keys(4)[1]);
    assert_eq!(
        votes(&voter.handle(Event::proposal(ValidatorId(1), proposal))),
        1
    );
}
