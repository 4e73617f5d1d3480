//! Payments: the provider and the record of its events.

use super::StoreResult;
use crate::billing::{
    ApplyOutcome, BillingEffect, BillingEvent, CheckoutRequest, PaymentError, ProviderPrice,
    SubscriptionState,
};
use crate::budget::Subject;
use std::future::Future;

/// The payment provider (Stripe in production).
pub trait PaymentGateway: Send + Sync + 'static {
    /// Creates the provider's customer for a payer; returns its id.
    fn create_customer(
        &self,
        email: &str,
        payer: Subject,
    ) -> impl Future<Output = Result<String, PaymentError>> + Send;
    /// Opens a hosted checkout; returns the URL to send the buyer to.
    fn checkout(
        &self,
        request: &CheckoutRequest,
    ) -> impl Future<Output = Result<String, PaymentError>> + Send;
    /// The provider's price with this id; `None` when it does not exist.
    fn price(
        &self,
        price_id: &str,
    ) -> impl Future<Output = Result<Option<ProviderPrice>, PaymentError>> + Send;
    /// Opens the provider's portal where a customer manages or cancels a subscription.
    fn portal(
        &self,
        customer_id: &str,
        return_url: &str,
    ) -> impl Future<Output = Result<String, PaymentError>> + Send;
}

/// Records provider events and applies their effects, once each.
pub trait BillingStore: Send + Sync + 'static {
    /// In one transaction: records `event`'s id and applies `effect`. A second delivery of the
    /// same id (even concurrent) returns `Duplicate` and changes nothing.
    fn apply_billing_event(
        &self,
        event: &BillingEvent,
        effect: &BillingEffect,
    ) -> impl Future<Output = StoreResult<ApplyOutcome>> + Send;
    fn customer_of(
        &self,
        payer: Subject,
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;
    fn save_customer(
        &self,
        payer: Subject,
        customer_id: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn subscription(
        &self,
        subscription_id: &str,
    ) -> impl Future<Output = StoreResult<Option<SubscriptionState>>> + Send;
}
