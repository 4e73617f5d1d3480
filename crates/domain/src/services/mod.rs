//! Use cases. Every rule and every authorisation check lives here, so a route that forgets one is
//! still refused.

pub mod accounts;
pub mod billing;
pub mod budgets;
pub mod chat;
pub mod companies;
mod crisis;
pub mod library;
pub mod prices;
pub mod reports;
pub mod safety_plan;
pub mod usage;

#[cfg(test)]
mod chat_tests;
#[cfg(test)]
mod crisis_tests;
#[cfg(test)]
mod library_tests;
#[cfg(test)]
mod safety_plan_tests;
#[cfg(test)]
mod tests;

use crate::audit::AuditEntry;
use crate::ports::{AuditLog, Clock, IdGenerator, Secrets};
use crate::{Actor, AuditId};

/// The runtime environment every service needs: time, ids and secrets.
pub trait Env: Clock + IdGenerator + Secrets {}
impl<T: Clock + IdGenerator + Secrets> Env for T {}

/// Builds the audit entry for an action of `actor`.
pub(crate) fn audit_entry(
    env: &impl Env,
    actor: &Actor,
    action: &str,
    target: String,
    detail: String,
) -> AuditEntry {
    AuditEntry {
        id: AuditId(env.next_id()),
        at: env.now(),
        actor: Some(actor.user_id),
        action: action.to_string(),
        target,
        ip: actor.ip.map(|ip| ip.to_string()),
        detail,
    }
}

/// Records an audited action. Kept as a free function so every service audits the same way.
pub(crate) async fn audit<A: AuditLog>(
    log: &A,
    env: &impl Env,
    actor: &Actor,
    action: &str,
    target: String,
    detail: String,
) -> Result<(), crate::ports::StoreError> {
    log.record(&audit_entry(env, actor, action, target, detail))
        .await
}
