//! The in-memory fake of every store port and the usage ledger. One mutex guards all state, so
//! every operation is atomic; it passes the same contract suite as the SQL adapters. The ports
//! are implemented in one file per area (accounts, content, ledger, operations, billing, safety
//! plans).

use chrono::{DateTime, Utc};
use domain::account::Session;
use domain::audit::AuditEntry;
use domain::budget::*;
use domain::conversation::SealedMessage;
use domain::library::{Document, Passage};
use domain::ports::*;
use domain::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

// One file per port area; each is a child so it reaches `State` under the same mutex.
mod accounts;
mod billing;
mod content;
mod ledger;
mod operations;
mod safety_plan;

#[derive(Default)]
struct State {
    users: BTreeMap<UserId, User>,
    companies: BTreeMap<CompanyId, Company>,
    invitations: HashMap<String, Invitation>,
    sessions: HashMap<String, Session>,
    audit: Vec<AuditEntry>,
    messages: BTreeMap<MessageId, SealedMessage>,
    documents: BTreeMap<DocumentId, Document>,
    passages: BTreeMap<PassageId, Passage>,
    counters: HashMap<(Subject, i64), Counter>,
    topups: HashMap<Subject, TopUp>,
    reservations: HashMap<ReservationId, Reservation>,
    leases: HashMap<String, (String, DateTime<Utc>, String)>,
    crisis: BTreeMap<i64, u64>,
    values: HashMap<String, Vec<u8>>,
    billing: billing::BillingState,
    safety_plans: HashMap<UserId, domain::safety_plan::SealedSafetyPlan>,
}

#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock only happens in a failing test; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Readiness for MemoryStore {
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}
