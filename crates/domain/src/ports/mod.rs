//! Ports: the traits the domain needs from the outside world. Adapters implement them; services
//! are generic over them. Async methods return `impl Future + Send` so no boxing is needed.
//!
//! One file per area. Ports import entity modules (the types in their signatures) and nothing
//! else of the crate; entity modules never import ports. Every port is used as
//! `domain::ports::Name`.

mod accounts;
mod audit;
mod billing;
mod conversations;
mod environment;
mod ledger;
mod library;
mod model;
mod operations;
mod ratelimit;
mod reports;
mod safety;

pub use accounts::*;
pub use audit::*;
pub use billing::*;
pub use conversations::*;
pub use environment::*;
pub use ledger::*;
pub use library::*;
pub use model::*;
pub use operations::*;
pub use ratelimit::*;
pub use reports::*;
pub use safety::*;

/// Failure of a store. Services translate it into their own errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique key is taken (e-mail already registered, duplicate id…).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached or failed; the caller may retry later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything a full persistence adapter provides (SQLite, MySQL, the in-memory fake). Binaries
/// are generic over this one bound instead of listing every store port.
pub trait Persistence:
    Readiness
    + UserStore
    + CompanyStore
    + InvitationStore
    + SessionStore
    + AuditLog
    + ConversationStore
    + LibraryStore
    + UsageLedger
    + JobLeases
    + SafetyCounter
    + KeyValue
    + BillingStore
    + SafetyPlanStore
{
}

impl<T> Persistence for T where
    T: Readiness
        + UserStore
        + CompanyStore
        + InvitationStore
        + SessionStore
        + AuditLog
        + ConversationStore
        + LibraryStore
        + UsageLedger
        + JobLeases
        + SafetyCounter
        + KeyValue
        + BillingStore
        + SafetyPlanStore
{
}
