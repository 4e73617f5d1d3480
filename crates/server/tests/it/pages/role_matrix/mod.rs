//! The role matrix, over HTTP against the real server: every route of the router (the
//! test fails if the router has one [`table::CASES`] does not list), tried by the admin, Alfa's
//! manager, Alfa's employee, an individual, the manager of another company (Beta) and a visitor.
//! Refused calls answer 403/404 (visitors: the sign-in page, or 401 from the API), say nothing
//! about what they were refused, and leave every row of the database as it was; so do calls
//! with unknown ids. Allowed calls succeed and change exactly the tables the table says.

mod table;

use crate::support::db::{Snapshot, TableChange};
use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, Browser, TestServer, settings};
use billing_stripe::stub::StripeStub;
use botpsicologo::auth::{CSRF_HEADER, SESSION_COOKIE};
use botpsicologo::state::AppState;
use domain::account::SessionKind;
use domain::budget::Subject;
use domain::ports::{BillingStore, UserStore};
use domain::services::accounts::NewAccount;
use domain::services::companies::CompanyDraft;
use domain::{Actor, CompanyId, Locale, Role, User};
use persistence_sqlite::SqliteStore;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use table::{Access, After, Body, CASES, Case};

const PASSWORD: &str = "person-password-123";
pub const NEW_PASSWORD: &str = "a-new-password-456";
/// An id no row has.
const UNKNOWN: &str = "987654321";
/// The placeholders that are ids: each is also tried unknown, by the roles the row allows.
const IDS: &[&str] = &[
    "alfa",
    "doomed",
    "member",
    "leaver",
    "invitation",
    "target",
    "doc",
];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Who {
    Admin,
    /// Alfa's manager.
    Manager,
    /// Alfa's employee.
    Employee,
    Individual,
    /// Beta's manager.
    OtherManager,
    Anonymous,
}

const EVERYONE: [Who; 6] = [
    Who::Admin,
    Who::Manager,
    Who::Employee,
    Who::Individual,
    Who::OtherManager,
    Who::Anonymous,
];

/// One role's browser: its session cookie and CSRF token (none for the visitor).
struct Person<'a> {
    browser: Browser<'a>,
    user: Option<User>,
    password: String,
    csrf: String,
    /// Signed out (or the session replaced): sign in again before the next call.
    stale: bool,
}

/// The people and things the table's placeholders name.
struct Fixture {
    alfa: CompanyId,
    doomed: CompanyId,
    member: User,
    /// Removed by the admin and by the manager, one each.
    leavers: [User; 2],
    /// Revoked by the admin and by the manager, one each.
    invitations: [String; 2],
    target: User,
    doc: i64,
}

impl Fixture {
    /// The placeholders' values for `who`.
    fn values(&self, who: Who, person: &Person) -> BTreeMap<&'static str, String> {
        let second = usize::from(who == Who::Manager);
        BTreeMap::from([
            ("alfa", self.alfa.to_string()),
            ("doomed", self.doomed.to_string()),
            ("member", self.member.id.to_string()),
            ("leaver", self.leavers[second].id.to_string()),
            ("invitation", self.invitations[second].clone()),
            ("target", self.target.id.to_string()),
            ("doc", self.doc.to_string()),
            ("password", person.password.clone()),
        ])
    }
}

fn fill(text: &str, values: &BTreeMap<&'static str, String>, seq: u32) -> String {
    values
        .iter()
        .fold(text.replace("{seq}", &seq.to_string()), |text, (k, v)| {
            text.replace(&format!("{{{k}}}"), v)
        })
}

struct Answer {
    status: u16,
    location: String,
    body: String,
}

struct Matrix<'a> {
    server: &'a TestServer,
    side: AppState<SqliteStore>,
    db: PathBuf,
    people: BTreeMap<Who, Person<'a>>,
    fixture: Fixture,
    seq: u32,
}

