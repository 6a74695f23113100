//! The stall report (`consensus_status`): what the driver last knew of its round, when
//! it last committed, and the last fault seen from each peer, turned into one sentence
//! saying why the chain is or is not moving.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use cairn_consensus::RoundView;
use cairn_rpc::types::{ConsensusStatus, NamedValidator, PeerReport, Signers};
use cairn_types::ValidatorId;

/// How often, at most, the driver publishes its round view while the round stays the
/// same (a new round is published at once).
const PUBLISH_EVERY: Duration = Duration::from_millis(100);
/// Longest fault description kept per peer.
const MAX_ERROR_CHARS: usize = 300;

/// What the stall report is built from, written by the driver and the message checks.
pub struct StallMonitor {
    inner: Mutex<Inner>,
    /// No commit for this long counts as a stall.
    stall_after: Duration,
}

struct Inner {
    view: RoundView,
    round_since: Instant,
    published: Instant,
    last_commit: Option<Instant>,
    peer_errors: Vec<Option<(String, Instant)>>,
}

/// Everything else a report needs, from the node's shared state.
pub struct ReportInputs<'a> {
    /// This validator.
    pub me: ValidatorId,
    /// Genesis names, by validator id.
    pub names: Vec<&'a str>,
    /// Validators connected now.
    pub connected: &'a [ValidatorId],
    /// The committed height.
    pub height: u64,
    /// The signatures a certificate needs.
    pub quorum: usize,
    /// Whether block sync runs.
    pub syncing: bool,
}

impl StallMonitor {
    /// A monitor for `n` validators that calls `stall_after` without a commit a stall.
    pub fn new(n: usize, stall_after: Duration) -> StallMonitor {
        let now = Instant::now();
        StallMonitor {
            inner: Mutex::new(Inner {
                view: RoundView::default(),
                round_since: now,
                published: now - PUBLISH_EVERY,
                last_commit: None,
                peer_errors: vec![None; n],
            }),
            stall_after,
        }
    }

    /// Whether the driver should publish its view now: the round changed, or the last
    /// publication is older than [`PUBLISH_EVERY`].
    pub fn due(&self, round: u64) -> bool {
        self.inner.lock().is_ok_and(|inner| {
            inner.view.round != round || inner.published.elapsed() >= PUBLISH_EVERY
        })
    }

    /// The driver's view of its round.
    pub fn publish(&self, view: RoundView) {
        if let Ok(mut inner) = self.inner.lock() {
            let now = Instant::now();
            if view.round != inner.view.round {
                inner.round_since = now;
            }
            inner.view = view;
            inner.published = now;
        }
    }

