//! The monthly usage reports: the scheduler's rollover writes them (the real job, on the server's
//! database and data directory), then they are listed on the manager page and downloaded, by
//! page and by API, only by the company's manager and the admin.

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, Browser, TestServer, settings};
use app::crypto::Argon2Hasher;
use app::reports::FileReports;
use chrono::{DateTime, TimeZone, Utc};
use domain::budget::{BudgetLine, ReservationRequest, Subject};
use domain::company::Company;
use domain::ports::{Clock, CompanyStore, PasswordHasher, UsageLedger, UserStore};
use domain::{CompanyId, Email, Locale, Period, ReservationId, Role, User, UserId};
use persistence_sqlite::SqliteStore;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, COOKIE, LOCATION};
use scheduler::{Context, Job, Outcome, run_job};

const PASSWORD: &str = "person-password-123";
const ALFA: CompanyId = CompanyId(501);
const BETA: CompanyId = CompanyId(502);

struct AprilFirst;

impl Clock for AprilFirst {
    fn now(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 4, 1, 0, 5, 0).unwrap()
    }
}

fn march() -> Period {
    Period::calendar_month(Utc.with_ymd_and_hms(2026, 3, 20, 0, 0, 0).unwrap())
}

/// Alfa's report for March: its manager used 70 tokens and its employee 1,234.
const ALFA_MARCH: &str = "user_id,email,name,role,used_tokens\n\
    11,gestor@alfa.test,Gestora Alfa,company_manager,70\n\
    12,pessoa@alfa.test,Pessoa Alfa,employee,1234\n\
    total,,,,1304\n";

/// Two companies (Alfa: manager and employee; Beta: manager), an individual, March usage, and
/// the rollover run at April 1st; then the server on the same database and data directory.
async fn server() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("test.db").display().to_string())
        .await
        .unwrap();
    let hash = Argon2Hasher.hash(PASSWORD.into()).await.unwrap();
    for (id, name) in [(ALFA, "Alfa"), (BETA, "Beta")] {
        store
            .insert_company(&Company {
                id,
                name: name.into(),
                seat_limit: 5,
                plan_id: "company-basic".into(),
                system_prompt: None,
                created_at: Utc::now(),
                billing_period: None,
            })
            .await
            .unwrap();
    }
    let people = [
        (
            11,
            "gestor@alfa.test",
            "Gestora Alfa",
            Role::CompanyManager,
            Some(ALFA),
        ),
        (
            12,
            "pessoa@alfa.test",
            "Pessoa Alfa",
            Role::Employee,
            Some(ALFA),
        ),
        (
            21,
            "gestor@beta.test",
            "Gestor Beta",
            Role::CompanyManager,
            Some(BETA),
        ),
        (31, "solo@test.local", "Solo", Role::Individual, None),
    ];
    for (id, email, name, role, company_id) in people {
        store
            .insert_user(&User {
                id: UserId(id),
                email: Email::parse(email).unwrap(),
                display_name: name.into(),
                password_hash: hash.clone(),
                role,
                company_id,
                personal_cap: None,
                plan_id: if company_id.is_some() {
                    "company-basic"
                } else {
                    "free"
                }
                .into(),
                locale: Locale::PtBr,
                disabled: false,
                created_at: Utc::now(),
                billing_period: None,
            })
            .await
            .unwrap();
    }
    for (reservation, user, tokens) in [(1, 11, 70), (2, 12, 1_000), (3, 12, 234), (4, 31, 5)] {
        let line = BudgetLine {
            subject: Subject::User(UserId(user)),
            period: march(),
            allowance: None,
            may_use_topup: false,
        };
        let r = store
            .reserve(ReservationRequest {
                id: ReservationId(reservation),
                amount: tokens,
                lines: vec![line],
                expires_at: march().end,
            })
            .await
            .unwrap();
        assert!(store.settle(r.id, tokens).await.unwrap());
    }
    let closed = run_job(
        &store,
        &FileReports::new(dir.path()),
        &AprilFirst,
        &Context::new("test", 60),
        Job::CloseMonth,
    )
    .await
    .unwrap();
    assert_eq!(
        closed,
        Outcome::Ran { changed: 2 },
        "one report per company"
    );
    let settings = settings(dir.path(), "sample_library_dir = \"\"");
    (TestServer::start(store, settings).await, dir)
}

struct Answer {
    status: StatusCode,
    content_type: String,
    disposition: String,
    body: String,
}

/// A GET with the browser's cookies, keeping the answer's headers (`Browser::get` drops them).
async fn fetch(browser: &Browser<'_>, path: &str) -> Answer {
    let response = browser
        .client
        .get(browser.server.url(path))
        .header(COOKIE, browser.cookie_header())
        .send()
        .await
        .unwrap();
    answer(response).await
}

async fn answer(response: reqwest::Response) -> Answer {
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (content_type, disposition) = (header(CONTENT_TYPE), header(CONTENT_DISPOSITION));
    let location = header(LOCATION);
    let status = response.status();
    let body = response.text().await.unwrap();
    Answer {
        status,
        content_type,
        disposition,
        body: if location.is_empty() { body } else { location },
    }
}

async fn signed_in<'a>(server: &'a TestServer, email: &str, password: &str) -> Browser<'a> {
    let mut browser = Browser::new(server);
    let (status, _) = browser.sign_in(email, password).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "sign in {email}");
    browser
}

fn assert_is_report(answer: &Answer, company: CompanyId, csv: &str) {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.content_type, "text/csv; charset=utf-8");
    assert_eq!(
        answer.disposition,
        format!("attachment; filename=\"usage-{company}-2026-03.csv\"")
    );
    assert_eq!(answer.body, csv);
}