impl Matrix<'_> {
    /// Sends `case` as `who`, with the placeholders' `values`.
    async fn call(
        &mut self,
        who: Who,
        case: &Case,
        values: &BTreeMap<&'static str, String>,
    ) -> Answer {
        self.seq += 1;
        let seq = self.seq;
        let person = &self.people[&who];
        let url = self.server.url(&fill(case.url, values, seq));
        let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
        let mut request = person
            .browser
            .client
            .request(method, url)
            .header(COOKIE, person.browser.cookie_header());
        if case.url.starts_with("/api/") && case.method != "GET" {
            request = request.header(CSRF_HEADER, &person.csrf);
        }
        request = match &case.body {
            Body::None => request,
            Body::Form(fields) => {
                let mut form: Vec<(&str, String)> = fields
                    .iter()
                    .map(|(k, v)| (*k, fill(v, values, seq)))
                    .collect();
                form.push(("csrf", person.csrf.clone()));
                request.form(&form)
            }
            Body::Json(text) => request
                .header(CONTENT_TYPE, "application/json")
                .body(fill(text, values, seq)),
            Body::File(text) => request
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(fill(text, values, seq)),
        };
        let response = request.send().await.unwrap();
        let person = self.people.get_mut(&who).unwrap();
        person.browser.keep_cookies(&response);
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = response.text().await.unwrap();
        Answer {
            status,
            location,
            body,
        }
    }

    /// A fresh session for `who`, opened through the service (the sign-in form's rate limit
    /// is for people, and is tested in pages.rs).
    async fn sign_in(&mut self, who: Who) {
        let person = self.people.get_mut(&who).unwrap();
        let Some(user) = &person.user else { return };
        let (_, issued) = self
            .side
            .accounts
            .sign_in(user.email.as_str(), &person.password, SessionKind::Web)
            .await
            .unwrap_or_else(|e| panic!("{who:?} signs in: {e}"));
        person
            .browser
            .cookies
            .insert(SESSION_COOKIE.to_string(), issued.token);
        person.csrf = issued.session.csrf_token;
        person.stale = false;
    }

    fn values(&self, who: Who) -> BTreeMap<&'static str, String> {
        self.fixture.values(who, &self.people[&who])
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::take(&self.db)
    }
}

/// Refused: 403 or 404 with the error page (or the API's JSON error) for people, the sign-in
/// page (or 401) for visitors. Nothing about the company asked for is shown.
fn assert_refused(who: Who, case: &Case, answer: &Answer, context: &str) {
    let api = case.url.starts_with("/api/");
    match (who, api) {
        (Who::Anonymous, false) => {
            assert_eq!(
                (answer.status, answer.location.as_str()),
                (303, "/signin"),
                "{context}"
            );
        }
        (Who::Anonymous, true) => assert_eq!(answer.status, 401, "{context}"),
        (_, true) => {
            assert!(matches!(answer.status, 403 | 404), "{context}");
            let body: serde_json::Value = serde_json::from_str(&answer.body).expect(context);
            assert!(body["error"].is_string(), "{context}");
        }
        (_, false) => {
            assert!(matches!(answer.status, 403 | 404), "{context}");
            assert!(
                answer.body.contains("Você não tem acesso a esta página.")
                    || answer.body.contains("Página não encontrada."),
                "{context}: {}",
                answer.body
            );
        }
    }
    assert!(
        !answer.body.contains("Alfa Ltda") && !answer.body.contains("@alfa.test"),
        "{context} shows Alfa: {}",
        answer.body
    );
}

/// Allowed: the page, a redirect with a notice (or to the payment provider, or signed out), a
/// 2xx from the API.
fn assert_allowed(case: &Case, answer: &Answer, context: &str) {
    match (case.method, &case.body) {
        ("GET", _) => assert_eq!(answer.status, 200, "{context}: {}", answer.body),
        (_, Body::Form(_)) => {
            assert_eq!(answer.status, 303, "{context}: {}", answer.body);
            assert!(
                !answer.location.contains("error="),
                "{context}: {}",
                answer.location
            );
        }
        _ => assert!(
            (200..300).contains(&answer.status),
            "{context}: {} {}",
            answer.status,
            answer.body
        ),
    }
}

