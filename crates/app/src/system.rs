//! The real clock, ids and secrets.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use domain::ports::{Clock, IdGenerator, Secrets};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since 2024-01-01, the epoch of our ids.
const ID_EPOCH_MS: i64 = 1_704_067_200_000;
const SEQUENCE_BITS: u32 = 14;

/// Clock, id generator and secret source of a running process.
///
/// Ids are about `milliseconds since 2024 << 14`, plus a random per-process offset below 2^14,
/// and strictly increasing within the process (the last id + 1 when the clock has not moved on):
/// ordered by time, so "newest first" is "largest id first" and the two messages of a turn keep
/// their order; unique across instances with high probability (the offsets differ); and below
/// 2^53 until about 2032 so JavaScript clients read them exactly.
pub struct SystemEnv {
    offset: i64,
    last: AtomicI64,
}

impl Default for SystemEnv {
    fn default() -> Self {
        SystemEnv {
            offset: (rand::rng().next_u64() & ((1 << SEQUENCE_BITS) - 1)) as i64,
            last: AtomicI64::new(0),
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
        let now = (millis << SEQUENCE_BITS) + self.offset;
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = now.max(last + 1);
            match self
                .last
                .compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(current) => last = current,
            }
        }
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
        // More ids than the low bits hold, so some milliseconds see many.
        let ids: Vec<i64> = (0..100_000).map(|_| env.next_id()).collect();
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "strictly increasing");
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
