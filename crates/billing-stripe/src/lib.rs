//! # billing-stripe
//!
//! The payment adapter: [`StripeGateway`] implements the domain's
//! [`PaymentGateway`](domain::ports::PaymentGateway) with async-stripe (customers, Checkout
//! Sessions for subscriptions and token packs, the customer portal, price look-ups for
//! `botpsicologo billing check`), and [`webhook`] verifies
//! Stripe's signed events and reduces them to [`BillingEvent`](domain::billing::BillingEvent)s.
//!
//! `api_base` points the client at another server (localstripe, or a stub in tests).

#[cfg(feature = "stub")]
pub mod localstripe;
#[cfg(feature = "stub")]
pub mod stub;
pub mod webhook;

use domain::billing::{
    CheckoutKind, CheckoutRequest, META_ITEM, META_KIND, META_PAYER, PaymentError, ProviderPrice,
};
use domain::budget::Subject;
use domain::ports::PaymentGateway;
use std::collections::HashMap;
use stripe::{
    BillingPortalSession, CheckoutSession, CheckoutSessionMode, Client, CreateBillingPortalSession,
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionPaymentIntentData,
    CreateCheckoutSessionSubscriptionData, CreateCustomer, Customer, CustomerId, Plan, Price,
    StripeError,
};

/// Stripe, reached with a secret key at `api_base` (`https://api.stripe.com/` in production).
#[derive(Clone)]
pub struct StripeGateway {
    client: Client,
}

impl StripeGateway {
    /// `api_base` must be an absolute http(s) URL; checked here so a typo fails at start-up.
    pub fn new(secret_key: &str, api_base: &str) -> Result<StripeGateway, PaymentError> {
        let base = if api_base.ends_with('/') {
            api_base.to_string()
        } else {
            format!("{api_base}/")
        };
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(PaymentError::Provider(format!(
                "STRIPE_API_BASE `{api_base}` is not an http(s) URL"
            )));
        }
        Ok(StripeGateway {
            client: Client::from_url(base.as_str(), secret_key),
        })
    }
}

fn provider(e: stripe::StripeError) -> PaymentError {
    PaymentError::Provider(e.to_string())
}

/// The metadata that ties provider objects back to the payer and what they bought.
fn metadata(request: &CheckoutRequest) -> HashMap<String, String> {
    HashMap::from([
        (META_PAYER.to_string(), request.payer.key()),
        (META_KIND.to_string(), request.kind.as_str().to_string()),
        (META_ITEM.to_string(), request.item_id.clone()),
    ])
}

impl PaymentGateway for StripeGateway {
    async fn create_customer(&self, email: &str, payer: Subject) -> Result<String, PaymentError> {
        let mut params = CreateCustomer::new();
        params.email = Some(email);
        params.metadata = Some(HashMap::from([(META_PAYER.to_string(), payer.key())]));
        let customer = Customer::create(&self.client, params)
            .await
            .map_err(provider)?;
        Ok(customer.id.to_string())
    }

    async fn checkout(&self, request: &CheckoutRequest) -> Result<String, PaymentError> {
        let customer: CustomerId = request
            .customer_id
            .parse()
            .map_err(|_| PaymentError::Provider("stored customer id is malformed".into()))?;
        let meta = metadata(request);
        let payer = request.payer.key();
        let mut params = CreateCheckoutSession::new();
        params.customer = Some(customer);
        params.client_reference_id = Some(&payer);
        params.success_url = Some(&request.success_url);
        params.cancel_url = Some(&request.cancel_url);
        params.line_items = Some(vec![CreateCheckoutSessionLineItems {
            price: Some(request.price_id.clone()),
            quantity: Some(request.quantity),
            ..Default::default()
        }]);
        params.metadata = Some(meta.clone());
        match request.kind {
            CheckoutKind::Plan => {
                params.mode = Some(CheckoutSessionMode::Subscription);
                // Copied onto the subscription, so its events and invoices name the payer.
                params.subscription_data = Some(CreateCheckoutSessionSubscriptionData {
                    metadata: Some(meta.clone()),
                    ..Default::default()
                });
            }
            CheckoutKind::Pack => {
                params.mode = Some(CheckoutSessionMode::Payment);
                params.payment_intent_data = Some(CreateCheckoutSessionPaymentIntentData {
                    metadata: Some(meta.clone()),
                    ..Default::default()
                });
            }
        }
        let session = CheckoutSession::create(&self.client, params)
            .await
            .map_err(provider)?;
        session
            .url
            .ok_or_else(|| PaymentError::Provider("checkout session without a URL".into()))
    }

    /// Asks the Prices API, then the older Plans API: a recurring price is also a plan, and
    /// servers that predate prices (localstripe) only have plans.
    async fn price(&self, price_id: &str) -> Result<Option<ProviderPrice>, PaymentError> {
        let unknown = || PaymentError::Provider(format!("`{price_id}` is not a price id"));
        match Price::retrieve(&self.client, &price_id.parse().map_err(|_| unknown())?, &[]).await {
            Ok(price) => {
                return Ok(Some(ProviderPrice {
                    active: price.active.unwrap_or(false),
                    currency: price.currency.map(|c| c.to_string()).unwrap_or_default(),
                    recurring: price
                        .recurring
                        .map(|r| (r.interval.as_str().to_string(), r.interval_count)),
                }));
            }
            // A real answer other than "no such price", or no answer at all.
            Err(StripeError::Stripe(e)) if e.http_status != 404 => {
                return Err(provider(StripeError::Stripe(e)));
            }
            Err(e @ (StripeError::ClientError(_) | StripeError::Timeout)) => {
                return Err(provider(e));
            }
            Err(_) => {}
        }
        match Plan::retrieve(&self.client, &price_id.parse().map_err(|_| unknown())?, &[]).await {
            Ok(plan) => Ok(Some(ProviderPrice {
                active: plan.active.unwrap_or(false),
                currency: plan.currency.map(|c| c.to_string()).unwrap_or_default(),
                recurring: plan
                    .interval
                    .map(|i| (i.as_str().to_string(), plan.interval_count.unwrap_or(1))),
            })),
            Err(StripeError::Stripe(e)) if e.http_status == 404 => Ok(None),
            Err(e) => Err(provider(e)),
        }
    }

    async fn portal(&self, customer_id: &str, return_url: &str) -> Result<String, PaymentError> {
        let customer: CustomerId = customer_id
            .parse()
            .map_err(|_| PaymentError::Provider("stored customer id is malformed".into()))?;
        let mut params = CreateBillingPortalSession::new(customer);
        params.return_url = Some(return_url);
        let session = BillingPortalSession::create(&self.client, params)
            .await
            .map_err(provider)?;
        Ok(session.url)
    }
}
