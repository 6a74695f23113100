//! The inflated-high-QC attack: a validator that claims, in the timeouts it signs, a
//! high QC for the round just before the timeout's round, and races the honest
//! validators to the next leader with a timeout certificate that contains that claim.
//!
//! If a certificate could carry a reported round without the QC behind it, the next
//! leader's proposal (which extends the highest QC that leader really has) would be
//! refused by every voter ("QC below the highest round in the TC"), and every round
//! after a failed one would fail too. Signing the inflated round needs only the
//! attacker's own key; only the rule that a TC carries, and is checked against, the QC
//! of its highest reported round defeats it.

use std::collections::{BTreeMap, BTreeSet};

use cairn_crypto::Hash;
use cairn_types::{QuorumCert, Round, Timeout, TimeoutCert, ValidatorId};

use super::super::craft::Ctx;
use super::super::rng::Rng;
use super::{Out, send};
use crate::Message;

/// What the attacker remembers: honest timeouts per round, and the rounds it already
/// sent a certificate for.
#[derive(Default)]
pub(crate) struct Inflater {
    seen: BTreeMap<Round, BTreeMap<ValidatorId, Timeout>>,
    certified: BTreeSet<Round>,
}

impl Inflater {
    /// A timeout from someone else: once a quorum less one is known for its round,
    /// add an inflated one of its own and send the certificate to everyone.
    pub(crate) fn observe(&mut self, ctx: &Ctx<'_>, message: &Message, rng: &mut Rng) -> Vec<Out> {
        let keep_from = ctx.round.saturating_sub(4);
        self.seen = self.seen.split_off(&keep_from);
        self.certified = self.certified.split_off(&keep_from);
        let Message::Timeout(t) = message else {
            return Vec::new();
        };
        if t.signer == ctx.me
            || t.round < keep_from
            || t.round > ctx.round + ctx.window
            || self.certified.contains(&t.round)
        {
            return Vec::new();
        }
        let round = t.round;
        let seen = self.seen.entry(round).or_default();
        seen.insert(t.signer, t.clone());
        if seen.len() + 1 < ctx.validators.quorum() {
            return Vec::new();
        }
        let mut timeouts: Vec<Timeout> = seen.values().cloned().collect();
        timeouts.push(inflated(ctx, round, rng));
        self.certified.insert(round);
        let Some(tc) = certificate(ctx, round, &timeouts, rng) else {
            return Vec::new();
        };
        ctx.others()
            .into_iter()
            .map(|to| send(to, Message::TimeoutCert(tc.clone())))
            .collect()
    }

    /// Its core's output: its own timeouts inflated; its own proposals and the
    /// certificates its core would send to lagging validators withheld (so rounds fail,
    /// the QC it collected as the failed round's leader stays unknown, and the attack
    /// gets its chance); votes unchanged.
    pub(crate) fn transform(
        &mut self,
        ctx: &Ctx<'_>,
        targets: Vec<ValidatorId>,
        message: Message,
        rng: &mut Rng,
        out: &mut Vec<Out>,
    ) {
        let message = match message {
            Message::Proposal(p) if p.block.header.proposer == ctx.me => return,
            Message::QuorumCert(_) | Message::TimeoutCert(_) => return,
            Message::Timeout(t) if t.signer == ctx.me => {
                Message::Timeout(inflated(ctx, t.round, rng))
            }
            other => other,
        };
        out.extend(targets.into_iter().map(|to| send(to, message.clone())));
    }
}

/// A timeout for `round` signed with high QC round `round - 1`, carrying a made-up QC
/// of that round (the signature covers only the rounds). The QC is made up even when
/// the attacker holds a real one, so that the timeout never teaches anyone that QC.
fn inflated(ctx: &Ctx<'_>, round: Round, rng: &mut Rng) -> Timeout {
    let claimed = round.saturating_sub(1);
    if claimed == 0 {
        return ctx.timeout(round, QuorumCert::genesis(ctx.chain), None);
    }
    let mut qc = ctx.high_qc.clone();
    qc.data.round = claimed;
    qc.data.block_id = Hash(rng.bytes32());
    qc.data.parent_round = claimed.saturating_sub(1);
    ctx.timeout(round, qc, None)
}

/// A certificate for `round` from `timeouts` (the last one inflated): as the honest
/// builder makes it (carrying the made-up QC), or — half the time — carrying the
/// highest honest QC while the attacker's entry claims more.
fn certificate(
    ctx: &Ctx<'_>,
    round: Round,
    timeouts: &[Timeout],
    rng: &mut Rng,
) -> Option<TimeoutCert> {
    let mut tc = TimeoutCert::from_timeouts(round, timeouts).ok()?;
    if rng.chance(0.5) {
        let honest = timeouts
            .iter()
            .filter(|t| t.signer != ctx.me)
            .map(|t| &t.high_qc)
            .max_by_key(|qc| qc.round());
        if let Some(qc) = honest {
            *tc.high_qc = qc.clone();
        }
    }
    Some(tc)
}
