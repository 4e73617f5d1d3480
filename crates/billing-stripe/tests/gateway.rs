//! The real Stripe client against local servers: localstripe for customers and the prices of
//! plans (what `botpsicologo billing check` reads), and the recording
//! stub (fixtures in Stripe's documented shape) for Checkout Sessions and the portal. The tests
//! check the parameters the client actually sends.

use billing_stripe::StripeGateway;
use billing_stripe::localstripe::LocalStripe;
use billing_stripe::stub::StripeStub;
use domain::billing::{CheckoutKind, CheckoutRequest, ProviderPrice};
use domain::budget::Subject;
use domain::plan::{BillingInterval, Plan, PlanAudience, PlanCatalog};
use domain::ports::PaymentGateway;
use domain::services::prices::check_prices;
use domain::{CompanyId, UserId};

fn request(
    kind: CheckoutKind,
    payer: Subject,
    item: &str,
    price: &str,
    quantity: u64,
) -> CheckoutRequest {
    CheckoutRequest {
        kind,
        price_id: price.into(),
        quantity,
        payer,
        item_id: item.into(),
        customer_id: "cus_stub123".into(),
        success_url: "https://bp.example/plans?notice=checkout-success".into(),
        cancel_url: "https://bp.example/plans?notice=checkout-cancelled".into(),
    }
}

#[tokio::test]
async fn plan_checkout_sends_price_quantity_customer_metadata_and_urls() {
    let stub = StripeStub::start().await;
    let gateway = StripeGateway::new("sk_test_stub", &stub.base_url).unwrap();
    let payer = Subject::User(UserId(42));
    let url = gateway
        .checkout(&request(CheckoutKind::Plan, payer, "plus", "price_plus", 1))
        .await
        .unwrap();
    assert_eq!(url, "https://checkout.stripe.com/c/pay/cs_test_a1b2c3");
    let sent = stub
        .last("/v1/checkout/sessions")
        .expect("a checkout request");
    for (key, value) in [
        ("mode", "subscription"),
        ("line_items[0][price]", "price_plus"),
        ("line_items[0][quantity]", "1"),
        ("customer", "cus_stub123"),
        ("client_reference_id", "u:42"),
        ("metadata[payer]", "u:42"),
        ("metadata[kind]", "plan"),
        ("metadata[item]", "plus"),
        ("subscription_data[metadata][payer]", "u:42"),
        (
            "success_url",
            "https://bp.example/plans?notice=checkout-success",
        ),
        (
            "cancel_url",
            "https://bp.example/plans?notice=checkout-cancelled",
        ),
    ] {
        assert_eq!(sent.param(key), Some(value), "{key} in {:?}", sent.params);
    }
    assert_eq!(sent.param("payment_intent_data[metadata][payer]"), None);
}

#[tokio::test]
async fn company_pack_checkout_is_a_payment_for_the_company() {
    let stub = StripeStub::start().await;
    let gateway = StripeGateway::new("sk_test_stub", &stub.base_url).unwrap();
    let payer = Subject::Company(CompanyId(7));
    gateway
        .checkout(&request(
            CheckoutKind::Pack,
            payer,
            "pack-100k",
            "price_pack",
            1,
        ))
        .await
        .unwrap();
    let sent = stub.last("/v1/checkout/sessions").unwrap();
    assert_eq!(sent.param("mode"), Some("payment"));
    assert_eq!(sent.param("line_items[0][price]"), Some("price_pack"));
    assert_eq!(
        sent.param("payment_intent_data[metadata][payer]"),
        Some("c:7")
    );
    assert_eq!(sent.param("metadata[kind]"), Some("pack"));
    assert_eq!(sent.param("subscription_data[metadata][payer]"), None);
    // A company plan is bought per seat.
    gateway
        .checkout(&request(
            CheckoutKind::Plan,
            payer,
            "company-basic",
            "price_seat",
            12,
        ))
        .await
        .unwrap();
    let sent = stub.last("/v1/checkout/sessions").unwrap();
    assert_eq!(sent.param("line_items[0][quantity]"), Some("12"));
    assert_eq!(sent.param("metadata[payer]"), Some("c:7"));
}

