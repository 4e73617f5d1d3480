//! Billing over HTTP against the real server: Stripe webhooks signed in the test (bad signature,
//! stale timestamp, replays one after another and at once, out-of-order subscription events),
//! what `/api/v1/me` shows after payment and cancellation, checkout and portal through the real
//! Stripe client against the recording stub, billing switched off, and people trying to set
//! their own plan.

use crate::support::stripe::{deliver_signed, event, pack_paid};
use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, FetchJson, TestServer, settings, sign_up};
use billing_stripe::stub::StripeStub;
use botpsicologo::state::AppState;
use domain::account::SessionKind;
use domain::budget::Subject;
use domain::ports::{AuditLog, UsageLedger, UserStore};
use domain::{Email, Locale, UserId};
use persistence_sqlite::SqliteStore;
use reqwest::StatusCode;
use serde_json::{Value, json};

const SECRET: &str = "whsec_test_secret";
const PERSON: &str = "pessoa@test.local";
const PASSWORD: &str = "person-password-123";
const FREE: u64 = 20_000;
const PLUS: u64 = 300_000;
const PACK: u64 = 100_000;

struct Setup {
    server: TestServer,
    /// A second handle on the same database, to mint browser sessions.
    state: AppState<SqliteStore>,
    person: UserId,
    _dir: tempfile::TempDir,
}

