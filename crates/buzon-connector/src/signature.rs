use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Compares two byte strings in time that does not depend on where they differ.
pub fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    left.iter()
        .zip(right)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_x_crc_example() {
        // From shared/fixtures/x/README.md: key test-consumer-secret, message test-crc-token.
        let mac = hmac_sha256(b"test-consumer-secret", b"test-crc-token");
        let expected = [
            0xd4, 0x58, 0x36, 0xda, 0x1b, 0x15, 0xfc, 0x9d, 0x0c, 0x3c, 0x27, 0xa2, 0x5f, 0xf8,
            0x99, 0xa8, 0xba, 0x83, 0x91, 0x9d, 0x12, 0xdb, 0xcc, 0x8e, 0x38, 0xc2, 0x25, 0x8e,
            0xbb, 0x00, 0x5f, 0xd3,
        ];
        assert_eq!(mac, expected);
    }

    #[test]
    fn equality_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
