//! The state claim in block headers (docs/PROTOCOL.md §6): a leader whose execution
//! lags repeats its parent's claim, and validators do not vote for a block whose
//! claim goes back along the chain.

use super::*;

/// The root the leader of round 3 says it computed after height 1.
fn root_after_1() -> Hash {
    Hash::digest(b"S_1")
}

/// Only round 3's leader reports an execution; every other leader lags at nothing.
fn one_report(round: u64) -> (cairn_types::Height, Hash) {
    if round == 3 {
        (1, root_after_1())
    } else {
        (0, Hash::ZERO)
    }
}

/// The committed blocks of validator `i`, from the blocks proposed.
fn committed_blocks(net: &Net, i: usize) -> Vec<cairn_types::Block> {
    net.committed[i]
        .iter()
        .map(|id| net.blocks[id].clone())
        .collect()
}

#[test]
fn a_lagging_leader_repeats_its_parents_claim() {
    let mut net = Net::new(4);
    net.executed = one_report;
    net.start();
    net.run(3_000);
    net.assert_consistent();
    let chain = committed_blocks(&net, 0);
    assert!(chain.len() >= 20, "{} blocks committed", chain.len());
    let mut previous = 0;
    for block in &chain {
        let header = &block.header;
        assert!(header.state_height >= previous, "claims never go back");
        previous = header.state_height;
        if header.height > 3 {
            // Later leaders executed nothing, yet vouch for what block 3 vouched for.
            assert_eq!(
                (header.state_height, header.state_root),
                (1, root_after_1()),
                "height {}",
                header.height
            );
        }
    }
}

#[test]
fn no_validator_votes_for_a_claim_below_its_parents() {
    let mut net = Net::new(4);
    net.executed = one_report;
    // The leader of round 6 sends a block that vouches for nothing again.
    net.rewrite = Some((6, |header| {
        header.state_height = 0;
        header.state_root = Hash::ZERO;
    }));
    net.start();
    let mut rewritten = None;
    for _ in 0..30 {
        net.run(500);
        net.fire_timers();
        rewritten = rewritten.or_else(|| {
            net.blocks
                .values()
                .find(|b| b.header.round == 6 && b.header.state_height == 0)
                .map(cairn_types::Block::id)
        });
    }
    let rewritten = rewritten.expect("round 6 was proposed");
    net.assert_consistent();
    for i in 0..4 {
        assert!(
            !net.committed[i].contains(&rewritten),
            "validator {i} committed the block whose claim went back"
        );
    }
    // The round timed out and the chain went on.
    let chain = committed_blocks(&net, 0);
    assert!(chain.len() >= 10, "{} blocks committed", chain.len());
    assert!(chain.iter().any(|b| b.header.round > 6));
}
