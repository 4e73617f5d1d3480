//! The machine the domain runs on: time, ids, secrets and password hashing.

use chrono::{DateTime, Utc};
use std::future::Future;

/// The current time; a port so tests can move it (period boundaries, expiries).
#[cfg_attr(test, mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// Application-chosen ids, unique across instances, roughly ordered by time.
#[cfg_attr(test, mockall::automock)]
pub trait IdGenerator: Send + Sync + 'static {
    fn next_id(&self) -> i64;
}

/// Unguessable secrets (session tokens, invitation links) and their one-way hash for storage.
#[cfg_attr(test, mockall::automock)]
pub trait Secrets: Send + Sync + 'static {
    /// A fresh URL-safe secret with at least 256 bits of entropy.
    fn new_secret(&self) -> String;
    /// The digest stored in place of the secret (hex SHA-256).
    fn digest(&self, secret: &str) -> String;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(pub String);

/// Password hashing (argon2id in production). Async because a hash costs tens of milliseconds.
#[cfg_attr(test, mockall::automock)]
pub trait PasswordHasher: Send + Sync + 'static {
    fn hash(&self, password: String) -> impl Future<Output = Result<String, HashError>> + Send;
    fn verify(&self, password: String, hash: String) -> impl Future<Output = bool> + Send;
}
