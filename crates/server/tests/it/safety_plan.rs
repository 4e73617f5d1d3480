//! The safety plan over HTTP: saved through the API and the page, read back, exported and
//! deleted by its owner only; refused input changes nothing; its text never reaches the database
//! file in plaintext. And the grounding page, with the crisis lines of the person's language.

use crate::support::{Browser, FetchJson, TestServer, csrf_in};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, COOKIE};
use serde_json::{Value, json};

const PASSWORD: &str = "person-password-123";
/// Words no page or fixture contains, so finding them means finding the plan.
const PHRASE: &str = "girassol amarelo no parapeito 7731";

async fn server() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::sqlite_with(dir.path(), "sample_library_dir = \"\"").await;
    (server, dir)
}

/// A person signed up through the page (pt-BR), with their browser and an API token.
async fn person<'a>(server: &'a TestServer, email: &str) -> (Browser<'a>, String) {
    let mut browser = Browser::new(server);
    let csrf = browser.csrf("/signup").await;
    let (status, _) = browser
        .post(
            "/signup",
            &[
                ("csrf", &csrf),
                ("name", "Pessoa"),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    (browser, server.bearer(email, PASSWORD).await)
}

fn plan(warning_signs: &str) -> Value {
    json!({
        "warning_signs": warning_signs,
        "coping_strategies": "Respirar devagar\nTomar um banho morno",
        "distractions": "",
        "people_to_ask": "Minha irmã Clara",
        "professionals": "CVV 188",
        "safe_environment": "",
        "reasons_for_living": "Meu cachorro",
    })
}

fn api(server: &TestServer, method: reqwest::Method, token: &str) -> reqwest::RequestBuilder {
    server
        .client
        .request(method, server.url("/api/v1/safety-plan"))
        .bearer_auth(token)
}

/// The page form with every step, as a browser sends it.
fn form<'a>(csrf: &'a str, warning_signs: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("warning_signs", warning_signs),
        ("coping_strategies", "Ouvir música"),
        ("distractions", ""),
        ("people_to_ask", ""),
        ("professionals", "CVV 188"),
        ("safe_environment", ""),
        ("reasons_for_living", ""),
    ]
}

#[tokio::test]
async fn a_plan_is_saved_read_exported_and_deleted_by_its_owner_only() {
    let (server, _dir) = server().await;
    let (mut ana, ana_token) = person(&server, "ana@test.local").await;
    let (mut bia, bia_token) = person(&server, "bia@test.local").await;

    // Through the API: saved trimmed, read back, private.
    let response = api(&server, reqwest::Method::PUT, &ana_token)
        .json(&plan(&format!("  {PHRASE}  ")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[CACHE_CONTROL], "private, no-store");
    let saved: Value = response.json().await.unwrap();
    assert_eq!(saved["plan"]["warning_signs"], PHRASE);
    let read = api(&server, reqwest::Method::GET, &ana_token)
        .fetch_json()
        .await;
    assert_eq!(read, saved);

    // Nobody else sees it, over the API or on their pages.
    let response = api(&server, reqwest::Method::GET, &bia_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");
    let (_, html) = bia.get("/safety-plan").await;
    assert!(!html.contains("girassol") && !html.contains("Clara"));
    let (status, location) = bia.get("/safety-plan/export").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");

    // The page shows it, then saves a new version.
    let (status, html) = ana.get("/safety-plan").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(PHRASE) && html.contains("Minha irmã Clara"),
        "{html}"
    );
    let csrf = csrf_in(&html);
    let (status, location) = ana
        .post("/safety-plan", &form(&csrf, "Fico sem dormir\r\nMe isolo"))
        .await;
    assert_eq!(
        (status, location.as_str()),
        (
            StatusCode::SEE_OTHER,
            "/safety-plan?notice=safety-plan-saved"
        )
    );
    let read = api(&server, reqwest::Method::GET, &ana_token)
        .fetch_json()
        .await;
    assert_eq!(read["plan"]["warning_signs"], "Fico sem dormir\nMe isolo");
    assert_eq!(
        read["plan"]["people_to_ask"], "",
        "the page's version replaced it whole"
    );
    let (_, html) = ana.get("/safety-plan?notice=safety-plan-saved").await;
    assert!(html.contains("Plano salvo.") && html.contains("Fico sem dormir"));

    // The export is a Markdown file with the person's words.
    let response = ana
        .client
        .get(server.url("/safety-plan/export"))
        .header(COOKIE, ana.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()[CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"safety-plan-")
    );
    assert_eq!(response.headers()[CACHE_CONTROL], "private, no-store");
    let markdown = response.text().await.unwrap();
    assert!(
        markdown.starts_with("# Meu plano de segurança"),
        "{markdown}"
    );
    assert!(
        markdown.contains("- Fico sem dormir\n- Me isolo\n"),
        "{markdown}"
    );

    // Deleting asks first; only the confirmation deletes.
    let (status, html) = ana.post("/safety-plan/delete", &[("csrf", &csrf)]).await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"confirm\" value=\"yes\""), "{html}");
    let still = api(&server, reqwest::Method::GET, &ana_token).send().await;
    assert_eq!(still.unwrap().status(), 200);
    let (status, location) = ana
        .post(
            "/safety-plan/delete",
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (
            StatusCode::SEE_OTHER,
            "/safety-plan?notice=safety-plan-deleted"
        )
    );
    let gone = api(&server, reqwest::Method::GET, &ana_token).send().await;
    assert_eq!(gone.unwrap().status(), 404);
    let (_, html) = ana.get("/safety-plan").await;
    assert!(!html.contains("Fico sem dormir") && !html.contains("/safety-plan/export"));

    // The API deletes too, and says whether there was a plan.
    api(&server, reqwest::Method::PUT, &ana_token)
        .json(&plan("De novo"))
        .send()
        .await
        .unwrap();
    for deleted in [true, false] {
        let answer = api(&server, reqwest::Method::DELETE, &ana_token)
            .fetch_json()
            .await;
        assert_eq!(answer, json!({ "deleted": deleted }));
    }
    server.stop().await;
}

