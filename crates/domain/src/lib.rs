//! # domain
//!
//! The pure core of BOTPSICOLOGO: companies, people and roles, plans, token budgets and the usage
//! ledger, conversations, the document library; the ports (traits) through which it reaches the
//! outside world; and the services (use cases) that enforce every rule, authorisation included.
//!
//! No I/O and no framework types: adapters implement the ports, binaries wire them together.

pub mod account;
pub mod audit;
pub mod billing;
pub mod budget;
pub mod chunking;
pub mod company;
pub mod conversation;
pub mod email;
pub mod ids;
pub mod library;
pub mod model;
pub mod period;
pub mod plan;
pub mod ports;
pub mod prompt;
pub mod ratelimit;
pub mod retrieval;
pub mod safety;
pub mod safety_plan;
pub mod services;
pub mod text;

pub use account::{Actor, Locale, Role, User};
pub use company::{Company, Invitation};
pub use email::Email;
pub use ids::*;
pub use period::Period;
