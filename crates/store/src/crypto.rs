//! Per-tenant encryption at rest. Each tenant has its own data key (AES-256-GCM), stored only
//! wrapped by a master key that a [`KeyProvider`] holds (a file or an environment variable here;
//! a cloud KMS can implement the same trait). Sensitive columns are sealed with the tenant's data
//! key and bound (as associated data) to their tenant and purpose, so a ciphertext copied into
//! another tenant's row, or another column, does not open. Destroying a tenant's wrapped key makes
//! everything sealed with it unreadable (crypto-shredding), without touching backups.

use std::path::Path;

use aes_gcm::aead::{Aead, Generate, Key, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The master key could not be read or created.
    #[error("master key `{origin}`: {reason}")]
    MasterKey {
        /// Where it was looked for.
        origin: String,
        /// What went wrong.
        reason: String,
    },
    /// A wrapped key or a sealed value does not open with the key at hand: another master key,
    /// another tenant's key, an altered value, or a destroyed key.
    #[error("{what} does not decrypt: {reason}")]
    Undecryptable {
        /// What was being opened.
        what: String,
        /// Why.
        reason: String,
    },
}

/// Wraps and unwraps tenants' data keys. The master key never encrypts data itself.
pub trait KeyProvider: Send + Sync + std::fmt::Debug {
    /// A stable name of the master key in use (stored beside each wrapped key, so a rotation
    /// can tell which ones are still wrapped by the old key).
    fn key_id(&self) -> String;
    /// Wraps a tenant's data key.
    fn wrap(&self, tenant: &str, data_key: &[u8; 32]) -> Result<Vec<u8>, CryptoError>;
    /// Unwraps a tenant's data key.
    fn unwrap(&self, tenant: &str, wrapped: &[u8]) -> Result<Zeroizing<[u8; 32]>, CryptoError>;
}

/// A 256-bit master key held in memory, read from a file or an environment variable.
pub struct MasterKey {
    cipher: Aes256Gcm,
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey").field("id", &self.id).finish()
    }
}

fn random_key() -> Zeroizing<[u8; 32]> {
    let key = Key::<Aes256Gcm>::generate();
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&key);
    out
}

impl MasterKey {
    /// A master key from its 64 hex digits.
    pub fn from_hex(text: &str, origin: &str) -> Result<Self, CryptoError> {
        let bad = |reason: String| CryptoError::MasterKey {
            origin: origin.to_owned(),
            reason,
        };
        let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|e| bad(e.to_string()))?);
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| bad("expected 32 bytes (64 hex digits)".into()))?;
        let key = Zeroizing::new(key);
        Ok(Self::from_bytes(&key))
    }

    fn from_bytes(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key)),
            id: id_of(key),
        }
    }

    /// A new random master key, and its hex (to be stored by the caller).
    pub fn generate() -> (Self, Zeroizing<String>) {
        let key = random_key();
        (Self::from_bytes(&key), Zeroizing::new(hex::encode(*key)))
    }

    /// The key in environment variable `var`, if set.
    pub fn from_env(var: &str) -> Result<Option<Self>, CryptoError> {
        match std::env::var(var) {
            Ok(text) => Self::from_hex(&text, &format!("${var}")).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// The key in `path`, created (owner-only) when the file does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, CryptoError> {
        let origin = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&text, &origin),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let (key, text) = Self::generate();
                steward_audit::write_owner_only(path, &text).map_err(|e| {
                    CryptoError::MasterKey {
                        origin,
                        reason: e.to_string(),
                    }
                })?;
                Ok(key)
            }
            Err(e) => Err(CryptoError::MasterKey {
                origin,
                reason: e.to_string(),
            }),
        }
    }
}

/// A short name of a key that reveals nothing of it.
fn id_of(key: &[u8; 32]) -> String {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"steward-master-key-id/v1");
    hasher.update(key);
    hex::encode(hasher.finalize())[..16].to_owned()
}

impl KeyProvider for MasterKey {
    fn key_id(&self) -> String {
        self.id.clone()
    }

    fn wrap(&self, tenant: &str, data_key: &[u8; 32]) -> Result<Vec<u8>, CryptoError> {
        seal_bytes(&self.cipher, data_key, &wrap_aad(tenant)).map_err(|reason| {
            CryptoError::Undecryptable {
                what: format!("tenant `{tenant}`'s data key"),
                reason,
            }
        })
    }

    fn unwrap(&self, tenant: &str, wrapped: &[u8]) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        let failed = |reason: String| CryptoError::Undecryptable {
            what: format!("tenant `{tenant}`'s data key"),
            reason,
        };
        let plain =
            Zeroizing::new(open_bytes(&self.cipher, wrapped, &wrap_aad(tenant)).map_err(failed)?);
        let key: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| failed("not 32 bytes".into()))?;
        Ok(Zeroizing::new(key))
    }
}

