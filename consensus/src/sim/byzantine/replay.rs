//! The replay flood: a validator that takes part honestly and also re-sends, over and
//! over, valid messages it has seen — its own and others' proposals, votes, timeouts
//! and certificates, of current and past rounds. Every replay verifies, so only the
//! receivers' bookkeeping stands between it and a storm: a replay must cost no
//! signature work, change nothing, and make no honest validator send anything more
//! than a bounded answer.

use std::collections::VecDeque;

use super::super::craft::Ctx;
use super::super::rng::Rng;
use super::{Out, send};
use crate::Message;

/// Messages remembered for replay.
const HISTORY: usize = 256;
/// Replays sent for every message received.
const PER_RECEIVED: usize = 2;
/// Replays sent with every batch of its own messages.
const PER_BATCH: usize = 6;

/// What the replayer remembers.
#[derive(Default)]
pub(crate) struct Replayer {
    history: VecDeque<Message>,
}

impl Replayer {
    /// A message it received: remembered, and answered with replays.
    pub(crate) fn observe(&mut self, ctx: &Ctx<'_>, message: &Message, rng: &mut Rng) -> Vec<Out> {
        self.remember(message.clone());
        self.replays(ctx, PER_RECEIVED, rng)
    }

    /// Its own messages go out unchanged, followed by replays.
    pub(crate) fn transform(
        &mut self,
        ctx: &Ctx<'_>,
        targets: Vec<cairn_types::ValidatorId>,
        message: Message,
        rng: &mut Rng,
        out: &mut Vec<Out>,
    ) {
        out.extend(targets.into_iter().map(|to| send(to, message.clone())));
        self.remember(message);
        out.extend(self.replays(ctx, PER_BATCH, rng));
    }

    fn remember(&mut self, message: Message) {
        if self.history.len() >= HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(message);
    }

    fn replays(&mut self, ctx: &Ctx<'_>, count: usize, rng: &mut Rng) -> Vec<Out> {
        let others = ctx.others();
        (0..count)
            .filter_map(|_| {
                let message = self.history.get(rng.index(self.history.len())?)?.clone();
                let to = *others.get(rng.index(others.len())?)?;
                Some(send(to, message))
            })
            .collect()
    }
}