/// A call on one's own data changes only one's own rows (where a table says whose a row is).
fn assert_own_rows_only(
    changes: &BTreeMap<String, TableChange>,
    snapshot: &Snapshot,
    me: &User,
    context: &str,
) {
    for (table, owner) in [
        ("users", "id"),
        ("messages", "user_id"),
        ("sessions", "user_id"),
        ("safety_plans", "user_id"),
    ] {
        let Some(change) = changes.get(table) else {
            continue;
        };
        for row in change.removed.iter().chain(&change.added) {
            assert_eq!(
                snapshot.field(table, row, owner),
                me.id.to_string(),
                "{context}: {table} {row}"
            );
        }
    }
}

/// The `(method, pattern)` of every route the server has. axum does not list its routes, but
/// its `Debug` output names every pattern, and a 405 answer's `Allow` names the methods.
async fn served_routes(
    side: &AppState<SqliteStore>,
    server: &TestServer,
) -> BTreeSet<(String, String)> {
    let debug = format!("{:?}", botpsicologo::router(side.clone()));
    let patterns: BTreeSet<&str> = debug
        .split('"')
        .filter(|s| s.starts_with('/') && !s.contains("__private__axum"))
        .collect();
    assert!(patterns.contains("/admin/users/{id}/role"), "{debug}");
    let mut routes = BTreeSet::new();
    for pattern in patterns {
        let url = server.url(&pattern.replace('{', "x").replace('}', ""));
        // No route answers PATCH, so every one says which methods it does answer. The API's
        // fallback (which `nest` also registers at `/api/v1` and `/api/v1/`) answers 404.
        let response = server.client.patch(url).send().await.unwrap();
        if response.status() == 404 && pattern.starts_with("/api/v1") {
            continue;
        }
        assert_eq!(response.status(), 405, "{pattern}");
        let allow = response.headers()["allow"].to_str().unwrap().to_string();
        for method in allow.split(',').map(str::trim).filter(|m| *m != "HEAD") {
            routes.insert((method.to_string(), pattern.to_string()));
        }
    }
    routes
}

