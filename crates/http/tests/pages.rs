//! The web application as a browser uses it: cookie sessions, CSRF on every form, the sign-in
//! rate limit, escaping of stored text, and every page of the admin, manager, employee and
//! individual areas tried by every role and by a manager of another company.

mod support;

use persistence_sqlite::SqliteStore;
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use std::collections::BTreeMap;
use support::{ADMIN_EMAIL, ADMIN_PASSWORD, Browser, TestServer, csrf_in, settings};

const PASSWORD: &str = "person-password-123";

async fn server() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path(), "sample_library_dir = \"\"");
    let store = SqliteStore::open(&dir.path().join("test.db").display().to_string())
        .await
        .unwrap();
    (TestServer::start(store, settings).await, dir)
}

#[tokio::test]
async fn sign_up_chat_page_profile_and_sign_out() {
    let (server, _dir) = server().await;
    let mut browser = Browser::new(&server);
    let (status, html) = browser.get("/signup").await;
    assert_eq!(status, 200);
    assert!(html.contains("lang=\"pt-BR\""));
    let token = csrf_in(&html);
    let (status, location) = browser
        .post(
            "/signup",
            &[
                ("csrf", &token),
                ("name", "Ana"),
                ("email", "ana@test.local"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/chat")
    );
    let (status, html) = browser.get("/chat").await;
    assert_eq!(status, 200);
    assert!(html.contains("/static/chat.js") && html.contains("Tokens restantes"));
    let (_, html) = browser.get("/profile").await;
    assert!(html.contains("ana@test.local") && html.contains("20000"));

    let token = browser.csrf("/profile").await;
    let (_, location) = browser.post("/signout", &[("csrf", &token)]).await;
    assert_eq!(location, "/signin");
    let (status, location) = browser.get("/chat").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    server.stop().await;
}

#[tokio::test]
async fn english_is_chosen_from_accept_language() {
    let (server, _dir) = server().await;
    let html = server
        .client
        .get(server.url("/signin"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("lang=\"en\"") && html.contains("Sign in"));
    server.stop().await;
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused_and_change_nothing() {
    let (server, _dir) = server().await;
    let mut admin = Browser::new(&server);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for csrf in ["", "forged-token"] {
        let (status, _) = admin
            .post(
                "/admin/companies",
                &[
                    ("csrf", csrf),
                    ("name", "Forjada"),
                    ("seats", "3"),
                    ("plan", "company-basic"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // The same through the API with the session cookie and no header.
    let response = server
        .client
        .post(server.url("/api/v1/chat"))
        .header(COOKIE, admin.cookie_header())
        .json(&serde_json::json!({ "message": "oi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let (_, html) = admin.get("/admin").await;
    assert!(!html.contains("Forjada"));
    // A visitor form with a token that does not match its cookie.
    let mut visitor = Browser::new(&server);
    visitor.get("/signin").await;
    let (status, _) = visitor
        .post(
            "/signin",
            &[
                ("csrf", "wrong"),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server.stop().await;
}

#[tokio::test]
async fn the_sixth_sign_in_attempt_in_a_minute_is_rate_limited() {
    let (server, _dir) = server().await;
    let mut browser = Browser::new(&server);
    for _ in 0..5 {
        let (status, _) = browser.sign_in(ADMIN_EMAIL, "wrong-password-1").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let token = browser.csrf("/signin").await;
    let response = browser
        .client
        .post(server.url("/signin"))
        .header(COOKIE, browser.cookie_header())
        .form(&[
            ("csrf", token.as_str()),
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    // The API counts against the same quotas.
    let response = server.token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 429);
    assert!(
        response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    server.stop().await;
}

/// Everything a script could be smuggled in is shown as text.
#[tokio::test]
async fn stored_markup_is_escaped_on_every_page() {
    let (server, _dir) = server().await;
    let mut admin = Browser::new(&server);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let xss = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let token = admin.csrf("/admin").await;
    let (status, location) = admin
        .post(
            "/admin/companies",
            &[
                ("csrf", &token),
                ("name", xss),
                ("seats", "3"),
                ("plan", "company-basic"),
                ("system_prompt", xss),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let company_page = location.split('?').next().unwrap().to_string();
    let id = company_page.rsplit('/').next().unwrap().to_string();
    let token = admin.csrf("/admin").await;
    admin
        .post(
            "/manager/invite",
            &[
                ("csrf", &token),
                ("company", &id),
                ("email", "m@test.local"),
                ("role", "manager"),
            ],
        )
        .await;
    for path in [
        "/admin",
        company_page.as_str(),
        &format!("/manager?company={id}"),
        "/admin/audit",
    ] {
        let (status, html) = admin.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            !html.contains("<script>alert") && !html.contains("<img src=x"),
            "{path}"
        );
        assert!(
            html.contains("&lt;script&gt;")
                || html.contains("&#60;script&#62;")
                || path == "/admin/audit",
            "{path}"
        );
    }
    server.stop().await;
}

/// Every page and action of every area, tried by every role and by another company's manager:
/// only the allowed ones succeed; the others get 403/404 (or the sign-in page) and change nothing.
#[tokio::test]
async fn every_area_is_reachable_only_by_its_roles() {
    let (server, _dir) = server().await;
    let mut admin = Browser::new(&server);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Two companies, each with a manager and an employee, invited and accepted through the pages.
    let mut companies = Vec::new();
    for name in ["Alfa Ltda", "Beta SA"] {
        let token = admin.csrf("/admin").await;
        let (_, location) = admin
            .post(
                "/admin/companies",
                &[
                    ("csrf", &token),
                    ("name", name),
                    ("seats", "5"),
                    ("plan", "company-basic"),
                ],
            )
            .await;
        let id = location
            .split('?')
            .next()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let slug = name.split(' ').next().unwrap().to_lowercase();
        for (role, email) in [
            ("manager", format!("gestor@{slug}.test")),
            ("employee", format!("pessoa@{slug}.test")),
        ] {
            let token = admin.csrf("/admin").await;
            let (_, location) = admin
                .post(
                    "/manager/invite",
                    &[
                        ("csrf", &token),
                        ("company", &id),
                        ("email", &email),
                        ("role", role),
                    ],
                )
                .await;
            let secret = location.split("invited%3A").nth(1).unwrap().to_string();
            let mut invitee = Browser::new(&server);
            let token = invitee.csrf(&format!("/invite/{secret}")).await;
            let (status, _) = invitee
                .post(
                    &format!("/invite/{secret}"),
                    &[("csrf", &token), ("name", role), ("password", PASSWORD)],
                )
                .await;
            assert_eq!(status, StatusCode::SEE_OTHER);
            // The link works once.
            let (status, _) = invitee.get(&format!("/invite/{secret}")).await;
            assert_eq!(status, StatusCode::GONE);
        }
        companies.push(id);
    }
    let (alfa, beta) = (companies[0].clone(), companies[1].clone());
    let mut individual = Browser::new(&server);
    let token = individual.csrf("/signup").await;
    individual
        .post(
            "/signup",
            &[
                ("csrf", &token),
                ("name", "Solo"),
                ("email", "solo@test.local"),
                ("password", PASSWORD),
            ],
        )
        .await;

    let mut people = BTreeMap::new();
    for (who, email) in [
        ("manager", "gestor@alfa.test"),
        ("employee", "pessoa@alfa.test"),
        ("other-manager", "gestor@beta.test"),
    ] {
        let mut browser = Browser::new(&server);
        let (status, _) = browser.sign_in(email, PASSWORD).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{who}");
        people.insert(who, browser);
    }
    people.insert("individual", individual);
    people.insert("admin", admin);
    let mut anonymous = Browser::new(&server);

    // Pages: who may open them.
    let everyone: &[&str] = &[
        "admin",
        "manager",
        "employee",
        "other-manager",
        "individual",
    ];
    let pages: [(String, &[&str]); 7] = [
        ("/chat".into(), everyone),
        ("/profile".into(), everyone),
        ("/plans".into(), everyone),
        ("/admin".into(), &["admin"]),
        ("/admin/audit".into(), &["admin"]),
        (format!("/admin/companies/{alfa}"), &["admin"]),
        ("/manager".into(), &["manager", "other-manager"]),
    ];
    for (path, allowed) in &pages {
        let path = path.as_str();
        for (who, browser) in people.iter_mut() {
            let (status, _) = browser.get(path).await;
            if allowed.contains(who) {
                assert_eq!(status, 200, "{who} {path}");
            } else {
                assert!(
                    matches!(status.as_u16(), 403 | 404),
                    "{who} {path}: {status}"
                );
            }
        }
        let (status, _) = anonymous.get(path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "anonymous {path}");
    }
    // The admin may open any company's manager page; a manager only their own.
    let (status, _) = people
        .get_mut("admin")
        .unwrap()
        .get(&format!("/manager?company={beta}"))
        .await;
    assert_eq!(status, 200);
    let (_, html) = people
        .get_mut("other-manager")
        .unwrap()
        .get(&format!("/manager?company={alfa}"))
        .await;
    assert!(html.contains("Beta SA") && !html.contains("Alfa Ltda"));

    // Actions on Alfa: only its manager and the admin succeed.
    let employee_id = {
        let (_, html) = people
            .get_mut("admin")
            .unwrap()
            .get("/admin?q=pessoa%40alfa")
            .await;
        let marker = "/admin/users/";
        let start = html.find(marker).unwrap() + marker.len();
        html[start..start + html[start..].find('/').unwrap()].to_string()
    };
    for who in ["employee", "individual", "other-manager"] {
        let browser = people.get_mut(who).unwrap();
        let token = browser.csrf("/profile").await;
        let attempts: [(String, Vec<(&str, &str)>); 5] = [
            (
                "/manager/invite".into(),
                vec![
                    ("company", &alfa),
                    ("email", "intruso@test.local"),
                    ("role", "employee"),
                ],
            ),
            (
                format!("/manager/members/{employee_id}/cap"),
                vec![("company", &alfa), ("cap", "1")],
            ),
            (
                format!("/manager/members/{employee_id}/remove"),
                vec![("company", &alfa)],
            ),
            (
                "/admin/companies".into(),
                vec![
                    ("name", "Intrusa"),
                    ("seats", "1"),
                    ("plan", "company-basic"),
                ],
            ),
            (
                format!("/admin/companies/{alfa}/delete"),
                vec![("confirm", "Alfa Ltda")],
            ),
        ];
        for (path, mut form) in attempts {
            form.push(("csrf", &token));
            let (_, location) = browser.post(&path, &form).await;
            assert!(location.contains("error="), "{who} {path}: {location}");
        }
    }
    // Nothing changed: Alfa still has both people, no cap, no intruder, no new company.
    let (_, html) = people.get_mut("manager").unwrap().get("/manager").await;
    assert!(html.contains("pessoa@alfa.test") && !html.contains("intruso@test.local"));
    let (_, html) = people.get_mut("admin").unwrap().get("/admin").await;
    assert!(html.contains("Alfa Ltda") && !html.contains("Intrusa"));

    // The manager acts on their own company.
    let manager = people.get_mut("manager").unwrap();
    let token = manager.csrf("/manager").await;
    let (_, location) = manager
        .post(
            &format!("/manager/members/{employee_id}/cap"),
            &[("csrf", &token), ("company", &alfa), ("cap", "5000")],
        )
        .await;
    assert!(location.contains("notice=cap-saved"), "{location}");
    let (_, html) = manager.get("/manager").await;
    assert!(html.contains("value=\"5000\""));
    server.stop().await;
}
