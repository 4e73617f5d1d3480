//! Contract cases for the store ports, one file per area. Each takes a fresh, empty store; all
//! are reachable from here, where `store_contract_tests!` looks for them.

use domain::ports::Persistence;

mod accounts;
mod content;
mod operations;

pub use crate::ledger::*;
pub use crate::safety_plans::*;
pub use accounts::*;
pub use content::*;
pub use operations::*;

/// A full persistence adapter that can be shared between tasks.
pub trait AllStores: Persistence + Clone {}

impl<T: Persistence + Clone> AllStores for T {}
