//! Keeping equivocation evidence on disk, compactly, off the driver's task.
//!
//! Each piece is one file `<home>/evidence/<kind>-round<r>-validator<v>.hex` of two
//! lines, one per conflicting message, each the 0x-hex SCALE encoding of what proves
//! it: for a double proposal `(BlockHeader, Signature)` — the proposal signature is
//! over the header's id, so the transactions are not needed —, for a double vote or
//! timeout the signed message itself. One file per culprit, round and kind; the
//! directory is held under [`MAX_EVIDENCE_BYTES`] (counting what earlier runs left),
//! and what does not fit is only logged.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use cairn_consensus::Evidence;
use cairn_types::Wire;
use parity_scale_codec::Encode;

/// Most bytes of evidence files kept in the evidence directory.
pub const MAX_EVIDENCE_BYTES: u64 = 64 * 1024 * 1024;
/// Most bytes of evidence against one validator written per run: a validator that
/// equivocates in every round cannot use up the space for evidence against others.
pub const MAX_EVIDENCE_BYTES_PER_CULPRIT: u64 = 4 * 1024 * 1024;
/// Evidence waiting to be written; more is only logged.
const QUEUE: usize = 64;
/// Files remembered as written this run (to write each once); beyond, the disk cap
/// and the file's existence still hold.
const MAX_REMEMBERED: usize = 100_000;

/// The name of an evidence kind, as in file names and logs.
pub fn kind(evidence: &Evidence) -> &'static str {
    match evidence {
        Evidence::DoubleProposal(..) => "double_proposal",
        Evidence::DoubleVote(..) => "double_vote",
        Evidence::DoubleTimeout(..) => "double_timeout",
    }
}

/// The two lines that prove `evidence`, without the blocks' transactions.
pub fn compact(evidence: &Evidence) -> (Vec<u8>, Vec<u8>) {
    match evidence {
        Evidence::DoubleProposal(a, b) => (
            (&a.block.header, &a.signature).encode(),
            (&b.block.header, &b.signature).encode(),
        ),
        Evidence::DoubleVote(a, b) => (a.to_wire(), b.to_wire()),
        Evidence::DoubleTimeout(a, b) => (a.to_wire(), b.to_wire()),
    }
}

/// Hands evidence to a writer thread within the disk cap.
pub struct EvidenceKeeper {
    dir: PathBuf,
    queue: SyncSender<(u16, PathBuf, String)>,
    written: HashSet<PathBuf>,
}

impl EvidenceKeeper {
    /// A keeper writing into `dir` (created when the first evidence arrives).
    pub fn new(dir: PathBuf) -> EvidenceKeeper {
        let (queue, rx) = sync_channel(QUEUE);
        let used = dir_bytes(&dir);
        let spawned = std::thread::Builder::new()
            .name("cairn-evidence".into())
            .spawn(move || write_loop(rx, used));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the evidence writer; evidence will only be logged");
        }
        EvidenceKeeper {
            dir,
            queue,
            written: HashSet::new(),
        }
    }

    /// Queues `evidence` for writing, once per culprit, round and kind; returns the
    /// file it goes to. Never blocks.
    pub fn keep(&mut self, evidence: &Evidence) -> PathBuf {
        let file = self.dir.join(format!(
            "{}-round{}-validator{}.hex",
            kind(evidence),
            evidence.round(),
            evidence.culprit().0
        ));
        if self.written.len() >= MAX_REMEMBERED || !self.written.insert(file.clone()) {
            return file;
        }
        let (first, second) = compact(evidence);
        let text = format!("0x{}\n0x{}\n", hex::encode(first), hex::encode(second));
        match self
            .queue
            .try_send((evidence.culprit().0, file.clone(), text))
        {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                tracing::error!(file = %file.display(), "evidence writer is behind; not kept")
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
        file
    }
}

/// Writes queued evidence until the keeper is dropped, within the disk caps.
fn write_loop(rx: Receiver<(u16, PathBuf, String)>, mut used: u64) {
    let mut per_culprit: HashMap<u16, u64> = HashMap::new();
    for (culprit, file, text) in rx {
        let len = text.len() as u64;
        let against = per_culprit.entry(culprit).or_default();
        if *against + len > MAX_EVIDENCE_BYTES_PER_CULPRIT {
            tracing::error!(file = %file.display(), culprit,
                "enough evidence against this validator kept this run; only logged");
            continue;
        }
        if used + len > MAX_EVIDENCE_BYTES {
            tracing::error!(file = %file.display(), used, cap = MAX_EVIDENCE_BYTES,
                "evidence directory is at its cap; evidence only logged");
            continue;
        }
        if file.exists() {
            continue;
        }
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, text)) {
            Ok(()) => {
                used += len;
                *against += len;
            }
            Err(e) => tracing::error!(error = %e, file = %file.display(), "cannot keep evidence"),
        }
    }
}

/// Bytes of the files in `dir` (0 if it does not exist).
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::driver::verify::tests::block_of;
    use cairn_crypto::SecretKey;
    use cairn_crypto::Signature;
    use cairn_types::{BlockHeader, Proposal};
    use parity_scale_codec::DecodeAll;

    fn double_proposal() -> Evidence {
        let key = SecretKey::from_seed(&[3; 32]);
        let a = Proposal::sign(block_of(50, 1_000, 5), None, &key);
        let mut other = block_of(50, 1_000, 5);
        other.header.timestamp_ms = 1;
        let b = Proposal::sign(other, None, &key);
        Evidence::DoubleProposal(Box::new(a), Box::new(b))
    }

    #[test]
    fn double_proposal_evidence_is_headers_and_signatures_only() {
        let evidence = double_proposal();
        let Evidence::DoubleProposal(a, _) = &evidence else {
            unreachable!()
        };
        let (first, second) = compact(&evidence);
        assert!(
            first.len() < a.to_wire().len() / 10,
            "{} bytes",
            first.len()
        );
        let (header, signature) =
            <(BlockHeader, Signature)>::decode_all(&mut first.as_slice()).unwrap();
        assert_eq!(header, a.block.header);
        assert_eq!(signature, a.signature);
        assert_ne!(first, second);
    }

    #[test]
    fn evidence_is_written_once_and_within_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let mut keeper = EvidenceKeeper::new(dir.path().join("evidence"));
        let evidence = double_proposal();
        let file = keeper.keep(&evidence);
        assert_eq!(keeper.keep(&evidence), file);
        drop(keeper); // the writer finishes the queue, then stops
        for _ in 0..100 {
            if file.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.len() < 4 * 4096, "{} bytes", text.len());
    }
}
