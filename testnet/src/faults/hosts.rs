//! Test hosts: one Linux network namespace per validator, each with its own address on
//! a private bridge that exists only on this machine, and partitions made with
//! nftables rules inside the namespaces, link delays through an NFQUEUE ([`delay`]).
//! [`Hosts`] removes everything it made when it
//! is dropped, also when the run fails or panics.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use super::delay::{self, Delayer};
use crate::error::{Result, TestnetError};

/// The private network of one run.
pub struct Hosts {
    /// A short tag in every name this run creates (namespaces, bridge, links).
    tag: String,
    /// The third octet of the run's subnet `10.213.<subnet>.0/24`.
    subnet: u8,
    /// Namespaces created so far (torn down in reverse).
    made: Vec<String>,
    bridge_made: bool,
    /// Whether an iptables rule lets the bridge forward (hosts with Docker drop
    /// forwarded traffic by default).
    forward_rule: bool,
    /// The running link delays, by host.
    delays: Mutex<HashMap<usize, Delayer>>,
}

impl Hosts {
    /// Creates `n` hosts `10.213.<s>.10 + i`, with `s` and the names derived from this
    /// process id so that concurrent runs do not collide. Needs root (ip, nft).
    pub fn create(n: usize) -> Result<Hosts> {
        let pid = std::process::id();
        let mut hosts = Hosts {
            tag: format!("{:05}", pid % 100_000),
            subnet: (pid % 200) as u8 + 20,
            made: Vec::new(),
            bridge_made: false,
            forward_rule: false,
            delays: Mutex::new(HashMap::new()),
        };
        let bridge = hosts.bridge();
        ip(&["link", "add", &bridge, "type", "bridge"])?;
        hosts.bridge_made = true;
        let gateway = format!("{}/24", hosts.gateway());
        ip(&["addr", "add", &gateway, "dev", &bridge])?;
        ip(&["link", "set", &bridge, "up"])?;
        // Docker sets the FORWARD policy to DROP, which bridged traffic meets when
        // br_netfilter is loaded; where iptables is missing, nothing drops it.
        hosts.forward_rule = run("iptables", &forward_rule("-I", &bridge)).is_ok();
        for i in 0..n {
            hosts.add_host(i)?;
        }
        Ok(hosts)
    }

