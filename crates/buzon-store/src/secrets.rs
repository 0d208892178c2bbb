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

/// The authenticated cipher for credentials at rest.
#[derive(Clone)]
pub struct Cipher {
    key: [u8; 32],
}

/// The first byte of every ciphertext: the format, so the scheme can change later.
const FORMAT_V1: u8 = 1;

impl Cipher {
    /// Reads a 32-byte key written as 64 hex digits or as base64.
    pub fn from_key_text(text: &str) -> Result<Cipher, CipherError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| CipherError::BadKey)?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
                .map_err(|_| CipherError::BadKey)?
        };
        let key: [u8; 32] = bytes.try_into().map_err(|_| CipherError::BadKey)?;
        Ok(Cipher { key })
    }

    /// A new random key, as 64 hex digits.
    pub fn generate_key_text() -> String {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        hex::encode(key)
    }

    /// Encrypts `plaintext`, binding it to `context` (e.g. the channel it belongs to), so a
    /// ciphertext moved to another row does not open.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let cipher = Aes256Gcm::new((&self.key).into());
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
        let mut out = Vec::with_capacity(1 + nonce.len() + sealed.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts what [`Cipher::seal`] produced with the same key and context.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CipherError> {
        if sealed.len() < 1 + 12 + 16 || sealed[0] != FORMAT_V1 {
            return Err(CipherError::Open);
        }
        let cipher = Aes256Gcm::new((&self.key).into());
        cipher
            .decrypt(
                Nonce::from_slice(&sealed[1..13]),
                Payload {
                    msg: &sealed[13..],
                    aad: context,
                },
            )
            .map_err(|_| CipherError::Open)
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
