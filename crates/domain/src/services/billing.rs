//! Buying plans and token packs, and applying what the payment provider reports.
//!
//! A checkout changes nothing by itself; only a verified provider event (through
//! [`BillingService::handle_event`]) or an audited admin action changes a plan or adds tokens.

use super::{Env, audit};
use crate::billing::*;
use crate::budget::{LedgerError, Subject, TopUp};
use crate::plan::{PlanAudience, PlanCatalog};
use crate::ports::{
    AuditLog, BillingStore, CompanyStore, PaymentGateway, StoreError, UsageLedger, UserStore,
};
use crate::{Actor, Role};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillingError {
    #[error("billing is not configured")]
    NotConfigured,
    #[error("not allowed")]
    Forbidden,
    #[error("no such plan or token pack")]
    UnknownItem,
    #[error("this item cannot be bought online")]
    NotForSale,
    #[error("there is no subscription to manage")]
    NoCustomer,
    #[error("{0}")]
    InvalidInput(&'static str),
    #[error("the payment provider failed: {0}")]
    Provider(String),
    #[error(transparent)]
    Storage(#[from] StoreError),
}

impl From<PaymentError> for BillingError {
    fn from(e: PaymentError) -> Self {
        match e {
            PaymentError::NotConfigured => BillingError::NotConfigured,
            PaymentError::Provider(detail) => BillingError::Provider(detail),
        }
    }
}

impl From<LedgerError> for BillingError {
    fn from(e: LedgerError) -> Self {
        BillingError::Storage(StoreError::Unavailable(e.to_string()))
    }
}

/// Where the provider sends the buyer back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingUrls {
    pub success: String,
    pub cancel: String,
    /// Back from the customer portal.
    pub portal_return: String,
}

pub struct BillingService<S, P, E> {
    pub store: Arc<S>,
    /// `None` when no payment provider is configured: admins assign plans by hand.
    pub gateway: Option<Arc<P>>,
    pub env: Arc<E>,
    pub catalog: Arc<PlanCatalog>,
    pub urls: BillingUrls,
}

impl<S, P, E> Clone for BillingService<S, P, E> {
    fn clone(&self) -> Self {
        BillingService {
            store: self.store.clone(),
            gateway: self.gateway.clone(),
            env: self.env.clone(),
            catalog: self.catalog.clone(),
            urls: self.urls.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandledEvent {
    pub outcome: ApplyOutcome,
    /// Unknown event type, unknown price or payer, unpaid checkout: recorded only.
    pub without_effect: bool,
}

/// Who pays when `actor` buys: individuals for themselves, managers for their company.
pub fn payer_of(actor: &Actor) -> Result<Subject, BillingError> {
    match (actor.role, actor.company_id) {
        (Role::Individual, _) => Ok(Subject::User(actor.user_id)),
        (Role::CompanyManager, Some(company)) => Ok(Subject::Company(company)),
        _ => Err(BillingError::Forbidden),
    }
}

fn audience_of(payer: Subject) -> PlanAudience {
    match payer {
        Subject::User(_) => PlanAudience::Individual,
        Subject::Company(_) => PlanAudience::Company,
    }
}

impl<S, P, E> BillingService<S, P, E>
where
    S: BillingStore + UserStore + CompanyStore + AuditLog + UsageLedger,
    P: PaymentGateway,
    E: Env,
{
    pub fn configured(&self) -> bool {
        self.gateway.is_some()
    }

    fn gateway(&self) -> Result<&P, BillingError> {
        self.gateway.as_deref().ok_or(BillingError::NotConfigured)
    }

    /// Opens a checkout for a plan or a pack; returns the provider's URL.
    pub async fn checkout(
        &self,
        actor: &Actor,
        kind: CheckoutKind,
        item_id: &str,
    ) -> Result<String, BillingError> {
        let payer = payer_of(actor)?;
        let gateway = self.gateway()?;
        let (price_id, quantity) = match kind {
            CheckoutKind::Plan => {
                let plan = self
                    .catalog
                    .get(item_id)
                    .filter(|p| p.audience == audience_of(payer))
                    .filter(|p| match (p.company_only, payer) {
                        (None, _) => true,
                        (Some(only), Subject::Company(c)) => only == c.0,
                        (Some(_), Subject::User(_)) => false,
                    })
                    .ok_or(BillingError::UnknownItem)?;
                let seats = match payer {
                    Subject::Company(id) => {
                        self.store
                            .company_by_id(id)
                            .await?
                            .ok_or(BillingError::Forbidden)?
                            .seat_limit
                    }
                    Subject::User(_) => 1,
                };
                (plan.price_id.clone(), u64::from(seats.max(1)))
            }
            CheckoutKind::Pack => {
                let pack = self
                    .catalog
                    .pack(item_id)
                    .ok_or(BillingError::UnknownItem)?;
                (pack.price_id.clone(), 1)
            }
        };
        let price_id = price_id.ok_or(BillingError::NotForSale)?;
        let customer_id = self.customer(actor, payer, gateway).await?;
        let request = CheckoutRequest {
            kind,
            price_id,
            quantity,
            payer,
            item_id: item_id.to_string(),
            customer_id,
            success_url: self.urls.success.clone(),
            cancel_url: self.urls.cancel.clone(),
        };
        Ok(gateway.checkout(&request).await?)
    }

    /// The payer's customer at the provider, created on first purchase.
    async fn customer(
        &self,
        actor: &Actor,
        payer: Subject,
        gateway: &P,
    ) -> Result<String, BillingError> {
        if let Some(id) = self.store.customer_of(payer).await? {
            return Ok(id);
        }
        let user = self
            .store
            .user_by_id(actor.user_id)
            .await?
            .ok_or(BillingError::Forbidden)?;
        let id = gateway.create_customer(user.email.as_str(), payer).await?;
        self.store.save_customer(payer, &id).await?;
        Ok(id)
    }

    /// The provider's portal, where the payer changes or cancels their subscription.
    pub async fn portal(&self, actor: &Actor) -> Result<String, BillingError> {
        let payer = payer_of(actor)?;
        let gateway = self.gateway()?;
        let customer = self
            .store
            .customer_of(payer)
            .await?
            .ok_or(BillingError::NoCustomer)?;
        Ok(gateway.portal(&customer, &self.urls.portal_return).await?)
    }

    /// Records a verified event and applies it once. The answer says whether the event could
    /// change anything at all (unknown events and prices cannot), for the caller to log.
    pub async fn handle_event(&self, event: &BillingEvent) -> Result<HandledEvent, BillingError> {
        let effect = self.effect_of(event);
        let outcome = self.store.apply_billing_event(event, &effect).await?;
        Ok(HandledEvent {
            outcome,
            without_effect: effect == BillingEffect::Nothing,
        })
    }

    /// What an event changes, decided from the catalog. Unknown events and prices change nothing.
    pub fn effect_of(&self, event: &BillingEvent) -> BillingEffect {
        match &event.kind {
            EventKind::CheckoutCompleted {
                payer: Some(payer),
                kind,
                item,
                customer_id,
                payment_id,
                paid,
                amount_total,
            } => match (kind, item, payment_id) {
                (Some(CheckoutKind::Pack), Some(item), Some(payment_id)) if *paid => {
                    match self.catalog.pack(item) {
                        Some(pack) => BillingEffect::PackPurchased(PackPurchase {
                            payment_id: payment_id.clone(),
                            payer: *payer,
                            pack_id: pack.id.clone(),
                            tokens: pack.tokens,
                            amount: *amount_total,
                            customer_id: customer_id.clone(),
                        }),
                        None => BillingEffect::Nothing,
                    }
                }
                (Some(CheckoutKind::Plan), _, _) => match customer_id {
                    Some(customer_id) => BillingEffect::Customer {
                        payer: *payer,
                        customer_id: customer_id.clone(),
                    },
                    None => BillingEffect::Nothing,
                },
                _ => BillingEffect::Nothing,
            },
            EventKind::Subscription(sub) => self.subscription_effect(event, sub),
            EventKind::Refund {
                payment_id: Some(payment_id),
                amount_refunded,
            } => BillingEffect::Refund {
                payment_id: payment_id.clone(),
                amount_refunded: *amount_refunded,
            },
            _ => BillingEffect::Nothing,
        }
    }

    fn subscription_effect(&self, event: &BillingEvent, sub: &SubscriptionEvent) -> BillingEffect {
        let Some(payer) = sub.payer else {
            return BillingEffect::Nothing;
        };
        let status = if sub.ended {
            SubscriptionStatus::Ended
        } else {
            sub.status
        };
        let priced = sub
            .price_id
            .as_deref()
            .and_then(|price| self.catalog.plan_by_price(price))
            .filter(|plan| plan.audience == audience_of(payer));
        let set_plan = match status {
            SubscriptionStatus::Ended => Some((
                self.catalog.default_for(audience_of(payer)).id.clone(),
                None,
            )),
            SubscriptionStatus::Active => {
                let Some(plan) = priced else {
                    // A price that is not in the catalog: acknowledged, nothing changes.
                    return BillingEffect::Nothing;
                };
                let seats = match payer {
                    Subject::Company(_) => sub.quantity.map(|q| u32::try_from(q).unwrap_or(1)),
                    Subject::User(_) => None,
                };
                Some((plan.id.clone(), seats))
            }
            SubscriptionStatus::PastDue => None,
        };
        BillingEffect::Subscription(SubscriptionChange {
            state: SubscriptionState {
                subscription_id: sub.subscription_id.clone(),
                payer,
                status,
                plan_id: priced.map(|p| p.id.clone()),
                period: sub.period,
                last_event_at: event.created,
            },
            set_plan,
            // The allowance renews on the invoice date from now on; an ended subscription
            // leaves the calendar month (see `Period::current`).
            set_billing_period: match status {
                SubscriptionStatus::Ended => Some(None),
                _ => sub.period.map(Some),
            },
            customer_id: sub.customer_id.clone(),
        })
    }

    /// The platform admin adds (or, negative, removes) purchased tokens by hand; audited.
    pub async fn grant_tokens(
        &self,
        actor: &Actor,
        subject: Subject,
        tokens: i64,
    ) -> Result<TopUp, BillingError> {
        if !actor.is_admin() {
            return Err(BillingError::Forbidden);
        }
        if tokens == 0 {
            return Err(BillingError::InvalidInput(
                "the number of tokens cannot be 0",
            ));
        }
        let exists = match subject {
            Subject::User(id) => self.store.user_by_id(id).await?.is_some(),
            Subject::Company(id) => self.store.company_by_id(id).await?.is_some(),
        };
        if !exists {
            return Err(BillingError::Storage(StoreError::NotFound));
        }
        let topup = self.store.add_topup(subject, tokens).await?;
        audit(
            self.store.as_ref(),
            self.env.as_ref(),
            actor,
            "billing.grant_tokens",
            subject.key(),
            tokens.to_string(),
        )
        .await?;
        Ok(topup)
    }
}