    /// The address of host `i`.
    pub fn addr(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.subnet, 10 + i as u8)
    }

    /// The `i`-th address on the run's subnet that no host has (a dial to it goes
    /// nowhere beyond the bridge).
    pub fn unused(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.subnet, 200 + (i % 50) as u8)
    }

    /// The bridge's own address (where the runner reaches the hosts from).
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.subnet, 1)
    }

    /// The namespace of host `i`.
    pub fn namespace(&self, i: usize) -> String {
        format!("cairn-{}-{i}", self.tag)
    }

    /// Drops all traffic between hosts in different `groups` (hosts in no group can
    /// still reach everyone); replaces any partition before it.
    pub fn split(&self, groups: &[Vec<usize>]) -> Result<()> {
        self.heal()?;
        for (g, group) in groups.iter().enumerate() {
            let others: Vec<String> = groups
                .iter()
                .enumerate()
                .filter(|(h, _)| *h != g)
                .flat_map(|(_, other)| other.iter().map(|j| self.addr(*j).to_string()))
                .collect();
            if others.is_empty() {
                continue;
            }
            let set = format!("{{ {} }}", others.join(", "));
            for i in group {
                let ns = self.namespace(*i);
                nft(&ns, &["add", "table", "inet", "cairn"])?;
                for (chain, hook, dir) in [("in", "input", "saddr"), ("out", "output", "daddr")] {
                    let spec = format!("{{ type filter hook {hook} priority 0; }}");
                    nft(&ns, &["add", "chain", "inet", "cairn", chain, &spec])?;
                    nft(
                        &ns,
                        &[
                            "add", "rule", "inet", "cairn", chain, "ip", dir, &set, "drop",
                        ],
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Drops `percent` % of the packets host `i` sends to `to` (everyone if empty),
    /// at random: a one-way lossy link. Replaces an earlier loss of `i`.
    pub fn loss(&self, i: usize, to: &[usize], percent: u8) -> Result<()> {
        let ns = self.namespace(i);
        let _ = nft(&ns, &["delete", "table", "inet", "cairnloss"]);
        nft(&ns, &["add", "table", "inet", "cairnloss"])?;
        let spec = "{ type filter hook output priority 0; }";
        nft(&ns, &["add", "chain", "inet", "cairnloss", "out", spec])?;
        let threshold = percent.to_string();
        let mut rule = vec!["add", "rule", "inet", "cairnloss", "out"];
        let set;
        if !to.is_empty() {
            let addrs: Vec<String> = to.iter().map(|j| self.addr(*j).to_string()).collect();
            set = format!("{{ {} }}", addrs.join(", "));
            rule.extend(["ip", "daddr", &set]);
        }
        rule.extend(["oifname", "eth0", "numgen", "random", "mod", "100", "<"]);
        rule.extend([threshold.as_str(), "drop"]);
        nft(&ns, &rule)
    }

    /// Limits host `i`'s outgoing bandwidth to `kbit` kbit/s with a token bucket
    /// (packets beyond it queue for up to 400 ms, then drop).
    pub fn slow_link(&self, i: usize, kbit: u32) -> Result<()> {
        let rate = format!("{kbit}kbit");
        in_ns(
            &self.namespace(i),
            &[
                "tc", "qdisc", "replace", "dev", "eth0", "root", "tbf", "rate", &rate, "burst",
                "32kbit", "latency", "400ms",
            ],
        )
    }

    /// Holds every packet host `i` sends to `to` (everyone if empty) for `wait` ±
    /// `jitter` (see [`delay`]). Replaces an earlier delay of `i`.
    pub fn delay(&self, i: usize, to: &[usize], wait: Duration, jitter: Duration) -> Result<()> {
        self.end_delay(i);
        let ns = self.namespace(i);
        let delayer = Delayer::start(&ns, wait, jitter)?;
        let to: Vec<Ipv4Addr> = to.iter().map(|j| self.addr(*j)).collect();
        let args = delay::rule("-A", &to);
        let mut command = vec!["iptables"];
        command.extend(args.iter().map(String::as_str));
        in_ns(&ns, &command)?;
        if let Ok(mut delays) = self.delays.lock() {
            delays.insert(i, delayer);
        }
        Ok(())
    }

    /// Ends host `i`'s delay: its rule first, then the thread (which lets every held
    /// packet go).
    fn end_delay(&self, i: usize) {
        let _ = in_ns(
            &self.namespace(i),
            &["iptables", "-t", "mangle", "-F", "OUTPUT"],
        );
        if let Ok(mut delays) = self.delays.lock() {
            delays.remove(&i);
        }
    }

    /// Removes every partition, loss, delay and slow link.
    pub fn heal(&self) -> Result<()> {
        for i in 0..self.made.len() {
            self.end_delay(i);
        }
        for ns in &self.made {
            // Deleting what is not there fails harmlessly.
            let _ = nft(ns, &["delete", "table", "inet", "cairn"]);
            let _ = nft(ns, &["delete", "table", "inet", "cairnloss"]);
            let _ = in_ns(ns, &["tc", "qdisc", "del", "dev", "eth0", "root"]);
        }
        Ok(())
    }

    fn bridge(&self) -> String {
        format!("cbr{}", self.tag)
    }

    fn add_host(&mut self, i: usize) -> Result<()> {
        let ns = self.namespace(i);
        ip(&["netns", "add", &ns])?;
        self.made.push(ns.clone());
        let outside = format!("cv{}h{i}", self.tag);
        ip(&[
            "link", "add", &outside, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ])?;
        ip(&["link", "set", &outside, "master", &self.bridge()])?;
        ip(&["link", "set", &outside, "up"])?;
        let addr = format!("{}/24", self.addr(i));
        in_ns(&ns, &["ip", "addr", "add", &addr, "dev", "eth0"])?;
        in_ns(&ns, &["ip", "link", "set", "eth0", "up"])?;
        in_ns(&ns, &["ip", "link", "set", "lo", "up"])?;
        Ok(())
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        if let Ok(mut delays) = self.delays.lock() {
            delays.clear();
        }
        // Deleting a namespace removes its end of the veth pair, and with it the other.
        for ns in self.made.drain(..).rev() {
            let _ = ip(&["netns", "delete", &ns]);
        }
        if self.forward_rule {
            let _ = run("iptables", &forward_rule("-D", &self.bridge()));
        }
        if self.bridge_made {
            let _ = ip(&["link", "delete", &self.bridge()]);
        }
    }
}

fn forward_rule<'a>(op: &'a str, bridge: &'a str) -> [&'a str; 8] {
    [op, "FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT"]
}

fn ip(args: &[&str]) -> Result<()> {
    run("ip", args)
}

fn in_ns(ns: &str, command: &[&str]) -> Result<()> {
    let mut args = vec!["netns", "exec", ns];
    args.extend_from_slice(command);
    run("ip", &args)
}

fn nft(ns: &str, args: &[&str]) -> Result<()> {
    let mut command = vec!["nft"];
    command.extend_from_slice(args);
    in_ns(ns, &command)
}

fn run(program: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(program).args(args).output().map_err(|e| {
        TestnetError::Usage(format!(
            "cannot run `{program}` ({e}); fault runs need iproute2 and nftables, as root"
        ))
    })?;
    if out.status.success() {
        return Ok(());
    }
    Err(TestnetError::Command {
        command: format!("{program} {}", args.join(" ")),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::time::Instant;

    use super::*;

    /// Runs `f` on a thread inside namespace `ns`.
    fn inside<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
        let file = std::fs::File::open(format!("/run/netns/{ns}")).unwrap();
        std::thread::spawn(move || {
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            f()
        })
        .join()
        .unwrap()
    }

    /// How long a TCP handshake from host 0 to `to` takes (the SYN leaves host 0).
    fn handshake(hosts: &Hosts, to: SocketAddr) -> Duration {
        inside(&hosts.namespace(0), move || {
            let start = Instant::now();
            TcpStream::connect_timeout(&to, Duration::from_secs(5)).unwrap();
            start.elapsed()
        })
    }

    /// Needs root (namespaces, iptables, NFQUEUE), as every fault run does.
    #[test]
    fn a_delay_holds_the_hosts_packets_and_a_heal_ends_it() {
        let hosts = Hosts::create(2).unwrap();
        let to = SocketAddr::from((hosts.addr(1), 7_999));
        let listener = inside(&hosts.namespace(1), move || TcpListener::bind(to).unwrap());
        std::thread::spawn(move || for _ in listener.incoming() {});

        let before = handshake(&hosts, to);
        hosts
            .delay(
                0,
                &[1],
                Duration::from_millis(150),
                Duration::from_millis(20),
            )
            .unwrap();
        let delayed = handshake(&hosts, to);
        hosts.heal().unwrap();
        let after = handshake(&hosts, to);
        eprintln!("handshake: {before:?} before, {delayed:?} delayed, {after:?} after the heal");

        // The SYN waits 130 ms at least; without the delay a handshake on this bridge
        // takes well under a millisecond.
        assert!(delayed >= Duration::from_millis(130), "delayed {delayed:?}");
        assert!(before < Duration::from_millis(100), "before {before:?}");
        assert!(
            after < Duration::from_millis(100),
            "after the heal {after:?}"
        );
    }
}
