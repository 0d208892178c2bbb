//! Secrets at rest: channel credentials under AES-256-GCM, passwords under Argon2id, API
//! tokens as SHA-256 hashes of high-entropy random strings.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A key could not be read, or a ciphertext could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// The secret key is not 32 bytes of hex or base64.
    #[error("security.secret_key must be 32 bytes written as 64 hex digits or base64")]
    BadKey,
    /// The ciphertext was made under another key, or altered.
    #[error("ciphertext cannot be opened with this key")]
    Open,
}

/// Where a cipher reads its keys again when it meets a ciphertext sealed under a key it does
/// not hold (another node rotated the key): key texts, the preferred first.
pub type KeyLoader = std::sync::Arc<dyn Fn() -> Vec<String> + Send + Sync>;

/// The authenticated cipher for secrets at rest: a ring of keys, one of them the key new
/// secrets are sealed under. Each ciphertext names its key (a fingerprint, never the key), so
/// a node meeting one sealed under a key it does not hold reads its key sources again (at
/// most once a second) instead of failing: `buzon rotate-key` can run while nodes do.
/// Clones share the ring.
#[derive(Clone)]
pub struct Cipher {
    ring: std::sync::Arc<std::sync::RwLock<Ring>>,
    loader: Option<KeyLoader>,
}

struct Ring {
    keys: Vec<Key>,
    /// The index of the key new secrets are sealed under.
    primary: usize,
    reloaded_at: Option<std::time::Instant>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    id: [u8; 8],
    bytes: [u8; 32],
}

impl Key {
    fn parse(text: &str) -> Result<Key, CipherError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| CipherError::BadKey)?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
                .map_err(|_| CipherError::BadKey)?
        };
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| CipherError::BadKey)?;
        let digest = Sha256::digest([b"buzon key id:".as_slice(), &bytes].concat());
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        Ok(Key { id, bytes })
    }
}

/// The first byte of a ciphertext of the first format: no key named (still opened, with
/// every key of the ring).
const FORMAT_V1: u8 = 1;
/// The first byte of every ciphertext sealed now: the format, then the key's fingerprint.
const FORMAT_V2: u8 = 2;

/// How often a cipher reads its key sources again, at most.
const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Cipher {
    /// Reads a 32-byte key written as 64 hex digits or as base64.
    pub fn from_key_text(text: &str) -> Result<Cipher, CipherError> {
        Ok(Cipher::of(vec![Key::parse(text)?], None))
    }

    /// A ring of the keys `loader` gives (the first is the one to seal under), read again when
    /// a ciphertext names a key the ring does not hold.
    pub fn with_loader(loader: KeyLoader) -> Result<Cipher, CipherError> {
        let keys = loader()
            .iter()
            .map(|text| Key::parse(text))
            .collect::<Result<Vec<Key>, CipherError>>()?;
        if keys.is_empty() {
            return Err(CipherError::BadKey);
        }
        Ok(Cipher::of(keys, Some(loader)))
    }

    fn of(keys: Vec<Key>, loader: Option<KeyLoader>) -> Cipher {
        Cipher {
            ring: std::sync::Arc::new(std::sync::RwLock::new(Ring {
                keys,
                primary: 0,
                reloaded_at: None,
            })),
            loader,
        }
    }

    /// A new random key, as 64 hex digits.
    pub fn generate_key_text() -> String {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        hex::encode(key)
    }

    /// The fingerprint of the key new secrets are sealed under (16 hex digits; it tells
    /// nothing of the key).
    pub fn key_id(&self) -> String {
        let ring = self.ring.read().expect("the key ring is never poisoned");
        hex::encode(ring.keys[ring.primary].id)
    }

    /// Seals under the key with fingerprint `id` from now on, reading the key sources again
    /// if the ring does not hold it. False when no source has it.
    pub fn prefer(&self, id: &str) -> bool {
        let Ok(wanted) = hex::decode(id) else {
            return false;
        };
        for attempt in 0..2 {
            if attempt == 1 && !self.reload() {
                return false;
            }
            let mut ring = self.ring.write().expect("the key ring is never poisoned");
            if let Some(index) = ring.keys.iter().position(|key| key.id[..] == wanted[..]) {
                ring.primary = index;
                return true;
            }
        }
        false
    }

    /// A ring of the keys held now that never reads its sources again.
    pub fn frozen(&self) -> Cipher {
        let ring = self.ring.read().expect("the key ring is never poisoned");
        let copy = Cipher::of(ring.keys.clone(), None);
        copy.ring.write().expect("a new ring").primary = ring.primary;
        copy
    }

    /// Reads the key sources again, keeping every key already held. Whether it read them
    /// (not more than once a second).
    fn reload(&self) -> bool {
        let Some(loader) = &self.loader else {
            return false;
        };
        {
            let ring = self.ring.read().expect("the key ring is never poisoned");
            if ring
                .reloaded_at
                .is_some_and(|at| at.elapsed() < RELOAD_EVERY)
            {
                return false;
            }
        }
        let found: Vec<Key> = loader()
            .iter()
            .filter_map(|text| Key::parse(text).ok())
            .collect();
        let mut ring = self.ring.write().expect("the key ring is never poisoned");
        ring.reloaded_at = Some(std::time::Instant::now());
        for key in found {
            if !ring.keys.contains(&key) {
                ring.keys.push(key);
            }
        }
        true
    }

    fn key(&self, id: &[u8]) -> Option<Key> {
        let find = |ring: &Ring| ring.keys.iter().copied().find(|key| key.id[..] == *id);
        if let Some(key) = find(&self.ring.read().expect("the key ring is never poisoned")) {
            return Some(key);
        }
        if self.reload() {
            return find(&self.ring.read().expect("the key ring is never poisoned"));
        }
        None
    }

    /// Encrypts `plaintext`, binding it to `context` (e.g. the channel it belongs to), so a
    /// ciphertext moved to another row does not open.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let key = {
            let ring = self.ring.read().expect("the key ring is never poisoned");
            ring.keys[ring.primary]
        };
        let cipher = Aes256Gcm::new((&key.bytes).into());
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + key.id.len() + nonce.len() + sealed.len());
        out.push(FORMAT_V2);
        out.extend_from_slice(&key.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts what [`Cipher::seal`] produced with the same context, under whichever key of
    /// the ring sealed it (reading the key sources again for a key it does not hold).
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CipherError> {
        let decrypt = |key: &Key, nonce: &[u8], body: &[u8]| {
            Aes256Gcm::new((&key.bytes).into())
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: body,
                        aad: context,
                    },
                )
                .map_err(|_| CipherError::Open)
        };
        match sealed.first() {
            Some(&FORMAT_V2) if sealed.len() >= 1 + 8 + 12 + 16 => {
                let key = self.key(&sealed[1..9]).ok_or(CipherError::Open)?;
                decrypt(&key, &sealed[9..21], &sealed[21..])
            }
            Some(&FORMAT_V1) if sealed.len() >= 1 + 12 + 16 => {
                let keys = self
                    .ring
                    .read()
                    .expect("the key ring is never poisoned")
                    .keys
                    .clone();
                keys.iter()
                    .find_map(|key| decrypt(key, &sealed[1..13], &sealed[13..]).ok())
                    .ok_or(CipherError::Open)
            }
            _ => Err(CipherError::Open),
        }
    }
}

