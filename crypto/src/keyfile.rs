//! Key files: one secret key per JSON file, created with mode 0600 and refused if
//! anyone but the owner can read it.
//!
//! ```json
//! {"kind":"consensus","algorithm":"ed25519","public_key":"<64 hex>","secret_seed":"<64 hex>"}
//! ```
//! The public key is stored too so that a damaged file is caught on load (it must
//! match the seed) and so that `cairn keys show` needs no secret to print it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{CryptoError, PublicKey, Result, SecretKey};

/// Files larger than this are not key files; refusing them early bounds memory.
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// What a key is used for. The same ed25519 seed must never serve two roles, so the
/// kind is written into the file and checked on load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// A validator's consensus key: signs proposals, votes and timeouts.
    Consensus,
    /// A validator's network key: its libp2p identity (PeerId).
    Network,
    /// A client account key: signs transactions.
    Account,
}

impl KeyKind {
    /// The lowercase name used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Consensus => "consensus",
            KeyKind::Network => "network",
            KeyKind::Account => "account",
        }
    }
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The on-disk JSON shape.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    kind: KeyKind,
    algorithm: String,
    public_key: PublicKey,
    secret_seed: Zeroizing<String>,
}

/// A key loaded from a file, with its kind.
#[derive(Debug)]
pub struct KeyFile {
    /// What the key is for.
    pub kind: KeyKind,
    /// The key itself.
    pub secret: SecretKey,
}

impl KeyFile {
    /// Writes `secret` to a new file at `path` with mode 0600 and syncs it. Refuses to
    /// overwrite an existing file.
    pub fn write_new(path: &Path, kind: KeyKind, secret: &SecretKey) -> Result<()> {
        let io_err = |source| CryptoError::KeyFileIo {
            path: path.to_path_buf(),
            source,
        };
        let stored = Stored {
            kind,
            algorithm: "ed25519".into(),
            public_key: secret.public(),
            secret_seed: Zeroizing::new(hex::encode(*secret.seed())),
        };
        let mut text = Zeroizing::new(
            serde_json::to_string_pretty(&stored).map_err(|e| invalid(path, e.to_string()))?,
        );
        text.push('\n');
        let mut file = create_private(path).map_err(io_err)?;
        file.write_all(text.as_bytes()).map_err(io_err)?;
        file.sync_all().map_err(io_err)
    }

    /// Loads a key file of any kind, checking permissions and consistency.
    pub fn load_any(path: &Path) -> Result<KeyFile> {
        let bytes = read_private(path)?;
        let stored: Stored = serde_json::from_slice(&bytes).map_err(|e| {
            invalid(
                path,
                format!("not a cairn key file (truncated or malformed: {e})"),
            )
        })?;
        if stored.algorithm != "ed25519" {
            return Err(invalid(
                path,
                format!(
                    "unsupported algorithm {:?}, expected \"ed25519\"",
                    stored.algorithm
                ),
            ));
        }
        let seed = Zeroizing::new(
            crate::bytes::decode_hex::<32>(&stored.secret_seed, "secret seed")
                .map_err(|e| invalid(path, e.to_string()))?,
        );
        let secret = SecretKey::from_seed(&seed);
        if secret.public() != stored.public_key {
            return Err(invalid(
                path,
                "public_key does not match secret_seed; the file is damaged".into(),
            ));
        }
        Ok(KeyFile {
            kind: stored.kind,
            secret,
        })
    }

    /// Loads a key file and checks that it holds a key of kind `expected`.
    pub fn load(path: &Path, expected: KeyKind) -> Result<SecretKey> {
        let file = Self::load_any(path)?;
        if file.kind != expected {
            return Err(invalid(
                path,
                format!(
                    "holds a {} key, but a {expected} key is needed here",
                    file.kind
                ),
            ));
        }
        Ok(file.secret)
    }
}

fn invalid(path: &Path, problem: String) -> CryptoError {
    CryptoError::KeyFileInvalid {
        path: PathBuf::from(path),
        problem,
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Reads a key file after checking that only its owner can read it.
fn read_private(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let io_err = |source| CryptoError::KeyFileIo {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(invalid(path, "not a regular file".into()));
    }
    check_owner_only(path, &meta)?;
    if meta.len() > MAX_KEY_FILE_BYTES {
        return Err(invalid(
            path,
            format!(
                "{} bytes is too large for a key file (at most {MAX_KEY_FILE_BYTES})",
                meta.len()
            ),
        ));
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(meta.len() as usize));
    file.take(MAX_KEY_FILE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    Ok(bytes)
}

#[cfg(unix)]
fn check_owner_only(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(invalid(
            path,
            format!(
                "readable by other users (mode {mode:04o}); run `chmod 600 {}` if the key was not exposed, otherwise replace it",
                path.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner_only(_path: &Path, _meta: &std::fs::Metadata) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_key(dir: &Path, kind: KeyKind) -> (PathBuf, SecretKey) {
        let path = dir.join(format!("{kind}.key"));
        let key = SecretKey::generate();
        KeyFile::write_new(&path, kind, &key).unwrap();
        (path, key)
    }

    #[test]
    fn round_trip_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let (path, key) = write_key(dir.path(), KeyKind::Consensus);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let loaded = KeyFile::load(&path, KeyKind::Consensus).unwrap();
        assert_eq!(loaded.public(), key.public());
    }

    #[test]
    fn refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write_key(dir.path(), KeyKind::Account);
        let err = KeyFile::write_new(&path, KeyKind::Account, &SecretKey::generate());
        assert!(matches!(err, Err(CryptoError::KeyFileIo { .. })));
    }

    #[test]
    fn wrong_kind_names_both_kinds_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write_key(dir.path(), KeyKind::Network);
        let err = KeyFile::load(&path, KeyKind::Consensus)
            .unwrap_err()
            .to_string();
        assert!(err.contains("network key"), "{err}");
        assert!(err.contains("consensus key"), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write_key(dir.path(), KeyKind::Consensus);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = KeyFile::load(&path, KeyKind::Consensus)
            .unwrap_err()
            .to_string();
        assert!(err.contains("readable by other users"), "{err}");
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn truncated_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write_key(dir.path(), KeyKind::Consensus);
        let full = std::fs::read(&path).unwrap();
        for cut in [0, 1, full.len() / 2, full.len() - 3] {
            std::fs::write(&path, &full[..cut]).unwrap();
            let err = KeyFile::load(&path, KeyKind::Consensus)
                .unwrap_err()
                .to_string();
            assert!(err.contains("not a cairn key file"), "cut {cut}: {err}");
        }
    }

    #[test]
    fn mismatched_public_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write_key(dir.path(), KeyKind::Consensus);
        let text = std::fs::read_to_string(&path).unwrap();
        let other = SecretKey::generate().public().to_string();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let original = json["public_key"].as_str().unwrap().to_string();
        std::fs::write(&path, text.replace(&original, &other)).unwrap();
        let err = KeyFile::load(&path, KeyKind::Consensus)
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not match"), "{err}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = KeyFile::load(Path::new("/nonexistent/k.key"), KeyKind::Consensus)
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/k.key"), "{err}");
    }
}
