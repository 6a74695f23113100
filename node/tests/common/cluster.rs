//! A local cluster of real `cairn node run` processes on 127.0.0.1 for end-to-end
//! tests: homes made with `cairn node init`, a genesis made with `cairn genesis …`,
//! one RocksDB directory per validator.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cairn_crypto::SecretKey;
use cairn_rpc::Client;

/// The `cairn` binary under test.
pub fn cairn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
}

/// Runs `cairn args…` and returns stdout, panicking with stderr on failure.
pub fn cairn_ok(args: &[&str]) -> String {
    let out = cairn().args(args).output().expect("run cairn");
    assert!(
        out.status.success(),
        "cairn {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests), never
/// one this process was given before: the kernel may hand a just-released port out
/// again, and two validators of one cluster must not share one.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// One validator of the cluster.
pub struct Validator {
    /// Its home directory.
    pub home: PathBuf,
    /// Its JSON-RPC port.
    pub rpc_port: u16,
    /// Its metrics port.
    pub metrics_port: u16,
    /// Its process, while running.
    pub child: Option<Child>,
    /// A full node (`node run --full`) rather than a validator.
    pub full: bool,
}

impl Validator {
    /// `http://127.0.0.1:<rpc port>`
    pub fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.rpc_port)
    }

    /// `ws://127.0.0.1:<rpc port>`
    pub fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}", self.rpc_port)
    }

    /// The Prometheus text its metrics endpoint serves now.
    pub fn metrics_text(&self) -> String {
        http_get(self.metrics_port, "/metrics")
    }

    /// The value of one metric line (`name` with its labels, as in the text), or 0 if
    /// the node does not show it (a counter never incremented).
    pub fn metric(&self, name: &str) -> f64 {
        self.metrics_text()
            .lines()
            .find_map(|line| {
                line.strip_prefix(name)?
                    .strip_prefix(' ')?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or(0.0)
    }

    /// Resident memory of its process in KiB (`VmRSS` in /proc), if running.
    pub fn rss_kib(&self) -> Option<u64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }
}

/// GETs `path` from 127.0.0.1:`port` over a plain TCP connection; returns the response.
pub fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("write request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    response
}

/// A cluster: n validators, a genesis with funded accounts, a log file per node.
pub struct Cluster {
    /// Where everything lives (removed on drop).
    pub dir: tempfile::TempDir,
    /// The genesis file.
    pub genesis: PathBuf,
    /// The validators.
    pub validators: Vec<Validator>,
    /// Account keys, funded in the genesis (the first is the admin).
    pub accounts: Vec<SecretKey>,
}

/// Initial balance of every genesis account.
pub const BALANCE: u64 = 1_000_000;