    /// A block was committed.
    pub fn note_commit(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.last_commit = Some(Instant::now());
        }
    }

    /// A fault seen from `from` (kept, cut to a bounded length, until the next one).
    pub fn note_peer_error(&self, from: ValidatorId, error: &str) {
        if let Ok(mut inner) = self.inner.lock()
            && let Some(slot) = inner.peer_errors.get_mut(usize::from(from.0))
        {
            let text: String = error.chars().take(MAX_ERROR_CHARS).collect();
            *slot = Some((text, Instant::now()));
        }
    }

    /// The report.
    pub fn report(&self, inputs: &ReportInputs<'_>) -> Option<ConsensusStatus> {
        let inner = self.inner.lock().ok()?;
        let view = &inner.view;
        let n = inputs.names.len();
        let named = |id: ValidatorId| NamedValidator {
            id: id.0,
            name: inputs
                .names
                .get(usize::from(id.0))
                .copied()
                .unwrap_or("?")
                .to_string(),
        };
        let signers = |have: &[ValidatorId]| Signers {
            have: have.iter().map(|v| v.0).collect(),
            missing: (0..n as u16)
                .filter(|i| !have.contains(&ValidatorId(*i)))
                .collect(),
        };
        let peers: Vec<PeerReport> = (0..n as u16)
            .map(ValidatorId)
            .filter(|id| *id != inputs.me)
            .map(|id| {
                let error = inner.peer_errors.get(usize::from(id.0)).cloned().flatten();
                PeerReport {
                    id: id.0,
                    name: named(id).name,
                    connected: inputs.connected.contains(&id),
                    last_error_age_ms: error.as_ref().map(|(_, at)| millis(at.elapsed())),
                    last_error: error.map(|(text, _)| text),
                }
            })
            .collect();
        let since_commit = inner.last_commit.map(|at| at.elapsed());
        let stalled = since_commit.unwrap_or(inner.round_since.elapsed()) > self.stall_after;
        let mut status = ConsensusStatus {
            validator: inputs.me.0,
            round: view.round,
            leader: view.leader.map(named),
            round_age_ms: millis(inner.round_since.elapsed()),
            height: inputs.height,
            last_commit_age_ms: since_commit.map(millis),
            high_qc_round: view.high_qc_round,
            entered_by_timeout: view.entered_by_timeout,
            consecutive_timeouts: view.consecutive_timeouts,
            votes: signers(&view.votes),
            timeouts: signers(&view.timeouts),
            quorum: inputs.quorum,
            recovering: view.recovering,
            syncing: inputs.syncing,
            stalled,
            peers,
            diagnosis: String::new(),
        };
        status.diagnosis = diagnose(&status);
        Some(status)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One sentence on what the node is doing or waiting for, from its report.
pub fn diagnose(s: &ConsensusStatus) -> String {
    if s.syncing {
        return "syncing: fetching the blocks it missed from peers".into();
    }
    if s.recovering {
        return "recovering its safety state: it signs nothing until enough validators \
                have reported their highest certificates"
            .into();
    }
    let down: Vec<&str> = s
        .peers
        .iter()
        .filter(|p| !p.connected)
        .map(|p| p.name.as_str())
        .collect();
    let up = s.peers.len() - down.len();
    if !s.stalled {
        return match s.last_commit_age_ms {
            Some(ms) => format!("committing: last commit {ms} ms ago, in round {}", s.round),
            None => format!("starting: in round {} for {} ms", s.round, s.round_age_ms),
        };
    }
    if up + 1 < s.quorum {
        return format!(
            "stalled: connected to {up} of {} other validators, a quorum needs {} with this one; not connected: {}",
            s.peers.len(),
            s.quorum,
            down.join(", ")
        );
    }
    let timeouts = s.timeouts.have.len();
    match &s.leader {
        Some(leader) if leader.id != s.validator && down.contains(&leader.name.as_str()) => {
            format!(
                "stalled: the leader of round {}, {}, is not connected; waiting for the round to time out ({timeouts} of {} timeouts held, missing {:?})",
                s.round, leader.name, s.quorum, s.timeouts.missing
            )
        }
        Some(leader) if timeouts > 0 => format!(
            "stalled: round {} (leader {}) is timing out: {timeouts} of {} timeouts held, missing {:?}",
            s.round, leader.name, s.quorum, s.timeouts.missing
        ),
        Some(leader) => format!(
            "stalled: waiting for the proposal of round {} from {} (for {} ms)",
            s.round, leader.name, s.round_age_ms
        ),
        None => format!(
            "stalled: round {}'s leader is not known yet: the block its certificate names is still being fetched",
            s.round
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(connected: &'a [ValidatorId]) -> ReportInputs<'a> {
        ReportInputs {
            me: ValidatorId(0),
            names: vec!["v0", "v1", "v2", "v3"],
            connected,
            height: 7,
            quorum: 3,
            syncing: false,
        }
    }

    fn view(round: u64, leader: u16, timeouts: &[u16]) -> RoundView {
        RoundView {
            round,
            leader: Some(ValidatorId(leader)),
            timeouts: timeouts.iter().map(|t| ValidatorId(*t)).collect(),
            ..RoundView::default()
        }
    }

    #[test]
    fn a_fresh_commit_is_not_a_stall() {
        let monitor = StallMonitor::new(4, Duration::from_secs(5));
        monitor.publish(view(3, 3, &[]));
        monitor.note_commit();
        let all = [ValidatorId(1), ValidatorId(2), ValidatorId(3)];
        let report = monitor.report(&inputs(&all)).unwrap();
        assert!(!report.stalled);
        assert!(
            report.diagnosis.starts_with("committing"),
            "{}",
            report.diagnosis
        );
        assert_eq!(report.leader.unwrap().name, "v3");
    }

    #[test]
    fn a_stall_names_the_missing_leader_and_the_missing_timeouts() {
        let monitor = StallMonitor::new(4, Duration::ZERO);
        monitor.publish(view(9, 2, &[0, 1]));
        monitor.note_peer_error(ValidatorId(3), "bad signature on a vote of round 8");
        let some = [ValidatorId(1), ValidatorId(3)];
        let report = monitor.report(&inputs(&some)).unwrap();
        assert!(report.stalled);
        assert!(
            report.diagnosis.contains("v2, is not connected"),
            "{}",
            report.diagnosis
        );
        assert_eq!(report.timeouts.have, vec![0, 1]);
        assert_eq!(report.timeouts.missing, vec![2, 3]);
        let v3 = report.peers.iter().find(|p| p.id == 3).unwrap();
        assert_eq!(
            v3.last_error.as_deref(),
            Some("bad signature on a vote of round 8")
        );
        assert!(v3.connected);
    }

    #[test]
    fn too_few_peers_is_named_first() {
        let monitor = StallMonitor::new(4, Duration::ZERO);
        monitor.publish(view(9, 1, &[]));
        let report = monitor.report(&inputs(&[ValidatorId(1)])).unwrap();
        assert!(
            report.diagnosis.contains("connected to 1 of 3"),
            "{}",
            report.diagnosis
        );
        assert!(report.diagnosis.contains("v2, v3"), "{}", report.diagnosis);
    }

    #[test]
    fn peer_errors_are_bounded_and_unknown_peers_ignored() {
        let monitor = StallMonitor::new(4, Duration::ZERO);
        monitor.note_peer_error(ValidatorId(1), &"x".repeat(10_000));
        monitor.note_peer_error(ValidatorId(40), "no such validator");
        let report = monitor.report(&inputs(&[])).unwrap();
        let v1 = report.peers.iter().find(|p| p.id == 1).unwrap();
        assert_eq!(v1.last_error.as_ref().unwrap().len(), MAX_ERROR_CHARS);
    }
}
