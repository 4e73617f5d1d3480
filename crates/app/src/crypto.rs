//! Password hashing (argon2id) and message encryption at rest (XChaCha20-Poly1305).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use domain::UserId;
use domain::conversation::CipherError;
use domain::ports::{HashError, KeyValue, MessageCipher, PasswordHasher};
use rand::RngCore;
use std::io::Write;
use std::path::Path;

/// argon2id with the crate's default (OWASP-recommended) parameters. Hashing runs on the blocking
/// pool: at ~24 ms a hash it would stall the async workers.
#[derive(Clone, Default)]
pub struct Argon2Hasher;

impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: String) -> Result<String, HashError> {
        tokio::task::spawn_blocking(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| HashError(e.to_string()))
        })
        .await
        .map_err(|e| HashError(e.to_string()))?
    }

    async fn verify(&self, password: String, hash: String) -> bool {
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }
}

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
/// First byte of every sealed message, so the format can change without guessing.
const FORMAT_V1: u8 = 1;
/// Version 2 pads the text before sealing: a 4-byte length, the text, zeros up to a bucket.
const FORMAT_V2: u8 = 2;
/// The smallest bucket; buckets double up to [`LARGEST_DOUBLING`], then grow by it.
const SMALLEST_BUCKET: usize = 256;
const LARGEST_DOUBLING: usize = 16 * 1024;

/// The padded size of a text of `len` bytes (with its length prefix): sealed sizes fall into a
/// few buckets, so a message's size tells little about what it says (a crisis answer has the
/// size of many ordinary replies).
fn bucket(len: usize) -> usize {
    let needed = len + 4;
    if needed <= LARGEST_DOUBLING {
        needed.next_power_of_two().max(SMALLEST_BUCKET)
    } else {
        needed.div_ceil(LARGEST_DOUBLING) * LARGEST_DOUBLING
    }
}

fn pad(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut padded = Vec::with_capacity(bucket(bytes.len()));
    padded.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    padded.extend_from_slice(bytes);
    padded.resize(bucket(bytes.len()), 0);
    padded
}

fn unpad(padded: &[u8]) -> Option<&[u8]> {
    let (len, rest) = padded.split_first_chunk::<4>()?;
    rest.get(..u32::from_be_bytes(*len) as usize)
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("ENCRYPTION_KEY: must be 32 bytes encoded in base64")]
    Malformed,
    #[error("encryption key file {path}: {message}")]
    File { path: String, message: String },
    #[error(
        "ENCRYPTION_KEY does not match the key this database's messages were sealed with; \
         restore the original key (or its data/message.key file)"
    )]
    Mismatch,
    #[error("cannot check the encryption key against the database: {0}")]
    Store(String),
}

/// Name of the stored sample sealed with the message key at first start.
const KEY_CANARY: &str = "message_key_canary";
const CANARY_TEXT: &str = "botpsicologo message key canary";

/// Fails when `cipher` is not the key the database was first used with, so a lost or changed key
/// is a clear start-up error rather than history that silently stops opening. The first start
/// stores a sample sealed with the key; later starts must open it.
pub async fn verify_key<K: KeyValue>(cipher: &AeadCipher, store: &K) -> Result<(), KeyError> {
    let store_err = |e: domain::ports::StoreError| KeyError::Store(e.to_string());
    let sample = cipher.seal(UserId(0), CANARY_TEXT);
    if store
        .put_value_once(KEY_CANARY, &sample)
        .await
        .map_err(store_err)?
    {
        return Ok(());
    }
    let stored = store
        .get_value(KEY_CANARY)
        .await
        .map_err(store_err)?
        .ok_or_else(|| KeyError::Store("the key sample vanished".into()))?;
    match cipher.open(UserId(0), &stored) {
        Ok(text) if text == CANARY_TEXT => Ok(()),
        _ => Err(KeyError::Mismatch),
    }
}

/// Seals message text with XChaCha20-Poly1305 (random 192-bit nonces never repeat in practice),
/// binding each message to its owner through the associated data.
#[derive(Clone)]
pub struct AeadCipher {
    cipher: XChaCha20Poly1305,
}

impl AeadCipher {
    pub fn from_key(key: &[u8]) -> Result<AeadCipher, KeyError> {
        if key.len() != KEY_LEN {
            return Err(KeyError::Malformed);
        }
        let cipher = XChaCha20Poly1305::new_from_slice(key).map_err(|_| KeyError::Malformed)?;
        Ok(AeadCipher { cipher })
    }

    /// The configured key (base64), or else the key file in the data directory, created with
    /// permissions 0600 on first start.
    pub fn load(configured: &str, data_dir: &Path) -> Result<AeadCipher, KeyError> {
        if !configured.trim().is_empty() {
            let key = STANDARD
                .decode(configured.trim())
                .map_err(|_| KeyError::Malformed)?;
            return AeadCipher::from_key(&key);
        }
        let path = data_dir.join("message.key");
        let file_err = |message: String| KeyError::File {
            path: path.display().to_string(),
            message,
        };
        if path.exists() {
            let text = std::fs::read_to_string(&path).map_err(|e| file_err(e.to_string()))?;
            let key = STANDARD
                .decode(text.trim())
                .map_err(|_| file_err("not a base64 key".into()))?;
            return AeadCipher::from_key(&key).map_err(|_| file_err("not a 32-byte key".into()));
        }
        std::fs::create_dir_all(data_dir).map_err(|e| file_err(e.to_string()))?;
        let mut key = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut key);
        write_private(&path, STANDARD.encode(key).as_bytes())
            .map_err(|e| file_err(e.to_string()))?;
        AeadCipher::from_key(&key)
    }
}

