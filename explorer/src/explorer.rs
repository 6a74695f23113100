//! [`Explorer`]: runs one command against a [`Source`], checking against a
//! [`TrustRoot`] where the command verifies.

use std::io::Write;

use crate::cli::ExplorerCommand;
use crate::progress::Progress;
use crate::prove::verify_tx_proof;
use crate::render::{AccountView, ProofView, TxView, View, render};
use crate::{ExplorerError, Result, Source, TrustRoot, audit, parse, watch};

/// An explorer over one source.
#[derive(Debug)]
pub struct Explorer {
    source: Source,
    trust: Option<TrustRoot>,
    json: bool,
}

impl Explorer {
    /// An explorer of `source` that verifies against `trust` (required by `tx --prove`
    /// and `verify`), printing text or, with `json`, JSON.
    pub fn new(source: Source, trust: Option<TrustRoot>, json: bool) -> Explorer {
        Explorer {
            source,
            trust,
            json,
        }
    }

    /// Where the explorer reads.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Runs `command`, writing its result to `out`. `watch` runs until the source goes
    /// away (see [`Explorer::watch`] for a bounded one).
    pub async fn execute(
        &self,
        command: &ExplorerCommand,
        out: &mut (dyn Write + Send),
    ) -> Result<()> {
        match command {
            ExplorerCommand::Head => self.print(out, &self.source.head().await?),
            ExplorerCommand::Block { at } => {
                let block = self.source.block(parse::block_ref(at)?).await?;
                self.print(out, &block)
            }
            ExplorerCommand::Tx { hash, prove } => self.tx(hash, *prove, out).await,
            ExplorerCommand::Account { key } => {
                let key = parse::account_key(key)?;
                let account = self.source.account(&key).await?;
                let view = AccountView {
                    key: key.into(),
                    account,
                };
                self.print(out, &view)
            }
            ExplorerCommand::Validators => self.print(out, &self.source.validators().await?),
            ExplorerCommand::Watch { from } => self.watch(*from, None, out).await,
            ExplorerCommand::Verify => self.verify(out).await,
            ExplorerCommand::Status => self.print(out, &self.source.consensus_status().await?),
        }
    }

    /// `watch`, stopping after `limit` heads (`None`: never).
    pub async fn watch(
        &self,
        from: Option<u64>,
        limit: Option<u64>,
        out: &mut (dyn Write + Send),
    ) -> Result<()> {
        watch::watch(&self.source, from, self.json, limit, out).await
    }

    async fn tx(&self, hash: &str, prove: bool, out: &mut (dyn Write + Send)) -> Result<()> {
        let hash = parse::tx_hash(hash)?;
        let proof = if prove {
            let trust = self.trust("tx --prove")?;
            let proof = self.source.tx_proof(&hash).await?;
            let proved = verify_tx_proof(&proof, &hash, trust)
                .map_err(|fault| ExplorerError::InvalidProof { tx: hash, fault })?;
            Some(ProofView::new(proved))
        } else {
            None
        };
        let info = self.source.tx(&hash).await?;
        self.print(out, &TxView { info, proof })
    }

    async fn verify(&self, out: &mut (dyn Write + Send)) -> Result<()> {
        let trust = self.trust("verify")?;
        let progress = Progress::new(!self.json, "verifying");
        match audit::verify_chain(&self.source, trust, &progress).await {
            Ok(report) => self.print(out, &report),
            Err(ExplorerError::InvalidChain { height, fault }) => {
                if self.json {
                    let verdict = serde_json::json!({
                        "valid": false,
                        "source": self.source.describe(),
                        "height": height,
                        "fault": fault.to_string(),
                    });
                    out.write_all(format!("{verdict:#}\n").as_bytes())?;
                }
                Err(ExplorerError::InvalidChain { height, fault })
            }
            Err(other) => Err(other),
        }
    }

    fn trust(&self, command: &'static str) -> Result<&TrustRoot> {
        self.trust
            .as_ref()
            .ok_or(ExplorerError::GenesisRequired { command })
    }

    fn print(&self, out: &mut (dyn Write + Send), view: &impl View) -> Result<()> {
        out.write_all(render(view, self.json).as_bytes())?;
        out.flush()?;
        Ok(())
    }
}