impl Cluster {
    /// Creates homes and a genesis for `n` validators and `accounts` funded accounts
    /// (account 0 is an admin, the others writers). Nothing runs yet.
    pub fn new(n: usize, accounts: usize) -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let genesis = dir.path().join("genesis.json");
        cairn_ok(&[
            "genesis",
            "new",
            "--chain-name",
            "e2e",
            "--out",
            s(&genesis),
        ]);
        let mut validators = Vec::new();
        for i in 0..n {
            let home = dir.path().join(format!("v{i}"));
            let (p2p, rpc_port, metrics_port) = (free_port(), free_port(), free_port());
            let address = format!("/ip4/127.0.0.1/tcp/{p2p}");
            cairn_ok(&[
                "node",
                "init",
                "--home",
                s(&home),
                "--name",
                &format!("v{i}"),
                "--p2p-listen",
                &address,
                "--rpc-listen",
                &format!("127.0.0.1:{rpc_port}"),
                "--metrics-listen",
                &format!("127.0.0.1:{metrics_port}"),
            ]);
            cairn_ok(&[
                "genesis",
                "add-validator",
                s(&genesis),
                "--name",
                &format!("v{i}"),
                "--consensus-key-file",
                s(&home.join("keys/consensus.json")),
                "--network-key-file",
                s(&home.join("keys/network.json")),
                "--address",
                &address,
            ]);
            validators.push(Validator {
                home,
                rpc_port,
                metrics_port,
                child: None,
                full: false,
            });
        }
        let keys: Vec<SecretKey> = (0..accounts)
            .map(|i| SecretKey::from_seed(&[i as u8 + 1; 32]))
            .collect();
        for (i, key) in keys.iter().enumerate() {
            let role = if i == 0 { "admin" } else { "writer" };
            cairn_ok(&[
                "genesis",
                "add-account",
                s(&genesis),
                "--public-key",
                &key.public().to_string(),
                "--role",
                role,
                "--balance",
                &BALANCE.to_string(),
            ]);
        }
        cairn_ok(&["genesis", "validate", s(&genesis)]);
        Cluster {
            dir,
            genesis,
            validators,
            accounts: keys,
        }
    }

    /// Starts validator `i` (its log goes to `<home>/node.log`, appended).
    pub fn start(&mut self, i: usize) {
        let v = &mut self.validators[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(v.home.join("node.log"))
            .expect("log file");
        let mut args = vec![
            "node",
            "run",
            "--home",
            s(&v.home),
            "--genesis",
            s(&self.genesis),
        ];
        if v.full {
            args.push("--full");
        }
        let child = cairn()
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn cairn node run");
        v.child = Some(child);
    }

    /// Sets the genesis chain parameter `name` (before anything has started).
    pub fn set_param(&self, name: &str, value: u64) {
        let text = std::fs::read_to_string(&self.genesis).expect("genesis");
        let mut doc: serde_json::Value = serde_json::from_str(&text).expect("genesis json");
        doc["params"][name] = value.into();
        let text = serde_json::to_string_pretty(&doc).expect("genesis json");
        std::fs::write(&self.genesis, text).expect("write genesis");
        cairn_ok(&["genesis", "validate", s(&self.genesis)]);
    }

    /// Adds a full node (not started): a home made with `cairn node init` whose peer id
    /// every node's `p2p.full_nodes` lists (restart running validators to apply it).
    /// Returns its index in `validators`.
    pub fn add_full_node(&mut self) -> usize {
        let i = self.validators.len();
        let home = self.dir.path().join(format!("full{i}"));
        let (p2p, rpc_port, metrics_port) = (free_port(), free_port(), free_port());
        let out = cairn_ok(&[
            "node",
            "init",
            "--home",
            s(&home),
            "--name",
            &format!("full{i}"),
            "--p2p-listen",
            &format!("/ip4/127.0.0.1/tcp/{p2p}"),
            "--rpc-listen",
            &format!("127.0.0.1:{rpc_port}"),
            "--metrics-listen",
            &format!("127.0.0.1:{metrics_port}"),
        ]);
        let peer = out
            .lines()
            .find_map(|l| l.strip_prefix("peer id:"))
            .expect("node init prints the peer id")
            .trim()
            .to_string();
        self.validators.push(Validator {
            home,
            rpc_port,
            metrics_port,
            child: None,
            full: true,
        });
        for v in &self.validators {
            let path = v.home.join("config.toml");
            let text = std::fs::read_to_string(&path).expect("config.toml");
            let mut config: toml::Table = text.parse().expect("config toml");
            let p2p = config
                .entry("p2p")
                .or_insert_with(|| toml::Value::Table(Default::default()))
                .as_table_mut()
                .expect("[p2p]");
            let list = p2p
                .entry("full_nodes")
                .or_insert_with(|| toml::Value::Array(Vec::new()))
                .as_array_mut()
                .expect("full_nodes");
            list.push(toml::Value::String(peer.clone()));
            std::fs::write(&path, toml::to_string(&config).expect("toml")).expect("write config");
        }
        i
    }

    /// Moves validator `i`'s data directory aside (it must be stopped): it starts
    /// again with nothing, as after a lost disk.
    pub fn wipe_data(&self, i: usize) {
        let home = &self.validators[i].home;
        std::fs::rename(home.join("data"), home.join("data.lost")).expect("move data aside");
    }

    /// Starts every validator (not the full nodes).
    pub fn start_all(&mut self) {
        for i in 0..self.validators.len() {
            if self.validators[i].full {
                continue;
            }
            self.start(i);
        }
    }

    /// SIGKILLs validator `i`.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.validators[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM to validator `i` and waits for it to exit; returns its status.
    pub fn terminate(&mut self, i: usize) -> std::process::ExitStatus {
        let mut child = self.validators[i].child.take().expect("running");
        let pid = child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        wait_exit(&mut child, Duration::from_secs(20))
    }

    /// A connected client for validator `i`, waiting up to 60 s for its RPC to answer.
    pub async fn client(&self, i: usize) -> Client {
        let url = self.validators[i].http();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(client) = Client::connect(&url).await
                && client.chain_head().await.is_ok()
            {
                return client;
            }
            assert!(
                Instant::now() < deadline,
                "validator {i} RPC never came up; log:\n{}",
                self.log(i)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Whether validator `i`'s whole log contains `text`.
    pub fn log_contains(&self, i: usize, text: &str) -> bool {
        std::fs::read_to_string(self.validators[i].home.join("node.log"))
            .is_ok_and(|log| log.contains(text))
    }

    /// The last 60 lines of validator `i`'s log.
    pub fn log(&self, i: usize) -> String {
        let text =
            std::fs::read_to_string(self.validators[i].home.join("node.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}

impl Drop for Cluster {
    /// Kills every node; with `CAIRN_KEEP_LOGS=DIR` set, first copies each node's log
    /// to `DIR/<pid>-v<i>.log` (the homes themselves are removed).
    fn drop(&mut self) {
        for i in 0..self.validators.len() {
            self.kill(i);
        }
        if let Some(dir) = std::env::var_os("CAIRN_KEEP_LOGS") {
            let dir = PathBuf::from(dir);
            let _ = std::fs::create_dir_all(&dir);
            for (i, v) in self.validators.iter().enumerate() {
                let to = dir.join(format!("{}-v{i}.log", std::process::id()));
                let _ = std::fs::copy(v.home.join("node.log"), to);
            }
        }
    }
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {limit:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}
