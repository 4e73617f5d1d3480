//! The in-memory fake of the billing store: a child of `memory` so one mutex covers the event
//! record and the plans and top-ups it changes, as one transaction does in SQL.

use super::MemoryStore;
use domain::billing::*;
use domain::budget::Subject;
use domain::ports::{BillingStore, StoreResult};
use std::collections::{HashMap, HashSet};

#[derive(Default)]
pub(super) struct BillingState {
    events: HashSet<String>,
    customers: HashMap<Subject, String>,
    subscriptions: HashMap<String, SubscriptionState>,
    purchases: HashMap<String, Purchase>,
}

struct Purchase {
    payer: Subject,
    tokens: u64,
    amount: i64,
    refunded_tokens: u64,
}

impl super::State {
    /// Adds or removes purchased tokens, with the same floor as `add_topup`.
    fn adjust_topup(&mut self, payer: Subject, tokens: i64) {
        let topup = self.topups.entry(payer).or_default();
        let balance = (topup.balance as i64 + tokens)
            .max(topup.reserved as i64)
            .max(0);
        topup.balance = balance as u64;
    }

    fn save_customer(&mut self, payer: Subject, customer_id: &str) {
        self.billing.customers.retain(|_, c| c != customer_id);
        self.billing
            .customers
            .insert(payer, customer_id.to_string());
    }

    fn apply_subscription(&mut self, change: &SubscriptionChange) -> ApplyOutcome {
        let current = self
            .billing
            .subscriptions
            .get(&change.state.subscription_id)
            .cloned();
        if is_stale(current.as_ref(), change) {
            return ApplyOutcome::Stale;
        }
        let mut state = change.state.clone();
        state.plan_id = state.plan_id.or_else(|| current.and_then(|c| c.plan_id));
        self.billing
            .subscriptions
            .insert(state.subscription_id.clone(), state);
        if let Some((plan, seats)) = &change.set_plan {
            match change.state.payer {
                Subject::User(id) => {
                    if let Some(user) = self.users.get_mut(&id) {
                        user.plan_id = plan.clone();
                    }
                }
                Subject::Company(id) => {
                    if let Some(company) = self.companies.get_mut(&id) {
                        company.plan_id = plan.clone();
                        if let Some(seats) = seats {
                            company.seat_limit = *seats;
                        }
                    }
                }
            }
        }
        if let Some(period) = change.set_billing_period {
            match change.state.payer {
                Subject::User(id) => {
                    if let Some(user) = self.users.get_mut(&id) {
                        user.billing_period = period;
                    }
                }
                Subject::Company(id) => {
                    if let Some(company) = self.companies.get_mut(&id) {
                        company.billing_period = period;
                    }
                }
            }
        }
        if let Some(customer_id) = &change.customer_id {
            self.save_customer(change.state.payer, customer_id);
        }
        ApplyOutcome::Applied
    }
}

impl BillingStore for MemoryStore {
    async fn apply_billing_event(
        &self,
        event: &BillingEvent,
        effect: &BillingEffect,
    ) -> StoreResult<ApplyOutcome> {
        let mut s = self.state();
        if !s.billing.events.insert(event.id.clone()) {
            return Ok(ApplyOutcome::Duplicate);
        }
        Ok(match effect {
            BillingEffect::Nothing => ApplyOutcome::Applied,
            BillingEffect::Customer { payer, customer_id } => {
                s.save_customer(*payer, customer_id);
                ApplyOutcome::Applied
            }
            BillingEffect::PackPurchased(p) => {
                if !s.billing.purchases.contains_key(&p.payment_id) {
                    s.billing.purchases.insert(
                        p.payment_id.clone(),
                        Purchase {
                            payer: p.payer,
                            tokens: p.tokens,
                            amount: p.amount,
                            refunded_tokens: 0,
                        },
                    );
                    s.adjust_topup(p.payer, p.tokens as i64);
                }
                if let Some(customer_id) = &p.customer_id {
                    s.save_customer(p.payer, customer_id);
                }
                ApplyOutcome::Applied
            }
            BillingEffect::Subscription(change) => s.apply_subscription(change),
            BillingEffect::Refund {
                payment_id,
                amount_refunded,
            } => {
                let taken = s.billing.purchases.get_mut(payment_id).and_then(|p| {
                    let total = refunded_tokens(p.tokens, p.amount, *amount_refunded);
                    let delta = total.checked_sub(p.refunded_tokens).filter(|d| *d > 0)?;
                    p.refunded_tokens = total;
                    Some((p.payer, delta))
                });
                if let Some((payer, delta)) = taken {
                    s.adjust_topup(payer, -(delta as i64));
                }
                ApplyOutcome::Applied
            }
        })
    }

    async fn customer_of(&self, payer: Subject) -> StoreResult<Option<String>> {
        Ok(self.state().billing.customers.get(&payer).cloned())
    }

    async fn save_customer(&self, payer: Subject, customer_id: &str) -> StoreResult<()> {
        self.state().save_customer(payer, customer_id);
        Ok(())
    }

    async fn subscription(&self, subscription_id: &str) -> StoreResult<Option<SubscriptionState>> {
        Ok(self
            .state()
            .billing
            .subscriptions
            .get(subscription_id)
            .cloned())
    }
}