/// Writes a file only its owner can read, failing if it already exists (never clobber a key).
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn associated_data(owner: UserId) -> [u8; 8] {
    owner.0.to_be_bytes()
}

impl MessageCipher for AeadCipher {
    fn seal(&self, owner: UserId, plaintext: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = associated_data(owner);
        let ciphertext = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &pad(plaintext),
                    aad: &aad,
                },
            )
            .unwrap_or_default(); // only fails for messages over 256 GiB
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(FORMAT_V2);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    fn open(&self, owner: UserId, sealed: &[u8]) -> Result<String, CipherError> {
        let format = sealed.first().copied();
        if sealed.len() < 1 + NONCE_LEN || !matches!(format, Some(FORMAT_V1 | FORMAT_V2)) {
            return Err(CipherError::Undecryptable);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        let aad = associated_data(owner);
        let plaintext = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| CipherError::Undecryptable)?;
        // Messages sealed before padding existed (version 1) are the text itself.
        let text = match format {
            Some(FORMAT_V2) => unpad(&plaintext).ok_or(CipherError::Undecryptable)?,
            _ => &plaintext,
        };
        String::from_utf8(text.to_vec()).map_err(|_| CipherError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_key_is_remembered_and_another_is_refused() {
        let store = contracts::memory::MemoryStore::default();
        let first = AeadCipher::from_key(&[7u8; 32]).unwrap();
        verify_key(&first, &store).await.unwrap();
        verify_key(&first, &store).await.unwrap();
        let other = AeadCipher::from_key(&[8u8; 32]).unwrap();
        assert!(matches!(
            verify_key(&other, &store).await,
            Err(KeyError::Mismatch)
        ));
    }

    #[test]
    fn seal_open_round_trip_bound_to_owner() {
        let cipher = AeadCipher::from_key(&[7u8; 32]).unwrap();
        let sealed = cipher.seal(UserId(1), "Estou ansiosa com o trabalho");
        assert!(
            !sealed.windows(8).any(|w| w == b"ansiosa "),
            "no plaintext inside"
        );
        assert_eq!(
            cipher.open(UserId(1), &sealed).unwrap(),
            "Estou ansiosa com o trabalho"
        );
        assert_eq!(
            cipher.open(UserId(2), &sealed),
            Err(CipherError::Undecryptable)
        );
        let other = AeadCipher::from_key(&[8u8; 32]).unwrap();
        assert_eq!(
            other.open(UserId(1), &sealed),
            Err(CipherError::Undecryptable)
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            cipher.open(UserId(1), &tampered),
            Err(CipherError::Undecryptable)
        );
    }

    #[test]
    fn generated_key_file_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = AeadCipher::load("", dir.path()).unwrap();
        let sealed = a.seal(UserId(3), "oi");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("message.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let b = AeadCipher::load("", dir.path()).unwrap();
        assert_eq!(b.open(UserId(3), &sealed).unwrap(), "oi");
    }

    #[test]
    fn sealed_sizes_fall_into_buckets_and_old_messages_still_open() {
        let cipher = AeadCipher::from_key(&[3u8; 32]).unwrap();
        let short = cipher.seal(UserId(1), "oi");
        let longer = cipher.seal(UserId(1), &"a".repeat(200));
        assert_eq!(short.len(), longer.len(), "both in the 256-byte bucket");
        let big = cipher.seal(UserId(1), &"b".repeat(300));
        assert!(big.len() > short.len());
        assert_eq!(cipher.open(UserId(1), &big).unwrap(), "b".repeat(300));
        assert_eq!(cipher.open(UserId(1), &short).unwrap(), "oi");
        assert_eq!(bucket(0), 256);
        assert_eq!(bucket(300), 512);
        assert_eq!(bucket(40_000), 48 * 1024);
        // Version 1: the text sealed without padding.
        let mut nonce = [9u8; NONCE_LEN];
        nonce[0] = 1;
        let v1_body = cipher
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: "antiga".as_bytes(),
                    aad: &associated_data(UserId(1)),
                },
            )
            .unwrap();
        let v1 = [&[FORMAT_V1][..], &nonce, &v1_body].concat();
        assert_eq!(cipher.open(UserId(1), &v1).unwrap(), "antiga");
    }

    #[test]
    fn malformed_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            AeadCipher::load("c2hvcnQ=", dir.path()),
            Err(KeyError::Malformed)
        ));
        std::fs::write(dir.path().join("message.key"), "garbage!").unwrap();
        assert!(matches!(
            AeadCipher::load("", dir.path()),
            Err(KeyError::File { .. })
        ));
    }
}