/// Hashes a password with Argon2id and a random salt (PHC string format).
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 with default parameters hashes any password")
        .to_string()
}

/// Checks a password against a stored Argon2 hash, in constant time.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// The prefix of every API token, so leaked tokens are easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "bzn_";

/// A new API token: the prefix and 32 random bytes, URL-safe base64.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The stored form of an API token: SHA-256, hex. Tokens carry 256 random bits, so a fast hash
/// is enough and lookups stay cheap.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_credentials_open_only_with_the_same_key_and_context() {
        let cipher = Cipher::from_key_text(&Cipher::generate_key_text()).unwrap();
        let sealed = cipher.seal(b"channel:x:1", b"page-token-123");
        assert!(!sealed
            .windows(b"page-token-123".len())
            .any(|window| window == b"page-token-123"));
        assert_eq!(
            cipher.open(b"channel:x:1", &sealed).unwrap(),
            b"page-token-123"
        );
        assert_eq!(cipher.open(b"channel:x:2", &sealed), Err(CipherError::Open));
        let other = Cipher::from_key_text(&Cipher::generate_key_text()).unwrap();
        assert_eq!(other.open(b"channel:x:1", &sealed), Err(CipherError::Open));
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(
            cipher.open(b"channel:x:1", &tampered),
            Err(CipherError::Open)
        );
    }

    #[test]
    fn a_ring_opens_what_any_of_its_keys_sealed_and_reads_its_sources_again_for_a_new_key() {
        let old = Cipher::generate_key_text();
        let new = Cipher::generate_key_text();
        // A node started on the old key; its source later holds the new one too.
        let source = std::sync::Arc::new(std::sync::Mutex::new(vec![old.clone()]));
        let reading = source.clone();
        let node =
            Cipher::with_loader(std::sync::Arc::new(move || reading.lock().unwrap().clone()))
                .unwrap();
        let rotated = Cipher::from_key_text(&new).unwrap();
        let sealed = rotated.seal(b"ctx", b"token");
        assert_eq!(
            &sealed[1..9],
            &hex::decode(rotated.key_id()).unwrap()[..],
            "names its key"
        );
        assert_eq!(node.open(b"ctx", &sealed), Err(CipherError::Open));
        assert!(
            !node.prefer(&rotated.key_id()),
            "not held, not in the source"
        );
        source.lock().unwrap().push(new.clone());
        std::thread::sleep(RELOAD_EVERY);
        assert_eq!(node.open(b"ctx", &sealed).unwrap(), b"token");
        // It seals under the key the database names, once told.
        assert_ne!(node.key_id(), rotated.key_id());
        assert!(node.prefer(&rotated.key_id()));
        assert_eq!(node.key_id(), rotated.key_id());
        assert_eq!(
            rotated.open(b"ctx", &node.seal(b"ctx", b"x")).unwrap(),
            b"x"
        );
        // What the first format sealed (no key named) opens with any key of the ring.
        let legacy = {
            let key = Key::parse(&old).unwrap();
            let mut nonce = [0u8; 12];
            rand::rngs::OsRng.fill_bytes(&mut nonce);
            let body = Aes256Gcm::new((&key.bytes).into())
                .encrypt(
                    Nonce::from_slice(&nonce),
                    Payload {
                        msg: b"v1",
                        aad: b"ctx",
                    },
                )
                .unwrap();
            [&[FORMAT_V1][..], &nonce, &body].concat()
        };
        assert_eq!(node.open(b"ctx", &legacy).unwrap(), b"v1");
        assert_eq!(node.frozen().open(b"ctx", &legacy).unwrap(), b"v1");
    }

    #[test]
    fn keys_must_be_32_bytes() {
        assert_eq!(
            Cipher::from_key_text("short").err(),
            Some(CipherError::BadKey)
        );
        assert!(Cipher::from_key_text(&"ab".repeat(32)).is_ok());
        assert!(Cipher::from_key_text("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_ok());
    }

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let token = generate_token();
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_ne!(token, generate_token());
        assert_eq!(hash_token(&token).len(), 64);
    }
}
