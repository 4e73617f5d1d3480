//! The real Stripe client against local servers: localstripe for customers, and the recording
//! stub (fixtures in Stripe's documented shape) for Checkout Sessions and the portal. The tests
//! check the parameters the client actually sends.

use billing_stripe::StripeGateway;
use billing_stripe::stub::StripeStub;
use domain::billing::{CheckoutKind, CheckoutRequest, PaymentGateway};
use domain::budget::Subject;
use domain::{CompanyId, UserId};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

/// localstripe on 127.0.0.1 (its command listens on every interface, so it is started through
/// Python with an explicit host). `None` when it is not installed and the run may skip.
struct LocalStripe {
    child: Child,
    base_url: String,
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn localstripe() -> Option<LocalStripe> {
    let installed = Command::new("python3")
        .args(["-c", "import localstripe"])
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "localstripe is not installed (pip install localstripe; see TOOLS.md)"
        );
        eprintln!("SKIPPED: localstripe is not installed (pip install localstripe)");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let script = format!(
        "from aiohttp import web\nimport localstripe.server as s\n\
         web.run_app(s.app, host='127.0.0.1', port={port}, print=None)"
    );
    let child = Command::new("python3")
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start localstripe");
    let server = LocalStripe {
        child,
        base_url: format!("http://127.0.0.1:{port}/"),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("localstripe did not start");
}

#[tokio::test]
async fn customers_are_created_at_localstripe() {
    let Some(server) = localstripe().await else {
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
