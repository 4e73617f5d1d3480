//! The web application as a browser uses it: cookie sessions, CSRF on every form, the sign-in
//! rate limit, escaping of stored text, invitations, and (in `role_matrix`) every route tried by
//! every role and by a manager of another company.

mod role_matrix;

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, Browser, TestServer, csrf_in};
use reqwest::StatusCode;
use reqwest::header::COOKIE;

const PASSWORD: &str = "person-password-123";

async fn server() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::sqlite_with(dir.path(), "sample_library_dir = \"\"").await;
    (server, dir)
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

/// An invitation link, accepted through the pages, creates the account with the invitation's
/// role and company, signs the person in, and works once.
#[tokio::test]
async fn an_invitation_is_accepted_once() {
    let (server, _dir) = server().await;
    let mut admin = Browser::new(&server);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = admin.csrf("/admin").await;
    let (_, location) = admin
        .post(
            "/admin/companies",
            &[
                ("csrf", &token),
                ("name", "Alfa Ltda"),
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
    let token = admin.csrf("/admin").await;
    let (_, location) = admin
        .post(
            "/manager/invite",
            &[
                ("csrf", &token),
                ("company", &id),
                ("email", "gestor@alfa.test"),
                ("role", "manager"),
            ],
        )
        .await;
    let secret = location.split("invited%3A").nth(1).unwrap().to_string();
    let mut invitee = Browser::new(&server);
    let token = invitee.csrf(&format!("/invite/{secret}")).await;
    let (status, location) = invitee
        .post(
            &format!("/invite/{secret}"),
            &[
                ("csrf", &token),
                ("name", "Gestora"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/manager")
    );
    let (status, html) = invitee.get("/manager").await;
    assert_eq!(status, 200);
    assert!(html.contains("Alfa Ltda"));
    let (status, _) = invitee.get(&format!("/invite/{secret}")).await;
    assert_eq!(status, StatusCode::GONE);
    server.stop().await;
}
