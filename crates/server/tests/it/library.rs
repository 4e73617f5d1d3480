//! The library from the operator's side (`extract`, `ingest`) and from the person's side: a fresh
//! install with no model answers from the sample library in `files/`, quoting its sources.

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, FetchJson, TestServer, settings, sign_up};
use botpsicologo::state::AppState;
use domain::Locale;
use domain::ports::LibraryStore;
use persistence_sqlite::SqliteStore;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sample_library() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../files")
}

fn botpsicologo(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_botpsicologo"))
        .args(args)
        .current_dir(dir)
        .env("DATA_DIR", dir.join("data"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("library.db").display()),
        )
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn a_fresh_install_answers_from_the_sample_library_with_sources() {
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "sample_library_dir = {:?}",
        sample_library().display().to_string()
    );
    let server = TestServer::sqlite_with(dir.path(), &extra).await;
    let token = server.bearer(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ask = |message: &'static str| {
        server
            .client
            .post(server.url("/api/v1/chat"))
            .bearer_auth(&token)
            .json(&json!({ "message": message }))
            .fetch_json()
    };
    let body: Value = ask("Tenho dormido mal. Como criar uma rotina para o sono?").await;
    let reply = body["reply"].as_str().unwrap();
    assert!(reply.contains("modelo de linguagem"), "{reply}");
    assert!(reply.contains("Fonte: Sono e descanso"), "{reply}");
    assert!(reply.contains("> "), "quotes the passage: {reply}");
    assert!(
        body["sources"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("Sono e descanso")
    );

    let body: Value = ask("How can I cope with grief after losing my mother?").await;
    let reply = body["reply"].as_str().unwrap();
    assert!(reply.contains("No language model is configured"), "{reply}");
    let titles: Vec<&str> = body["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.iter().any(|t| t.to_lowercase().contains("grief")),
        "{titles:?}"
    );
    server.stop().await;
}

#[test]
fn extract_prints_the_text_or_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = botpsicologo(
        dir.path(),
        &[
            "extract",
            &sample_library()
                .join("estresse-no-trabalho.docx")
                .display()
                .to_string(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(printed.contains("trabalho"), "{printed}");

    std::fs::write(
        dir.path().join("broken.pdf"),
        b"%PDF-1.7\n1 0 obj << /Type /Catalog",
    )
    .unwrap();
    let out = botpsicologo(dir.path(), &["extract", "broken.pdf"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("broken.pdf"),
        "{}",
        text(&out.stderr)
    );
    let out = botpsicologo(dir.path(), &["extract", "missing.docx"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("missing.docx"));
}

#[test]
fn ingest_follows_links_but_not_round_a_link_loop() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(docs.join("inner")).unwrap();
    std::fs::write(
        docs.join("inner/notas.md"),
        "# Notas\n\nRespirar devagar.\n",
    )
    .unwrap();
    // A link back to an ancestor: walking it naively never ends.
    std::os::unix::fs::symlink(&docs, docs.join("inner/back-to-docs")).unwrap();
    let out = botpsicologo(dir.path(), &["ingest", "docs"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("1 ingested"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stderr).contains("loop"), "{}", text(&out.stderr));
}

#[tokio::test]
async fn ingest_reports_each_file_skips_unchanged_ones_and_survives_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    for name in [
        "sono-e-descanso.html",
        "luto-e-perda.pdf",
        "understanding-anxiety.docx",
    ] {
        std::fs::copy(sample_library().join(name), docs.join(name)).unwrap();
    }
    std::fs::write(
        docs.join("notas.md"),
        "# Notas\n\nRespirar devagar acalma o corpo.\n",
    )
    .unwrap();
    std::fs::write(
        docs.join("corrupt.pdf"),
        b"%PDF-1.4\n%%garbage that is not a pdf",
    )
    .unwrap();
    std::fs::write(
        docs.join("binary.html"),
        [0u8, 159, 146, 150, 1, 2, 3, 0, 0, 7],
    )
    .unwrap();
    std::fs::write(docs.join("fake.docx"), b"PK\x03\x04not really a zip").unwrap();

    let out = botpsicologo(dir.path(), &["ingest", "docs"]);
    let table = text(&out.stdout);
    assert!(!out.status.success(), "a failed file makes the run fail");
    assert!(
        table.contains("4 ingested, 0 unchanged, 3 failed"),
        "{table}"
    );
    for bad in ["corrupt.pdf", "binary.html", "fake.docx"] {
        let row = table.lines().find(|l| l.contains(bad)).unwrap();
        assert!(row.contains("failed"), "{row}");
    }

    let db = dir.path().join("library.db").display().to_string();
    let snapshot = || async {
        let store = SqliteStore::open(&db).await.unwrap();
        let documents = store.list_documents().await.unwrap();
        let passages: Vec<_> = store
            .all_passages()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        (documents, passages)
    };
    let before = snapshot().await;
    assert_eq!(before.0.len(), 4);
    assert!(before.1.len() >= 4);

    // Unchanged files: nothing is written (same rows, same timestamps).
    let out = botpsicologo(dir.path(), &["ingest", "docs"]);
    assert!(
        text(&out.stdout).contains("0 ingested, 4 unchanged, 3 failed"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(snapshot().await, before);

    // A changed file replaces its passages; a removed one can be retired.
    for bad in ["corrupt.pdf", "binary.html", "fake.docx"] {
        std::fs::remove_file(docs.join(bad)).unwrap();
    }
    std::fs::write(docs.join("notas.md"), "# Notas\n\nDormir cedo ajuda.\n").unwrap();
    std::fs::remove_file(docs.join("luto-e-perda.pdf")).unwrap();
    let out = botpsicologo(dir.path(), &["ingest", "--retire-missing", "docs"]);
    let printed = text(&out.stdout);
    assert!(out.status.success(), "{printed}{}", text(&out.stderr));
    assert!(
        printed.contains("1 ingested, 2 unchanged, 0 failed, 1 retired"),
        "{printed}"
    );
    let (documents, _) = snapshot().await;
    assert_eq!(documents.len(), 3);
    assert!(documents.iter().all(|d| !d.source.contains("luto")));

    let out = botpsicologo(dir.path(), &["ingest", "no-such-folder"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no-such-folder"));
}

#[tokio::test]
async fn admins_upload_documents_through_the_api_within_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(
        dir.path(),
        "sample_library_dir = \"\"\nupload_limit_bytes = 200000",
    );
    let db = dir.path().join("test.db").display().to_string();
    let state = AppState::new(SqliteStore::open(&db).await.unwrap(), settings.clone()).unwrap();
    sign_up(
        &state,
        "pessoa@test.local",
        "person-password-123",
        Locale::PtBr,
    )
    .await;
    let server = TestServer::start(SqliteStore::open(&db).await.unwrap(), settings).await;
    let admin = server.bearer(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let upload = |token: String, name: &'static str, body: Vec<u8>| {
        server
            .client
            .post(server.url(&format!("/api/v1/library/uploads?name={name}")))
            .bearer_auth(token)
            .body(body)
            .send()
    };
    let docx = std::fs::read(sample_library().join("estresse-no-trabalho.docx")).unwrap();
    let created = upload(admin.clone(), "estresse.docx", docx.clone())
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let body: Value = created.json().await.unwrap();
    assert!(body["passages"].as_u64().unwrap() > 0 && body["changed"] == true);
    // The same bytes again: nothing written.
    let again = upload(admin.clone(), "estresse.docx", docx).await.unwrap();
    assert_eq!(again.status(), 200);
    // A bad file, an oversized one, and someone who is not an admin: refused, nothing added.
    let bad = upload(admin.clone(), "fake.pdf", b"not a pdf".to_vec())
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    assert!(bad.json::<Value>().await.unwrap()["error"].is_string());
    let huge = upload(admin.clone(), "big.txt", vec![b'a'; 300_000])
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    let person = server
        .bearer("pessoa@test.local", "person-password-123")
        .await;
    let denied = upload(person, "outro.txt", b"Texto qualquer.".to_vec())
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
    let list: Value = server
        .client
        .get(server.url("/api/v1/library/documents"))
        .bearer_auth(&admin)
        .fetch_json()
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    server.stop().await;
}
