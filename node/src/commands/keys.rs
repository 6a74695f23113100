//! `cairn keys generate|show`.

use std::path::Path;

use anyhow::{Context, Result};
use cairn_crypto::{KeyFile, KeyKind, PublicKey, SecretKey};
use serde::Serialize;

use crate::cli::KeysCommand;
use crate::output::Output;

/// What `keys generate` and `keys show` report: never the secret.
#[derive(Serialize)]
struct KeyInfo {
    file: String,
    kind: KeyKind,
    public_key: PublicKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer_id: Option<String>,
}

impl KeyInfo {
    fn new(path: &Path, kind: KeyKind, public_key: PublicKey) -> KeyInfo {
        let peer_id = (kind == KeyKind::Network)
            .then(|| cairn_genesis::network_peer_id(&public_key).to_string());
        KeyInfo {
            file: path.display().to_string(),
            kind,
            public_key,
            peer_id,
        }
    }

    fn human(&self) -> String {
        let mut text = format!(
            "{} key in {}\npublic key: {}\n",
            self.kind, self.file, self.public_key
        );
        if let Some(peer_id) = &self.peer_id {
            text.push_str(&format!("peer id:    {peer_id}\n"));
        }
        text
    }
}

/// Runs a `keys` subcommand.
pub fn run(command: KeysCommand, out: &Output) -> Result<()> {
    match command {
        KeysCommand::Generate { kind, out: path } => {
            let kind = KeyKind::from(kind);
            let key = SecretKey::generate();
            KeyFile::write_new(&path, kind, &key).context("cannot write the new key")?;
            let info = KeyInfo::new(&path, kind, key.public());
            out.print(&info, || format!("wrote new {}", info.human()));
        }
        KeysCommand::Show { file } => {
            let key = KeyFile::load_any(&file)?;
            let info = KeyInfo::new(&file, key.kind, key.secret.public());
            out.print(&info, || info.human());
        }
    }
    Ok(())
}
