//! Added delay and jitter on a host's outgoing packets, without the kernel's netem
//! (which these machines lack): an iptables rule inside the host's namespace hands the
//! chosen packets to an NFQUEUE, and a thread of the runner, itself moved into that
//! namespace, holds each packet for the delay before letting it go.
//!
//! Each packet waits `delay ± jitter` (uniform), but never leaves before the packet
//! queued ahead of it: the link adds jitter without reordering, as a real path with
//! varying queueing does (netem reorders unless given a rate; TCP over a reordering
//! link measures its fast-retransmit logic more than the node). The rule uses
//! `--queue-bypass` and the queue fails open, so if the thread is gone or the queue is
//! full, packets pass undelayed rather than vanish.

use std::collections::VecDeque;
use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nfq::{Queue, Verdict};

use crate::error::{Result, TestnetError};

/// The NFQUEUE number each host uses (queues belong to their network namespace).
pub const QUEUE: u16 = 0;
/// Packets the kernel holds for the thread before it fails open.
const QUEUE_MAX_LEN: u32 = 65_536;
/// How often the thread looks for packets that are due.
const POLL: Duration = Duration::from_micros(500);

/// A running delay on one host; ended (every held packet released) when dropped.
pub struct Delayer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Delayer {
    /// Starts delaying the packets queued in `namespace` (at `/run/netns/<namespace>`)
    /// by `delay` ± `jitter`. Returns once the queue is bound, or the reason it is not.
    pub fn start(namespace: &str, delay: Duration, jitter: Duration) -> Result<Delayer> {
        let path = format!("/run/netns/{namespace}");
        let netns = File::open(&path).map_err(crate::error::io(&path))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = mpsc::channel();
        let flag = stop.clone();
        let seed = u64::from(std::process::id()) ^ namespace.len() as u64;
        let thread = std::thread::Builder::new()
            .name(format!("delay-{namespace}"))
            .spawn(move || match open_queue(netns) {
                Ok(queue) => {
                    let _ = ready_tx.send(Ok(()));
                    Held::new(delay, jitter, seed).run(queue, &flag);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| TestnetError::Usage(format!("cannot start a delay thread: {e}")))?;
        let ready = ready_rx
            .recv()
            .unwrap_or_else(|_| Err("the delay thread ended before binding its queue".into()));
        let mut delayer = Delayer {
            stop,
            thread: Some(thread),
        };
        ready.map_err(|reason| {
            delayer.end();
            TestnetError::Usage(format!("cannot delay packets in {namespace}: {reason}"))
        })?;
        Ok(delayer)
    }

    fn end(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Delayer {
    fn drop(&mut self) {
        self.end();
    }
}

/// The iptables arguments that send `host`'s outgoing packets (to `to`, or to
/// everyone if empty) through the queue; `op` is `-A` to add, `-D` to delete.
pub fn rule(op: &str, to: &[std::net::Ipv4Addr]) -> Vec<String> {
    let mut args: Vec<String> = ["-t", "mangle", op, "OUTPUT", "-o", "eth0"]
        .map(String::from)
        .to_vec();
    if !to.is_empty() {
        let list: Vec<String> = to.iter().map(|a| a.to_string()).collect();
        args.extend(["-d".into(), list.join(",")]);
    }
    args.extend(
        [
            "-j",
            "NFQUEUE",
            "--queue-num",
            &QUEUE.to_string(),
            "--queue-bypass",
        ]
        .map(String::from),
    );
    args
}

/// Moves this thread into the namespace and binds the queue there.
fn open_queue(netns: File) -> std::result::Result<Queue, String> {
    nix::sched::setns(&netns, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("setns: {e}"))?;
    let mut queue = Queue::open().map_err(|e| format!("open a netfilter queue: {e}"))?;
    queue
        .bind(QUEUE)
        .map_err(|e| format!("bind queue {QUEUE}: {e}"))?;
    // Only the packet's id is needed, not its bytes.
    queue
        .set_copy_range(QUEUE, 0)
        .and_then(|()| queue.set_queue_max_len(QUEUE, QUEUE_MAX_LEN))
        .and_then(|()| queue.set_fail_open(QUEUE, true))
        .map_err(|e| format!("configure queue {QUEUE}: {e}"))?;
    queue.set_nonblocking(true);
    Ok(queue)
}

/// The packets held back, in the order they leave.
struct Held {
    delay: Duration,
    jitter: Duration,
    random: u64,
    packets: VecDeque<(Instant, nfq::Message)>,
    last: Instant,
}

impl Held {
    fn new(delay: Duration, jitter: Duration, seed: u64) -> Held {
        Held {
            delay,
            jitter,
            random: seed | 1,
            packets: VecDeque::new(),
            last: Instant::now(),
        }
    }

    /// Holds and releases packets until `stop`, then releases all it holds.
    fn run(mut self, mut queue: Queue, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            loop {
                match queue.recv() {
                    Ok(packet) => self.hold(packet),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the delay queue failed");
                        break;
                    }
                }
            }
            self.release(&mut queue, Instant::now());
            std::thread::sleep(POLL);
        }
        self.release(&mut queue, self.last.max(Instant::now()));
        let _ = queue.unbind(QUEUE);
    }

    /// Queues `packet` to leave after its delay, never before the one ahead of it.
    fn hold(&mut self, packet: nfq::Message) {
        let at = (Instant::now() + self.wait()).max(self.last);
        self.last = at;
        self.packets.push_back((at, packet));
    }

    /// `delay` plus a uniform draw in `[-jitter, +jitter]`.
    fn wait(&mut self) -> Duration {
        let jitter = self.jitter.as_micros() as u64;
        if jitter == 0 {
            return self.delay;
        }
        let draw = crate::faults::xorshift(&mut self.random) % (2 * jitter + 1);
        let micros = self.delay.as_micros() as u64 + draw;
        Duration::from_micros(micros.saturating_sub(jitter))
    }

    /// Lets every packet due by `now` go.
    fn release(&mut self, queue: &mut Queue, now: Instant) {
        while self.packets.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, mut packet)) = self.packets.pop_front() {
                packet.set_verdict(Verdict::Accept);
                if let Err(e) = queue.verdict(packet) {
                    tracing::warn!(error = %e, "releasing a delayed packet failed");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_names_the_destinations_and_fails_open() {
        let to = [
            "10.213.5.11".parse().unwrap(),
            "10.213.5.12".parse().unwrap(),
        ];
        let args = rule("-A", &to).join(" ");
        assert_eq!(
            args,
            "-t mangle -A OUTPUT -o eth0 -d 10.213.5.11,10.213.5.12 -j NFQUEUE --queue-num 0 --queue-bypass"
        );
        assert!(!rule("-D", &[]).join(" ").contains("-d "));
    }

    #[test]
    fn waits_stay_within_the_jitter_around_the_delay() {
        let mut held = Held::new(Duration::from_millis(50), Duration::from_millis(10), 7);
        let waits: Vec<Duration> = (0..10_000).map(|_| held.wait()).collect();
        let (lo, hi) = (Duration::from_millis(40), Duration::from_millis(60));
        assert!(waits.iter().all(|w| (lo..=hi).contains(w)));
        let mean = waits.iter().sum::<Duration>() / waits.len() as u32;
        assert!(mean > Duration::from_millis(49) && mean < Duration::from_millis(51));
        assert!(waits.iter().any(|w| *w < Duration::from_millis(42)));
        assert!(waits.iter().any(|w| *w > Duration::from_millis(58)));
    }
}
