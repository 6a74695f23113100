//! The network model: delays, drops, duplicates and partitions, calm after GST.
//!
//! Before the global stabilization time (GST) a message is dropped with probability
//! `drop`, and otherwise delivered after a delay drawn from `min_delay_ms..=max_delay_ms`;
//! random delays reorder messages. From GST on nothing is dropped and every delay is
//! at most `stable_max_delay_ms`. Any message may be duplicated (with probability
//! `duplicate`, the copy taking its own delay), before and after GST. A partition
//! cuts the links between its groups from `from_ms` until `until_ms`; a message
//! crosses only if its link is up when it is sent.

use super::rng::Rng;

/// Delay, loss and duplication of messages between validators.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkConfig {
    /// Shortest delay of a message, in virtual milliseconds.
    pub min_delay_ms: u64,
    /// Longest delay before GST.
    pub max_delay_ms: u64,
    /// Longest delay from GST on (the known bound of partial synchrony).
    pub stable_max_delay_ms: u64,
    /// Probability that a message sent before GST is lost.
    pub drop: f64,
    /// Probability that a message is delivered twice.
    pub duplicate: f64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            min_delay_ms: 5,
            max_delay_ms: 250,
            stable_max_delay_ms: 80,
            drop: 0.0,
            duplicate: 0.0,
        }
    }
}

/// A partition: while active, instances in different groups cannot reach each other.
/// Instances named in no group form one more group together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// Instance indexes per group (validators `0..n`, then twins in the order added).
    pub groups: Vec<Vec<usize>>,
    /// When the partition starts.
    pub from_ms: u64,
    /// When it heals.
    pub until_ms: u64,
}

impl Partition {
    fn group_of(&self, instance: usize) -> usize {
        self.groups
            .iter()
            .position(|g| g.contains(&instance))
            .unwrap_or(usize::MAX)
    }

    fn separates(&self, a: usize, b: usize, now: u64) -> bool {
        self.from_ms <= now && now < self.until_ms && self.group_of(a) != self.group_of(b)
    }
}

/// Counters of what the network did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkStats {
    /// Messages handed to the network.
    pub sent: u64,
    /// Lost to random drops.
    pub dropped: u64,
    /// Lost to partitions.
    pub partitioned: u64,
    /// Extra copies delivered.
    pub duplicated: u64,
}

/// The network of one run.
pub(crate) struct Network {
    config: NetworkConfig,
    partitions: Vec<Partition>,
    gst: u64,
    rng: Rng,
    pub(crate) stats: NetworkStats,
}

impl Network {
    pub(crate) fn new(
        config: NetworkConfig,
        partitions: Vec<Partition>,
        gst: u64,
        rng: Rng,
    ) -> Network {
        Network {
            config,
            partitions,
            gst,
            rng,
            stats: NetworkStats::default(),
        }
    }

    /// Whether instances `a` and `b` can reach each other at `now`.
    pub(crate) fn connected(&self, a: usize, b: usize, now: u64) -> bool {
        !self.partitions.iter().any(|p| p.separates(a, b, now))
    }

    /// The delays after which a message from `a` to `b` sent at `now` arrives: none if
    /// it is lost, two if it is duplicated.
    pub(crate) fn route(&mut self, a: usize, b: usize, now: u64) -> Deliveries {
        self.stats.sent += 1;
        if !self.connected(a, b, now) {
            self.stats.partitioned += 1;
            return Deliveries::default();
        }
        let stable = now >= self.gst;
        if !stable && self.rng.chance(self.config.drop) {
            self.stats.dropped += 1;
            return Deliveries::default();
        }
        let first = Some(self.delay(stable));
        let copy = if self.rng.chance(self.config.duplicate) {
            self.stats.duplicated += 1;
            Some(self.delay(stable))
        } else {
            None
        };
        Deliveries { first, copy }
    }

    fn delay(&mut self, stable: bool) -> u64 {
        let max = if stable {
            self.config.stable_max_delay_ms
        } else {
            self.config.max_delay_ms
        };
        self.rng.range(self.config.min_delay_ms, max)
    }
}

/// Up to two delivery delays for one message.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Deliveries {
    first: Option<u64>,
    copy: Option<u64>,
}

impl Iterator for Deliveries {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        self.first.take().or_else(|| self.copy.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(config: NetworkConfig, partitions: Vec<Partition>, gst: u64) -> Network {
        Network::new(config, partitions, gst, Rng::new(1))
    }

    #[test]
    fn partitions_cut_links_until_they_heal() {
        let p = Partition {
            groups: vec![vec![0, 1], vec![2]],
            from_ms: 100,
            until_ms: 200,
        };
        let n = net(NetworkConfig::default(), vec![p], 200);
        assert!(n.connected(0, 2, 50));
        assert!(!n.connected(0, 2, 100));
        assert!(n.connected(0, 1, 150));
        // 3 is in no group: it sits with the other unnamed instances, apart from all.
        assert!(!n.connected(3, 1, 150));
        assert!(n.connected(0, 2, 200));
    }

    #[test]
    fn after_gst_nothing_is_lost_and_delays_are_bounded() {
        let config = NetworkConfig {
            drop: 1.0,
            ..NetworkConfig::default()
        };
        let mut n = net(config.clone(), vec![], 1_000);
        assert_eq!(n.route(0, 1, 10).count(), 0);
        for _ in 0..1_000 {
            let delays: Vec<u64> = n.route(0, 1, 1_000).collect();
            assert_eq!(delays.len(), 1);
            assert!(delays[0] <= config.stable_max_delay_ms);
        }
        assert_eq!(n.stats.dropped, 1);
    }

    #[test]
    fn duplicates_arrive_twice() {
        let config = NetworkConfig {
            duplicate: 1.0,
            ..NetworkConfig::default()
        };
        let mut n = net(config, vec![], 0);
        assert_eq!(n.route(0, 1, 0).count(), 2);
    }
}
