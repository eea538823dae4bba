//! Signed checkpoints: every so often the head of a tenant's chain (its sequence number and
//! hash) is signed with the installation's ed25519 key. A hash chain alone shows edits, deletions
//! and reordering, but not a chain cut short at its end (the shorter chain is still a valid
//! chain) nor one rewritten whole by someone who can write the database. A checkpoint shows both:
//! its signature cannot be made without the private key, and an auditor holding the exported
//! public key can check it independently of the installation.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why a signing or verifying key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file could not be read or written.
    #[error("audit signing key `{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The key's text is not a key.
    #[error("audit key `{origin}` is malformed: {reason}")]
    Malformed {
        /// Where the text came from.
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// The operating system's random source failed.
    #[error("no randomness for a new audit signing key: {0}")]
    Random(String),
}

/// One signed checkpoint of a tenant's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// The tenant.
    pub tenant: String,
    /// The sequence number of the last record covered.
    pub seq: i64,
    /// That record's hash.
    pub head_hash: String,
    /// When the checkpoint was signed.
    pub time: DateTime<Utc>,
    /// Which key signed it (see [`key_id`]).
    pub key_id: String,
    /// The ed25519 signature of [`Checkpoint::message`], hex.
    pub signature: String,
}

impl Checkpoint {
    /// The exact bytes signed: versioned, one field per line, so no two checkpoints share them.
    pub fn message(tenant: &str, seq: i64, head_hash: &str, time: &DateTime<Utc>) -> String {
        format!(
            "steward-audit-checkpoint/v1\n{tenant}\n{seq}\n{head_hash}\n{}",
            time.to_rfc3339_opts(SecondsFormat::Micros, true)
        )
    }

    /// Whether `key` made this signature over this checkpoint's fields.
    pub fn verifies_with(&self, key: &VerifyingKey) -> bool {
        let Ok(bytes) = hex::decode(&self.signature) else {
            return false;
        };
        let Ok(signature) = Signature::from_slice(&bytes) else {
            return false;
        };
        let message = Self::message(&self.tenant, self.seq, &self.head_hash, &self.time);
        key.verify_strict(message.as_bytes(), &signature).is_ok()
    }
}

/// A short, stable name of a public key: the first 16 hex digits of its SHA-256.
pub fn key_id(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.to_bytes());
    hex::encode(digest)[..16].to_owned()
}

/// The installation's checkpoint signer.
#[derive(Clone)]
pub struct CheckpointSigner {
    key: SigningKey,
    id: String,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        f.debug_struct("CheckpointSigner")
            .field("key_id", &self.id)
            .finish()
    }
}

impl CheckpointSigner {
    /// A signer over a key's 32 secret bytes.
    pub fn from_secret(secret: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&secret);
        let id = key_id(&key.verifying_key());
        Self { key, id }
    }

    /// A new random key.
    pub fn generate() -> Result<Self, KeyError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(Self::from_secret(secret))
    }

    /// Reads the key from `path` (64 hex digits), creating it with owner-only permissions when the
    /// file does not exist yet.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim()).map_err(|e| KeyError::Malformed {
                    origin: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                let secret: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Malformed {
                    origin: path.display().to_string(),
                    reason: "expected 32 bytes (64 hex digits)".into(),
                })?;
                Ok(Self::from_secret(secret))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let signer = Self::generate()?;
                write_owner_only(path, &hex::encode(signer.key.to_bytes())).map_err(io)?;
                Ok(signer)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// The public half, for verifiers.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The public key as 64 hex digits: what `steward audit public-key` exports.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    /// Signs the head of a tenant's chain.
    pub fn sign(&self, tenant: &str, seq: i64, head_hash: &str, time: DateTime<Utc>) -> Checkpoint {
        // The signed time has microsecond precision, like the stored one.
        let time = DateTime::parse_from_rfc3339(&time.to_rfc3339_opts(SecondsFormat::Micros, true))
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(time);
        let message = Checkpoint::message(tenant, seq, head_hash, &time);
        let signature = self.key.sign(message.as_bytes());
        Checkpoint {
            tenant: tenant.to_owned(),
            seq,
            head_hash: head_hash.to_owned(),
            time,
            key_id: self.id.clone(),
            signature: hex::encode(signature.to_bytes()),
        }
    }
}

/// Parses an exported public key (64 hex digits).
pub fn parse_public_key(text: &str, origin: &str) -> Result<VerifyingKey, KeyError> {
    let malformed = |reason: String| KeyError::Malformed {
        origin: origin.to_owned(),
        reason,
    };
    let bytes = hex::decode(text.trim()).map_err(|e| malformed(e.to_string()))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| malformed("expected 32 bytes (64 hex digits)".into()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| malformed(e.to_string()))
}

/// Writes a new key file that only its owner can read (it must not exist yet: a key is never
/// overwritten). Shared with the store's master key.
#[cfg(unix)]
pub fn write_owner_only(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Writes a new key file (no owner-only mode outside Unix).
#[cfg(not(unix))]
pub fn write_owner_only(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_only_with_its_key_and_fields() {
        let signer = CheckpointSigner::from_secret([7; 32]);
        let other = CheckpointSigner::from_secret([8; 32]);
        let c = signer.sign("t1", 42, "abc", Utc::now());
        assert!(c.verifies_with(&signer.verifying_key()));
        assert!(!c.verifies_with(&other.verifying_key()));
        let mut moved = c.clone();
        moved.seq = 41;
        assert!(!moved.verifies_with(&signer.verifying_key()));
        let mut rehashed = c.clone();
        rehashed.head_hash = "abd".into();
        assert!(!rehashed.verifies_with(&signer.verifying_key()));
        let mut garbage = c;
        garbage.signature = "zz".into();
        assert!(!garbage.verifies_with(&signer.verifying_key()));
    }

    #[test]
    fn a_key_file_is_created_once_then_reused() {
        let dir = std::env::temp_dir().join(format!("steward-key-{}", std::process::id()));
        let path = dir.join("audit-signing.key");
        let _ = std::fs::remove_file(&path);
        let first = CheckpointSigner::load_or_create(&path).unwrap();
        let again = CheckpointSigner::load_or_create(&path).unwrap();
        assert_eq!(first.public_key_hex(), again.public_key_hex());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let exported = parse_public_key(&first.public_key_hex(), "test").unwrap();
        assert_eq!(key_id(&exported), key_id(&first.verifying_key()));
        std::fs::write(&path, "not hex").unwrap();
        assert!(matches!(
            CheckpointSigner::load_or_create(&path),
            Err(KeyError::Malformed { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