/// Two companies, each with a manager and an employee; a third to delete; an individual and
/// the admin's target; invitations; a document. Created through the services, before the server
/// starts, except the document (uploaded like the admin does).
async fn fixture(side: &AppState<SqliteStore>) -> (BTreeMap<Who, User>, Fixture) {
    let admin = side
        .accounts
        .ensure_admin(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .unwrap()
        .expect("a new admin");
    let actor = Actor::of(&admin, None);
    let company = |name: &str| {
        let draft = CompanyDraft {
            name: name.into(),
            seat_limit: 20,
            plan_id: "company-basic".into(),
            system_prompt: None,
        };
        async move { side.companies.create(&actor, &draft).await.unwrap().id }
    };
    let (alfa, beta, doomed) = (
        company("Alfa Ltda").await,
        company("Beta SA").await,
        company("Gama Ltda").await,
    );
    let person = |email: &'static str, role: Role, company: Option<CompanyId>| {
        let account = NewAccount {
            email,
            password: PASSWORD,
            display_name: "Pessoa",
            locale: Locale::PtBr,
        };
        // Built by the account service, stored as accepting an invitation would.
        async move {
            let user = side
                .accounts
                .new_user(account, role, company)
                .await
                .unwrap();
            side.store.insert_user(&user).await.unwrap();
            user
        }
    };
    let mut users = BTreeMap::from([(Who::Admin, admin)]);
    users.insert(
        Who::Manager,
        person("gestor@alfa.test", Role::CompanyManager, Some(alfa)).await,
    );
    users.insert(
        Who::Employee,
        person("pessoa@alfa.test", Role::Employee, Some(alfa)).await,
    );
    users.insert(
        Who::OtherManager,
        person("gestor@beta.test", Role::CompanyManager, Some(beta)).await,
    );
    users.insert(
        Who::Individual,
        person("solo@test.local", Role::Individual, None).await,
    );
    let leavers = [
        person("sai-1@alfa.test", Role::Employee, Some(alfa)).await,
        person("sai-2@alfa.test", Role::Employee, Some(alfa)).await,
    ];
    let mut invitations = Vec::new();
    for email in ["convite-1@alfa.test", "convite-2@alfa.test"] {
        let (invitation, _) = side
            .companies
            .invite(&actor, alfa, email, Role::Employee)
            .await
            .unwrap();
        invitations.push(invitation.token_hash);
    }
    // Each payer has its customer at the provider already: the stub would give every new one
    // the same id.
    let payers = [
        Subject::Company(alfa),
        Subject::Company(beta),
        Subject::User(users[&Who::Individual].id),
    ];
    for (n, payer) in payers.into_iter().enumerate() {
        side.store
            .save_customer(payer, &format!("cus_{n}"))
            .await
            .unwrap();
    }
    let fixture = Fixture {
        alfa,
        doomed,
        member: users[&Who::Employee].clone(),
        leavers,
        invitations: invitations.try_into().unwrap(),
        target: person("alvo@test.local", Role::Individual, None).await,
        doc: 0,
    };
    (users, fixture)
}