#[tokio::test]
async fn portal_session_for_the_customer() {
    let stub = StripeStub::start().await;
    let gateway = StripeGateway::new("sk_test_stub", &stub.base_url).unwrap();
    let url = gateway
        .portal("cus_stub123", "https://bp.example/plans")
        .await
        .unwrap();
    assert_eq!(url, "https://billing.stripe.com/p/session/test_stub123");
    let sent = stub.last("/v1/billing_portal/sessions").unwrap();
    assert_eq!(sent.param("customer"), Some("cus_stub123"));
    assert_eq!(sent.param("return_url"), Some("https://bp.example/plans"));
}

#[tokio::test]
async fn provider_errors_and_bad_bases_are_errors_not_panics() {
    assert!(StripeGateway::new("sk", "ftp://nope").is_err());
    // Nothing listens on port 1.
    let gateway = StripeGateway::new("sk_test", "http://127.0.0.1:1/").unwrap();
    let err = gateway
        .create_customer("a@b.co", Subject::User(UserId(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, domain::billing::PaymentError::Provider(_)));
    let stub = StripeStub::start().await;
    let gateway = StripeGateway::new("sk_test_stub", &stub.base_url).unwrap();
    let mut bad = request(
        CheckoutKind::Plan,
        Subject::User(UserId(1)),
        "plus",
        "price",
        1,
    );
    bad.customer_id = "not a customer id".into();
    assert!(gateway.checkout(&bad).await.is_err());
    assert!(stub.last("/v1/checkout/sessions").is_none());
}

#[tokio::test]
async fn customers_are_created_at_localstripe() {
    let Some(server) = LocalStripe::start().await else {
        return;
    };
    let gateway = StripeGateway::new("sk_test_local", &server.base_url).unwrap();
    let id = gateway
        .create_customer("pessoa@test.local", Subject::User(UserId(42)))
        .await
        .unwrap();
    assert!(id.starts_with("cus_"), "{id}");
    let client = stripe::Client::from_url(server.base_url.as_str(), "sk_test_local");
    let customer = stripe::Customer::retrieve(&client, &id.parse().unwrap(), &[])
        .await
        .unwrap();
    assert_eq!(customer.email.as_deref(), Some("pessoa@test.local"));
    assert_eq!(
        customer
            .metadata
            .and_then(|m| m.get("payer").cloned())
            .as_deref(),
        Some("u:42")
    );
}

/// A monthly and an annual plan sold at these prices, and a free plan with none.
fn catalog(monthly: &str, annual: &str) -> PlanCatalog {
    let plan = |id: &str, price: Option<&str>, interval| Plan {
        id: id.into(),
        name: id.into(),
        audience: PlanAudience::Individual,
        monthly_tokens: 1_000,
        tokens_per_seat: 0,
        price_id: price.map(String::from),
        company_only: None,
        interval,
    };
    PlanCatalog {
        plans: vec![
            plan("free", None, BillingInterval::Month),
            plan("plus", Some(monthly), BillingInterval::Month),
            plan("plus-annual", Some(annual), BillingInterval::Year),
        ],
        default_individual: "free".into(),
        default_company: "free".into(),
        packs: Vec::new(),
    }
}

#[tokio::test]
async fn configured_prices_are_checked_against_localstripe() {
    let Some(server) = LocalStripe::start().await else {
        return;
    };
    server.create_plan("price_plus", "month", "brl").await;
    server.create_plan("price_plus_annual", "year", "brl").await;
    let gateway = StripeGateway::new("sk_test_local", &server.base_url).unwrap();
    let found = gateway.price("price_plus").await.unwrap().unwrap();
    assert_eq!(
        found,
        ProviderPrice {
            active: true,
            currency: "brl".into(),
            recurring: Some(("month".into(), 1)),
        }
    );
    assert_eq!(gateway.price("price_nobody_made").await.unwrap(), None);
    // A catalog selling both: every price passes.
    let checks = check_prices(&catalog("price_plus", "price_plus_annual"), &gateway)
        .await
        .unwrap();
    assert_eq!(checks.len(), 2, "{checks:?}");
    assert!(checks.iter().all(|c| c.problem.is_none()), "{checks:?}");
    // A typo, and a monthly price sold as the annual plan, are named.
    let problems: Vec<String> = check_prices(&catalog("price_plsu", "price_plus"), &gateway)
        .await
        .unwrap()
        .iter()
        .filter(|c| c.problem.is_some())
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        problems,
        [
            "plan plus: price `price_plsu` does not exist at the payment provider",
            "plan plus-annual: price `price_plus` is recurring every month at the payment \
             provider, but the catalog sells it as recurring every year",
        ]
    );
}