fn wrap_aad(tenant: &str) -> String {
    format!("steward-data-key/v1:{tenant}")
}

fn seal_bytes(cipher: &Aes256Gcm, msg: &[u8], aad: &str) -> Result<Vec<u8>, String> {
    let nonce = Nonce::generate();
    let mut out = nonce.to_vec();
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|e| e.to_string())?;
    out.extend_from_slice(&sealed);
    Ok(out)
}

fn open_bytes(cipher: &Aes256Gcm, sealed: &[u8], aad: &str) -> Result<Vec<u8>, String> {
    if sealed.len() < 12 + 16 {
        return Err("too short".into());
    }
    let (nonce, body) = sealed.split_at(12);
    let nonce = Nonce::try_from(nonce).map_err(|_| "bad nonce".to_owned())?;
    cipher
        .decrypt(
            &nonce,
            Payload {
                msg: body,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| "authentication failed (wrong key, or the value was altered or moved)".into())
}

/// The marker of a sealed value in a text column.
const SEALED: &str = "enc1:";

/// One tenant's data key, unwrapped in memory.
pub(crate) struct DataKey {
    tenant: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("tenant", &self.tenant)
            .finish()
    }
}

impl DataKey {
    /// A new random data key, and its bytes (to be wrapped).
    pub fn generate(tenant: &str) -> (Self, Zeroizing<[u8; 32]>) {
        let key = random_key();
        (Self::from_bytes(tenant, &key), key)
    }

    pub fn from_bytes(tenant: &str, key: &[u8; 32]) -> Self {
        Self {
            tenant: tenant.to_owned(),
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key)),
        }
    }

    fn aad(&self, purpose: &str) -> String {
        format!("steward/v1:{}:{purpose}", self.tenant)
    }

    /// Seals `plain` for storage in a text column, bound to this tenant and `purpose`.
    pub fn seal(&self, plain: &str, purpose: &str) -> Result<String, CryptoError> {
        let sealed =
            seal_bytes(&self.cipher, plain.as_bytes(), &self.aad(purpose)).map_err(|reason| {
                CryptoError::Undecryptable {
                    what: purpose.to_owned(),
                    reason,
                }
            })?;
        Ok(format!("{SEALED}{}", B64.encode(sealed)))
    }

    /// Opens a stored value sealed by [`seal`](Self::seal). A value stored before encryption
    /// existed (no marker) is returned as it is.
    pub fn open(&self, stored: &str, purpose: &str) -> Result<String, CryptoError> {
        let Some(body) = stored.strip_prefix(SEALED) else {
            return Ok(stored.to_owned());
        };
        let failed = |reason: String| CryptoError::Undecryptable {
            what: format!("a stored {purpose}"),
            reason,
        };
        let sealed = B64.decode(body).map_err(|e| failed(e.to_string()))?;
        let plain = open_bytes(&self.cipher, &sealed, &self.aad(purpose)).map_err(failed)?;
        String::from_utf8(plain).map_err(|e| failed(e.to_string()))
    }
}

/// Whether a stored text is sealed.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_for_its_tenant_purpose_and_key() {
        let (a, _) = DataKey::generate("acme");
        let sealed = a.seal("Tom's new password is in here", "approval").unwrap();
        assert!(is_sealed(&sealed) && !sealed.contains("Tom"));
        assert_eq!(
            a.open(&sealed, "approval").unwrap(),
            "Tom's new password is in here"
        );
        assert!(
            a.open(&sealed, "conversation").is_err(),
            "bound to its purpose"
        );
        let (other, _) = DataKey::generate("acme");
        assert!(other.open(&sealed, "approval").is_err(), "bound to its key");
        let (b, bytes) = DataKey::generate("beta");
        let same_key_other_tenant = DataKey::from_bytes("acme", &bytes);
        let sealed_b = b.seal("x", "approval").unwrap();
        assert!(
            same_key_other_tenant.open(&sealed_b, "approval").is_err(),
            "bound to its tenant"
        );
        assert_eq!(
            a.open("{\"plain\":1}", "approval").unwrap(),
            "{\"plain\":1}"
        );
    }

    #[test]
    fn a_wrapped_key_unwraps_only_with_its_master_key_and_tenant() {
        let (master, hex_text) = MasterKey::generate();
        let (_, data) = DataKey::generate("acme");
        let wrapped = master.wrap("acme", &data).unwrap();
        assert_eq!(*master.unwrap("acme", &wrapped).unwrap(), *data);
        assert!(master.unwrap("beta", &wrapped).is_err());
        let (other, _) = MasterKey::generate();
        assert!(other.unwrap("acme", &wrapped).is_err());
        let again = MasterKey::from_hex(&hex_text, "test").unwrap();
        assert_eq!(again.key_id(), master.key_id());
        assert_ne!(other.key_id(), master.key_id());
        assert!(MasterKey::from_hex("abc", "test").is_err());
    }
}