#[tokio::test]
async fn the_manager_and_the_admin_download_the_report_the_rollover_wrote() {
    let (server, _dir) = server().await;
    let manager = signed_in(&server, "gestor@alfa.test", PASSWORD).await;
    let page = fetch(&manager, "/manager").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("href=\"/manager/reports/2026-03.csv?company=501\"")
            && page.body.contains("Relatórios mensais de uso"),
        "the page lists March's report"
    );
    let own = "/manager/reports/2026-03.csv";
    assert_is_report(&fetch(&manager, own).await, ALFA, ALFA_MARCH);
    let alfa = "/manager/reports/2026-03.csv?company=501";
    assert_is_report(&fetch(&manager, alfa).await, ALFA, ALFA_MARCH);

    let admin = signed_in(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_is_report(&fetch(&admin, alfa).await, ALFA, ALFA_MARCH);
    let beta = fetch(&admin, "/manager/reports/2026-03.csv?company=502").await;
    assert_is_report(
        &beta,
        BETA,
        "user_id,email,name,role,used_tokens\n\
         21,gestor@beta.test,Gestor Beta,company_manager,0\n\
         total,,,,0\n",
    );
    let page = fetch(&admin, "/manager?company=502").await;
    assert!(
        page.body
            .contains("/manager/reports/2026-03.csv?company=502")
    );
    assert_eq!(
        fetch(&admin, own).await.status,
        StatusCode::FORBIDDEN,
        "the admin has no company of their own: they must name one"
    );

    // Everyone else: another company's manager (as if it did not exist), an employee, an
    // individual, someone not signed in.
    let other = signed_in(&server, "gestor@beta.test", PASSWORD).await;
    assert_eq!(fetch(&other, alfa).await.status, StatusCode::NOT_FOUND);
    let theirs = fetch(&other, own).await;
    assert_eq!(theirs.status, StatusCode::OK, "their own is Beta's");
    assert!(!theirs.body.contains("alfa"));
    let employee = signed_in(&server, "pessoa@alfa.test", PASSWORD).await;
    for path in [own, alfa] {
        assert_eq!(fetch(&employee, path).await.status, StatusCode::FORBIDDEN);
    }
    let individual = signed_in(&server, "solo@test.local", PASSWORD).await;
    for path in [own, alfa] {
        assert_eq!(fetch(&individual, path).await.status, StatusCode::FORBIDDEN);
    }
    let anonymous = fetch(&Browser::new(&server), alfa).await;
    assert_eq!(
        (anonymous.status, anonymous.body.as_str()),
        (StatusCode::SEE_OTHER, "/signin")
    );
    server.stop().await;
}

#[tokio::test]
async fn months_that_are_not_months_or_have_no_report_are_refused() {
    let (server, dir) = server().await;
    let manager = signed_in(&server, "gestor@alfa.test", PASSWORD).await;
    // Something a traversal would reach if the month went into the path unchecked.
    std::fs::write(dir.path().join("reports/secret.csv"), "secret").unwrap();
    for (path, status) in [
        ("/manager/reports/2026-02.csv", StatusCode::NOT_FOUND),
        ("/manager/reports/2026-13.csv", StatusCode::BAD_REQUEST),
        ("/manager/reports/2026-3.csv", StatusCode::BAD_REQUEST),
        ("/manager/reports/..%2Fsecret.csv", StatusCode::BAD_REQUEST),
        (
            "/manager/reports/..%2F..%2Fsecret.csv",
            StatusCode::BAD_REQUEST,
        ),
        ("/manager/reports/2026-03.txt", StatusCode::NOT_FOUND),
        ("/manager/reports/2026-03", StatusCode::NOT_FOUND),
        (
            "/manager/reports/2026-03.csv?company=abc",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let answer = fetch(&manager, path).await;
        assert_eq!(answer.status, status, "{path}");
        assert!(!answer.body.contains("secret"), "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_api_lists_and_serves_reports_to_the_same_people() {
    let (server, _dir) = server().await;
    let get = |path: &str, token: Option<&str>| {
        let request = server.client.get(server.url(path));
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        async move { answer(request.send().await.unwrap()).await }
    };
    let list = "/api/v1/companies/501/reports";
    let march = "/api/v1/companies/501/reports/2026-03";
    let manager = server.bearer("gestor@alfa.test", PASSWORD).await;
    let months = get(list, Some(&manager)).await;
    assert_eq!(months.status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&months.body).unwrap(),
        serde_json::json!({ "months": ["2026-03"] })
    );
    assert_is_report(&get(march, Some(&manager)).await, ALFA, ALFA_MARCH);
    let admin = server.bearer(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_is_report(&get(march, Some(&admin)).await, ALFA, ALFA_MARCH);

    let other = server.bearer("gestor@beta.test", PASSWORD).await;
    let employee = server.bearer("pessoa@alfa.test", PASSWORD).await;
    for (path, token, status) in [
        (list, Some(&other), StatusCode::NOT_FOUND),
        (march, Some(&other), StatusCode::NOT_FOUND),
        (list, Some(&employee), StatusCode::FORBIDDEN),
        (march, Some(&employee), StatusCode::FORBIDDEN),
        (list, None, StatusCode::UNAUTHORIZED),
        (march, None, StatusCode::UNAUTHORIZED),
        (
            "/api/v1/companies/501/reports/2026-02",
            Some(&manager),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/companies/501/reports/2026-00",
            Some(&manager),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/companies/501/reports/..%2Fsecret",
            Some(&manager),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let answer = get(path, token.map(String::as_str)).await;
        assert_eq!(answer.status, status, "{path}");
        assert!(
            answer.body.starts_with("{\"error\""),
            "{path}: {}",
            answer.body
        );
    }
    server.stop().await;
}