/// A server with billing on (`api_base` is where the Stripe client goes) or off (`None`).
async fn setup(api_base: Option<&str>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let billing = match api_base {
        Some(base) => format!(
            "[billing]\nstripe_secret_key = \"sk_test_x\"\nstripe_webhook_secret = \"{SECRET}\"\n\
             stripe_api_base = \"{base}\"\n\
             stripe_prices = \"plus=price_plus,plus-annual=price_annual,pack-100k=price_pack\"\n"
        ),
        None => String::new(),
    };
    let settings = settings(dir.path(), &format!("sample_library_dir = \"\"\n{billing}"));
    let db = dir.path().join("test.db").display().to_string();
    let state = AppState::new(SqliteStore::open(&db).await.unwrap(), settings.clone()).unwrap();
    sign_up(&state, PERSON, PASSWORD, Locale::PtBr).await;
    let person = state
        .store
        .user_by_email(&Email::parse(PERSON).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    let server = TestServer::start(SqliteStore::open(&db).await.unwrap(), settings).await;
    Setup {
        server,
        state,
        person,
        _dir: dir,
    }
}

impl Setup {
    async fn deliver_at(&self, payload: &Value, secret: &str, timestamp: i64) -> StatusCode {
        deliver_signed(&self.server, payload, secret, timestamp).await
    }

    async fn deliver(&self, payload: &Value) -> StatusCode {
        self.deliver_at(payload, SECRET, chrono::Utc::now().timestamp())
            .await
    }

    /// `(plan, limit)` of the person as `/api/v1/me` shows them.
    async fn plan_and_limit(&self) -> (String, u64) {
        let token = self.server.bearer(PERSON, PASSWORD).await;
        let me: Value = self.server.me(&token).await.json().await.unwrap();
        (
            me["plan"].as_str().unwrap().to_string(),
            me["usage"]["limit"].as_u64().unwrap(),
        )
    }

    /// A browser session: the cookie value and the CSRF token of its forms.
    async fn browser(&self, email: &str, password: &str) -> (String, String) {
        let (_, issued) = self
            .state
            .accounts
            .sign_in(email, password, SessionKind::Web)
            .await
            .unwrap();
        (
            format!("bp_session={}", issued.token),
            issued.session.csrf_token,
        )
    }

    async fn post_form(
        &self,
        (cookie, csrf): &(String, String),
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        client
            .post(self.server.url(path))
            .header("cookie", cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    }
}

fn metadata(person: UserId, item: &str) -> Value {
    json!({"payer": format!("u:{person}"), "kind": "plan", "item": item})
}

fn invoice_paid(id: &str, created: i64, person: UserId, price: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    invoice_paid_for(id, created, person, price, (now - 60, now + 30 * 86_400))
}

/// `invoice.paid` for the invoice period `[start, end)` (Unix seconds).
fn invoice_paid_for(
    id: &str,
    created: i64,
    person: UserId,
    price: &str,
    (start, end): (i64, i64),
) -> Value {
    event(
        id,
        "invoice.paid",
        created,
        json!({
            "id": format!("in_{id}"), "object": "invoice", "customer": "cus_person",
            "subscription": "sub_person", "status": "paid", "paid": true,
            "amount_paid": 2990, "currency": "brl",
            "subscription_details": {"metadata": metadata(person, "plus")},
            "lines": {"object": "list", "has_more": false, "data": [{
                "id": "il_1", "object": "line_item", "amount": 2990, "quantity": 1,
                "price": {"id": price, "object": "price", "recurring": {"interval": "month"}},
                "period": {"start": start, "end": end}
            }]}
        }),
    )
}

fn subscription(
    id: &str,
    kind: &str,
    created: i64,
    person: UserId,
    price: &str,
    status: &str,
) -> Value {
    let now = chrono::Utc::now().timestamp();
    event(
        id,
        kind,
        created,
        json!({
            "id": "sub_person", "object": "subscription", "customer": "cus_person",
            "status": status, "cancel_at_period_end": false,
            "current_period_start": now - 60, "current_period_end": now + 30 * 86_400,
            "metadata": metadata(person, "plus"),
            "items": {"object": "list", "data": [{
                "id": "si_1", "object": "subscription_item", "quantity": 1,
                "price": {"id": price, "object": "price"}
            }]}
        }),
    )
}

#[tokio::test]
async fn bad_signature_or_stale_timestamp_gets_400_and_changes_nothing() {
    let s = setup(Some("http://127.0.0.1:1/")).await;
    let now = chrono::Utc::now().timestamp();
    let paid = invoice_paid("evt_sig", now, s.person, "price_plus");
    assert_eq!(
        s.deliver_at(&paid, "whsec_wrong", now).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s.deliver_at(&paid, SECRET, now - 600).await,
        StatusCode::BAD_REQUEST
    );
    let unsigned = s
        .server
        .client
        .post(s.server.url("/api/v1/billing/webhook"))
        .json(&paid)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::BAD_REQUEST);
    assert_eq!(s.plan_and_limit().await, ("free".into(), FREE));
    // The same event, properly signed, is then applied (it was not recorded as seen).
    assert_eq!(s.deliver(&paid).await, StatusCode::OK);
    assert_eq!(s.plan_and_limit().await, ("plus".into(), PLUS));
}

#[tokio::test]
async fn an_event_delivered_ten_times_in_a_row_or_at_once_is_applied_once() {
    let s = setup(Some("http://127.0.0.1:1/")).await;
    let payer = format!("u:{}", s.person);
    let first = pack_paid("evt_pack_1", &payer, "pi_1");
    for _ in 0..10 {
        assert_eq!(s.deliver(&first).await, StatusCode::OK);
    }
    assert_eq!(s.plan_and_limit().await.1, FREE + PACK);
    let second = pack_paid("evt_pack_2", &payer, "pi_2");
    let deliveries = (0..10).map(|_| s.deliver(&second));
    for status in futures::future::join_all(deliveries).await {
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(s.plan_and_limit().await.1, FREE + 2 * PACK);
    // In the database: each pack's tokens credited once, whatever /me computes from them.
    let topup = s.state.store.topup(Subject::User(s.person)).await.unwrap();
    assert_eq!((topup.balance, topup.reserved), (2 * PACK, 0));
    // A full refund of one pack takes its tokens back, once.
    let refund = event(
        "evt_refund",
        "charge.refunded",
        chrono::Utc::now().timestamp(),
        json!({"id": "ch_1", "object": "charge", "payment_intent": "pi_1",
               "amount": 1990, "amount_refunded": 1990, "refunded": true}),
    );
    for _ in 0..3 {
        assert_eq!(s.deliver(&refund).await, StatusCode::OK);
    }
    assert_eq!(s.plan_and_limit().await.1, FREE + PACK);
}

#[tokio::test]
async fn paid_plan_then_older_update_then_cancellation() {
    let s = setup(Some("http://127.0.0.1:1/")).await;
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        s.deliver(&invoice_paid("evt_paid", now, s.person, "price_plus"))
            .await,
        StatusCode::OK
    );
    assert_eq!(s.plan_and_limit().await, ("plus".into(), PLUS));
    // An update created before the payment, delivered late: nothing changes.
    let late = subscription(
        "evt_late",
        "customer.subscription.updated",
        now - 120,
        s.person,
        "price_annual",
        "active",
    );
    assert_eq!(s.deliver(&late).await, StatusCode::OK);
    assert_eq!(s.plan_and_limit().await, ("plus".into(), PLUS));
    // A newer update moves to the annual plan.
    let annual = subscription(
        "evt_annual",
        "customer.subscription.updated",
        now + 1,
        s.person,
        "price_annual",
        "active",
    );
    assert_eq!(s.deliver(&annual).await, StatusCode::OK);
    assert_eq!(s.plan_and_limit().await, ("plus-annual".into(), PLUS));
    // Stripe deletes the subscription at the end of the paid period: back to the free allowance.
    let ended = subscription(
        "evt_deleted",
        "customer.subscription.deleted",
        now + 2,
        s.person,
        "price_annual",
        "canceled",
    );
    assert_eq!(s.deliver(&ended).await, StatusCode::OK);
    assert_eq!(s.plan_and_limit().await, ("free".into(), FREE));
    // A late "active" about the ended subscription does not bring the plan back.
    let revive = subscription(
        "evt_revive",
        "customer.subscription.updated",
        now + 3,
        s.person,
        "price_plus",
        "active",
    );
    assert_eq!(s.deliver(&revive).await, StatusCode::OK);
    assert_eq!(s.plan_and_limit().await, ("free".into(), FREE));
}

#[tokio::test]
async fn the_allowance_period_is_the_invoice_period_until_the_subscription_ends() {
    let s = setup(Some("http://127.0.0.1:1/")).await;
    let token = s.server.bearer(PERSON, PASSWORD).await;
    let me = async || -> Value { s.server.me(&token).await.json().await.unwrap() };
    let period_of = |me: &Value| {
        let at = |key: &str| {
            chrono::DateTime::parse_from_rfc3339(me["period"][key].as_str().unwrap())
                .unwrap()
                .timestamp()
        };
        (at("start"), at("end"))
    };
    let now = chrono::Utc::now().timestamp();
    let first = (now - 10 * 86_400, now + 20 * 86_400);
    let paid = invoice_paid_for("evt_first", now - 5, s.person, "price_plus", first);
    assert_eq!(s.deliver(&paid).await, StatusCode::OK);
    let before = me().await;
    assert_eq!(period_of(&before), first, "{before}");
    assert_eq!(before["usage"]["limit"], PLUS);
    // A turn now is charged to the invoice period.
    let turn = s
        .server
        .client
        .post(s.server.url("/api/v1/chat"))
        .bearer_auth(&token)
        .json(&json!({"message": "Como posso dormir melhor?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(turn.status(), StatusCode::OK);
    let used = me().await["usage"]["used"].as_u64().unwrap();
    assert!(used > 0);
    // The next invoice (here an upgrade that moved the billing date) starts afresh.
    let second = (now - 60, now + 30 * 86_400);
    let renewed = invoice_paid_for("evt_second", now, s.person, "price_plus", second);
    assert_eq!(s.deliver(&renewed).await, StatusCode::OK);
    let fresh = me().await;
    assert_eq!(period_of(&fresh), second);
    assert_eq!(
        (&fresh["usage"]["used"], &fresh["usage"]["remaining"]),
        (&json!(0), &json!(PLUS))
    );
    // The first invoice delivered again late, as a new event: older, so it changes nothing.
    let late = invoice_paid_for("evt_first_again", now - 5, s.person, "price_plus", first);
    assert_eq!(s.deliver(&late).await, StatusCode::OK);
    assert_eq!(period_of(&me().await), second);
    // Deleted at the end of the period: the free allowance over the calendar month.
    let ended = subscription(
        "evt_ended",
        "customer.subscription.deleted",
        now + 1,
        s.person,
        "price_plus",
        "canceled",
    );
    assert_eq!(s.deliver(&ended).await, StatusCode::OK);
    let free = me().await;
    assert_eq!(
        (free["plan"].as_str(), &free["usage"]["limit"]),
        (Some("free"), &json!(FREE))
    );
    let month = domain::Period::calendar_month(chrono::Utc::now());
    assert_eq!(
        period_of(&free),
        (month.start.timestamp(), month.end.timestamp())
    );
}

#[tokio::test]
async fn unknown_events_and_prices_are_acknowledged_and_change_nothing() {
    let s = setup(Some("http://127.0.0.1:1/")).await;
    let now = chrono::Utc::now().timestamp();
    let other = event("evt_other", "customer.created", now, json!({"id": "cus_x"}));
    assert_eq!(s.deliver(&other).await, StatusCode::OK);
    let unknown_price = invoice_paid("evt_unknown_price", now, s.person, "price_nobody_sells");
    assert_eq!(s.deliver(&unknown_price).await, StatusCode::OK);
    assert_eq!(s.plan_and_limit().await, ("free".into(), FREE));
}

#[tokio::test]
async fn people_cannot_set_their_own_plan_or_limit() {
    let stub = StripeStub::start().await;
    let s = setup(Some(&stub.base_url)).await;
    let token = s.server.bearer(PERSON, PASSWORD).await;
    let api = |method: reqwest::Method, path: &str| {
        s.server
            .client
            .request(method, s.server.url(path))
            .bearer_auth(&token)
    };
    // The checkout body takes a kind and a catalog id, nothing else.
    let sneaky = api(reqwest::Method::POST, "/api/v1/billing/checkout")
        .json(&json!({"kind": "plan", "price": "plus", "plan_id": "plus", "limit": 10_000_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(sneaky.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::PATCH,
        reqwest::Method::POST,
    ] {
        let response = api(method.clone(), "/api/v1/me")
            .json(&json!({"plan": "plus", "usage": {"limit": 10_000_000}}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
    }
    // Forms of the admin and manager pages, with a valid session and CSRF token.
    let browser = s.browser(PERSON, PASSWORD).await;
    let id = s.person.to_string();
    for (path, fields) in [
        (format!("/admin/users/{id}/plan"), vec![("plan", "plus")]),
        (
            format!("/admin/users/{id}/tokens"),
            vec![("tokens", "1000000")],
        ),
        (format!("/admin/users/{id}/role"), vec![("role", "admin")]),
        (
            format!("/manager/members/{id}/cap"),
            vec![("company", "1"), ("cap", "")],
        ),
    ] {
        let response = s.post_form(&browser, &path, &fields).await;
        let refused = response.status() == StatusCode::FORBIDDEN
            || response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .is_some_and(|l| l.contains("error="));
        assert!(refused, "{path}: {}", response.status());
    }
    // The person's own forms ignore plan and limit fields: nothing changes.
    let sneaky_fields = [
        ("plan", "plus"),
        ("plan_id", "plus"),
        ("personal_cap", "10000000"),
        ("monthly_tokens", "10000000"),
    ];
    let mut fields = vec![("locale", "en")];
    fields.extend_from_slice(&sneaky_fields);
    s.post_form(&browser, "/profile/language", &fields).await;
    let mut fields = vec![("kind", "pack"), ("item", "pack-100k")];
    fields.extend_from_slice(&sneaky_fields);
    s.post_form(&browser, "/plans/checkout", &fields).await;
    assert_eq!(s.plan_and_limit().await, ("free".into(), FREE));
    let stored = s.state.store.user_by_id(s.person).await.unwrap().unwrap();
    assert_eq!(
        (stored.plan_id.as_str(), stored.personal_cap),
        ("free", None)
    );
    // A real checkout opens the provider's page but changes nothing by itself.
    let checkout: Value = api(reqwest::Method::POST, "/api/v1/billing/checkout")
        .json(&json!({"kind": "plan", "price": "plus"}))
        .fetch_json()
        .await;
    assert!(
        checkout["url"]
            .as_str()
            .unwrap()
            .starts_with("https://checkout.stripe.com/")
    );
    assert_eq!(s.plan_and_limit().await, ("free".into(), FREE));
    let audit = s.state.store.recent(0, 50).await.unwrap();
    assert!(audit.iter().all(|e| e.actor != Some(s.person)), "{audit:?}");
}

#[tokio::test]
async fn checkout_and_portal_go_through_stripe_with_the_configured_prices() {
    let stub = StripeStub::start().await;
    let s = setup(Some(&stub.base_url)).await;
    let token = s.server.bearer(PERSON, PASSWORD).await;
    let post = |path: &str, body: Value| {
        s.server
            .client
            .post(s.server.url(path))
            .bearer_auth(&token)
            .json(&body)
    };
    let answer: Value = post(
        "/api/v1/billing/checkout",
        json!({"kind": "pack", "price": "pack-100k"}),
    )
    .fetch_json()
    .await;
    assert_eq!(
        answer["url"],
        "https://checkout.stripe.com/c/pay/cs_test_a1b2c3"
    );
    let customer = stub.last("/v1/customers").expect("a customer was created");
    assert_eq!(customer.param("email"), Some(PERSON));
    let sent = stub.last("/v1/checkout/sessions").unwrap();
    let payer = format!("u:{}", s.person);
    assert_eq!(sent.param("mode"), Some("payment"));
    assert_eq!(sent.param("line_items[0][price]"), Some("price_pack"));
    assert_eq!(sent.param("customer"), Some("cus_stub123"));
    assert_eq!(sent.param("metadata[payer]"), Some(payer.as_str()));
    assert!(
        sent.param("success_url")
            .unwrap()
            .ends_with("/plans?notice=checkout-success")
    );
    assert!(
        sent.param("cancel_url")
            .unwrap()
            .ends_with("/plans?notice=checkout-cancelled")
    );
    // The customer is reused for the next checkout.
    post(
        "/api/v1/billing/checkout",
        json!({"kind": "plan", "price": "plus"}),
    )
    .fetch_json()
    .await;
    let customers = stub
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/customers")
        .count();
    assert_eq!(customers, 1);
    let sent = stub.last("/v1/checkout/sessions").unwrap();
    assert_eq!(sent.param("mode"), Some("subscription"));
    assert_eq!(sent.param("line_items[0][price]"), Some("price_plus"));
    // Unknown ids, plans of the other audience and plans without a price are refused.
    for (body, status) in [
        (json!({"kind": "plan", "price": "gold"}), 404),
        (json!({"kind": "plan", "price": "company-basic"}), 404),
        (json!({"kind": "plan", "price": "free"}), 422),
        (json!({"kind": "gift", "price": "plus"}), 422),
    ] {
        let response = post("/api/v1/billing/checkout", body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{body}");
    }
    let portal: Value = post("/api/v1/billing/portal", json!({})).fetch_json().await;
    assert_eq!(
        portal["url"],
        "https://billing.stripe.com/p/session/test_stub123"
    );
    // The admin has nothing to buy: refused.
    let admin = s.server.bearer(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let refused = s
        .server
        .client
        .post(s.server.url("/api/v1/billing/checkout"))
        .bearer_auth(&admin)
        .json(&json!({"kind": "pack", "price": "pack-100k"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn without_stripe_keys_billing_is_off_and_the_admin_assigns_by_hand() {
    let s = setup(None).await;
    let token = s.server.bearer(PERSON, PASSWORD).await;
    let checkout = s
        .server
        .client
        .post(s.server.url("/api/v1/billing/checkout"))
        .bearer_auth(&token)
        .json(&json!({"kind": "plan", "price": "plus"}))
        .send()
        .await
        .unwrap();
    assert_eq!(checkout.status(), StatusCode::SERVICE_UNAVAILABLE);
    let now = chrono::Utc::now().timestamp();
    let paid = invoice_paid("evt_off", now, s.person, "price_plus");
    assert_eq!(s.deliver(&paid).await, StatusCode::SERVICE_UNAVAILABLE);
    let (cookie, _) = s.browser(PERSON, PASSWORD).await;
    let page = s
        .server
        .client
        .get(s.server.url("/plans"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("não está configurado"), "{page}");
    assert!(!page.contains("/plans/checkout"));
    let admin = s.browser(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let id = s.person.to_string();
    let saved = s
        .post_form(
            &admin,
            &format!("/admin/users/{id}/plan"),
            &[("plan", "plus")],
        )
        .await;
    assert!(
        saved.headers()["location"]
            .to_str()
            .unwrap()
            .contains("notice=user-saved")
    );
    let granted = s
        .post_form(
            &admin,
            &format!("/admin/users/{id}/tokens"),
            &[("tokens", "5000")],
        )
        .await;
    assert!(
        granted.headers()["location"]
            .to_str()
            .unwrap()
            .contains("notice=tokens-granted")
    );
    assert_eq!(s.plan_and_limit().await, ("plus".into(), PLUS + 5_000));
    let audit = s.state.store.recent(0, 10).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"user.assign_plan"), "{actions:?}");
    assert!(actions.contains(&"billing.grant_tokens"), "{actions:?}");
}