#[tokio::test]
async fn refused_plans_get_422_and_change_nothing() {
    let (server, _dir) = server().await;
    let (mut ana, token) = person(&server, "ana@test.local").await;
    let before = api(&server, reqwest::Method::PUT, &token)
        .json(&plan(PHRASE))
        .fetch_json()
        .await;
    let oversized = "x".repeat(2_001);
    let mut missing = plan("Sem um campo");
    missing.as_object_mut().unwrap().remove("professionals");
    let mut empty = plan(" ");
    for (_, text) in empty.as_object_mut().unwrap() {
        *text = json!("  \n ");
    }
    for body in [plan(&oversized), empty, missing] {
        let response = api(&server, reqwest::Method::PUT, &token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        let error: Value = response.json().await.unwrap();
        assert!(error["error"].is_string(), "{error}");
    }

    // The page shows the form again with what was written and the step marked.
    let csrf = ana.csrf("/safety-plan").await;
    let long_step = format!("começo-do-texto {}", "y".repeat(2_000));
    let (status, html) = ana.post("/safety-plan", &form(&csrf, &long_step)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("começo-do-texto") && html.contains("aria-invalid=\"true\""));
    assert!(html.contains("2.000 caracteres"), "{html}");
    let blank: Vec<(&str, &str)> = form(&csrf, "")
        .into_iter()
        .map(|(name, value)| (name, if name == "csrf" { value } else { " \r\n " }))
        .collect();
    let (status, html) = ana.post("/safety-plan", &blank).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains("Escreva algo em pelo menos um passo"),
        "{html}"
    );

    let after = api(&server, reqwest::Method::GET, &token)
        .fetch_json()
        .await;
    assert_eq!(after, before);
    server.stop().await;
}

#[tokio::test]
async fn the_plan_is_never_in_the_database_file_in_plaintext() {
    let (server, _dir) = server().await;
    let (mut ana, token) = person(&server, "ana@test.local").await;
    let response = api(&server, reqwest::Method::PUT, &token)
        .json(&plan(PHRASE))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csrf = ana.csrf("/safety-plan").await;
    let second = format!("{PHRASE} pela página");
    ana.post("/safety-plan", &form(&csrf, &second)).await;

    let mut bytes = Vec::new();
    for file in ["test.db", "test.db-wal"] {
        if let Ok(content) = std::fs::read(server.data_dir.join(file)) {
            bytes.extend(content);
        }
    }
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    // The search does find what is stored in plaintext: the person's e-mail.
    assert!(contains("ana@test.local"));
    assert!(!contains("girassol") && !contains("Minha irm"));
    server.stop().await;
}

#[tokio::test]
async fn grounding_and_the_links_to_it_in_each_language() {
    let (server, _dir) = server().await;
    let (mut ana, _) = person(&server, "ana@test.local").await;
    let (status, html) = ana.get("/grounding").await;
    assert_eq!(status, 200);
    for text in [
        "href=\"tel:188\"",
        "href=\"tel:192\"",
        "5-4-3-2-1",
        "contando devagar até 4",
    ] {
        assert!(html.contains(text), "{text}: {html}");
    }
    for page in ["/chat", "/profile", "/safety-plan"] {
        let (_, html) = ana.get(page).await;
        assert!(html.contains("href=\"/grounding\""), "{page}");
        assert!(html.contains("href=\"tel:188\"") || page != "/safety-plan");
        assert!(html.contains("href=\"/safety-plan\"") || page == "/safety-plan");
    }
    let (_, html) = ana.get("/profile").await;
    assert!(html.contains("Você ainda não preencheu"), "{html}");

    let csrf = ana.csrf("/profile").await;
    ana.post("/profile/language", &[("csrf", &csrf), ("locale", "en")])
        .await;
    let (_, html) = ana.get("/grounding").await;
    for text in ["href=\"tel:988\"", "href=\"tel:911\"", "counting to 6"] {
        assert!(html.contains(text), "{text}: {html}");
    }
    let css = server.get_text("/static/app.css").await;
    assert!(css.contains("/* safety plan and grounding */"));
    assert!(css.contains("@media (prefers-reduced-motion: reduce)"));
    server.stop().await;
}
