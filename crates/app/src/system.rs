//! The real clock, ids and secrets.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use domain::ports::{Clock, IdGenerator, Secrets};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};

/// Milliseconds since 2024-01-01, the epoch of our ids.
const ID_EPOCH_MS: i64 = 1_704_067_200_000;
const SEQUENCE_BITS: u32 = 14;

/// Clock, id generator and secret source of a running process.
///
/// Ids are `milliseconds since 2024 << 14 | sequence`: ordered by time (so "newest first" is
/// "largest id first"), unique across instances with overwhelming probability (the sequence
/// starts at a random value per process), and below 2^53 until about 2032 so JavaScript clients
/// read them exactly.
pub struct SystemEnv {
    sequence: AtomicU64,
}

impl Default for SystemEnv {
    fn default() -> Self {
        SystemEnv {
            sequence: AtomicU64::new(rand::rng().next_u64()),
        }
    }
}

impl Clock for SystemEnv {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

impl IdGenerator for SystemEnv {
    fn next_id(&self) -> i64 {
        let millis = (Utc::now().timestamp_millis() - ID_EPOCH_MS).max(0);
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed) & ((1 << SEQUENCE_BITS) - 1);
        (millis << SEQUENCE_BITS) | sequence as i64
    }
}

impl Secrets for SystemEnv {
    fn new_secret(&self) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn digest(&self, secret: &str) -> String {
        sha256_hex(secret.as_bytes())
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_increasing_across_milliseconds() {
        let env = SystemEnv::default();
        let ids: Vec<i64> = (0..10_000).map(|_| env.next_id()).collect();
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
        assert!(ids.iter().all(|&id| id > 0 && id < (1_i64 << 53)));
    }

    #[test]
    fn secrets_are_long_and_digests_stable() {
        let env = SystemEnv::default();
        let a = env.new_secret();
        assert!(a.len() >= 43);
        assert_ne!(a, env.new_secret());
        assert_eq!(env.digest("x"), env.digest("x"));
        assert_eq!(env.digest("x").len(), 64);
    }
}