#[tokio::test]
async fn every_route_is_reachable_only_by_its_roles_and_refusals_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let stripe = StripeStub::start().await;
    let mut settings = settings(
        dir.path(),
        &format!(
            "sample_library_dir = \"\"\n[billing]\nstripe_secret_key = \"sk_test_x\"\n\
             stripe_webhook_secret = \"whsec_x\"\nstripe_api_base = \"{}\"\n\
             stripe_prices = \"pack-100k=price_pack\"\n",
            stripe.base_url
        ),
    );
    let db = dir.path().join("test.db");
    let side = AppState::new(
        SqliteStore::open(&db.display().to_string()).await.unwrap(),
        settings.clone(),
    )
    .unwrap();
    let (users, fixture) = fixture(&side).await;
    // Alfa's custom plan, which the admin moves it to.
    let mut custom = settings.plans.get("company-basic").unwrap().clone();
    custom.id = "alfa-sob-medida".into();
    custom.company_only = Some(fixture.alfa.0);
    settings.plans.plans.push(custom);
    let server = TestServer::start(
        SqliteStore::open(&db.display().to_string()).await.unwrap(),
        settings,
    )
    .await;

    // Every route the router has is in the table, and nothing else is.
    let listed: BTreeSet<(String, String)> = CASES
        .iter()
        .map(|c| (c.method.to_string(), c.route.to_string()))
        .collect();
    assert_eq!(
        served_routes(&side, &server).await,
        listed,
        "add the new route to tests/it/pages/role_matrix/table.rs"
    );

    let mut people = BTreeMap::new();
    for who in EVERYONE {
        let user = users.get(&who).cloned();
        let password = if who == Who::Admin {
            ADMIN_PASSWORD
        } else {
            PASSWORD
        };
        people.insert(
            who,
            Person {
                browser: Browser::new(&server),
                user,
                password: password.into(),
                csrf: String::new(),
                stale: true,
            },
        );
    }
    let mut matrix = Matrix {
        server: &server,
        side,
        db,
        people,
        fixture,
        seq: 0,
    };
    for who in EVERYONE {
        matrix.sign_in(who).await;
    }
    let upload = CASES
        .iter()
        .find(|c| c.route == "/api/v1/library/uploads")
        .unwrap();
    let values = matrix.values(Who::Admin);
    let answer = matrix.call(Who::Admin, upload, &values).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let uploaded: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    matrix.fixture.doc = uploaded["document"]["id"].as_i64().unwrap();

    // Refused: everyone the table does not name, and the named ones with unknown ids.
    let before = matrix.snapshot();
    let mut refused = 0;
    for case in CASES {
        let allowed = match case.access {
            Access::Roles(allowed) => allowed,
            Access::Outside(covered_by) => {
                assert!(!covered_by.is_empty(), "{}: who may?", case.route);
                continue;
            }
        };
        for who in EVERYONE.into_iter().filter(|w| !allowed.contains(w)) {
            let values = matrix.values(who);
            let answer = matrix.call(who, case, &values).await;
            let context = format!("{who:?} {} {}", case.method, case.url);
            assert_refused(who, case, &answer, &context);
            refused += 1;
        }
        for who in allowed.iter().copied() {
            for id in IDS.iter().filter(|id| {
                let placeholder = format!("{{{id}}}");
                case.url.contains(&placeholder)
                    || matches!(case.body, Body::Form(f) if f.iter().any(|(_, v)| v.contains(&placeholder)))
            }) {
                let mut values = matrix.values(who);
                values.insert(*id, UNKNOWN.into());
                let answer = matrix.call(who, case, &values).await;
                let context = format!("{who:?} {} {} with an unknown {id}", case.method, case.url);
                assert_eq!(
                    answer.status, 404,
                    "{context}: {} {}",
                    answer.location, answer.body
                );
                refused += 1;
            }
        }
    }
    // Every row of every table as it was: nothing here changes on a read (sessions have no
    // last-seen time, and refusals are not audited: the audit log is for what was done).
    let after = matrix.snapshot();
    assert!(
        before.changes(&after).is_empty(),
        "refused calls changed {:?}",
        before.changes(&after)
    );

    // Allowed: each role the table names, in the table's order; each call changes exactly the
    // tables listed, and calls on one's own data only one's own rows.
    let mut allowed_calls = 0;
    for case in CASES {
        let Access::Roles(allowed) = case.access else {
            continue;
        };
        for who in allowed.iter().copied() {
            if matrix.people[&who].stale {
                matrix.sign_in(who).await;
            }
            let values = matrix.values(who);
            let before = matrix.snapshot();
            let answer = matrix.call(who, case, &values).await;
            let after = matrix.snapshot();
            let context = format!("{who:?} {} {}", case.method, case.url);
            assert_allowed(case, &answer, &context);
            if who == Who::OtherManager {
                assert!(!answer.body.contains("Alfa Ltda"), "{context} shows Alfa");
            }
            let changes = before.changes(&after);
            let changed: BTreeSet<&str> = changes.keys().map(String::as_str).collect();
            let required: BTreeSet<&str> = case
                .changes
                .iter()
                .filter(|t| !t.ends_with('?'))
                .copied()
                .collect();
            let possible: BTreeSet<&str> = case
                .changes
                .iter()
                .map(|t| t.trim_end_matches('?'))
                .collect();
            assert!(
                required.is_subset(&changed) && changed.is_subset(&possible),
                "{context}: {changes:?}"
            );
            // What everyone may do can only be done to one's own data.
            if allowed == table::SIGNED && case.method != "GET" {
                let me = matrix.people[&who].user.clone().unwrap();
                assert_own_rows_only(&changes, &after, &me, &context);
            }
            let person = matrix.people.get_mut(&who).unwrap();
            match case.after {
                After::Nothing => {}
                After::EndsSession => person.stale = true,
                After::NewPassword => {
                    person.password = NEW_PASSWORD.into();
                    person.stale = true;
                }
            }
            allowed_calls += 1;
        }
    }
    assert!(
        refused > 100 && allowed_calls > 50,
        "{refused} {allowed_calls}"
    );
    server.stop().await;
}
