//! A headless Chromium walk through the pages (playwright-core driving Debian's chromium, see
//! `e2e/flow.mjs`): the admin signs in, creates a company and invites a manager, the manager
//! accepts and invites an employee, then chats. Screenshots of each page go to `target/e2e/`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether the browser tooling is here; under `CI=true` its absence fails the test.
fn tooling_ready() -> bool {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing: Vec<&str> = [
        (!Path::new(&chromium).exists()).then_some("chromium (apt: chromium)"),
        Command::new("node")
            .arg("--version")
            .output()
            .is_err()
            .then_some("node"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("end-to-end test needs {missing:?} under CI=true");
    }
    eprintln!("SKIPPED e2e: missing {missing:?} (cargo xtask test installs them)");
    false
}

#[tokio::test]
async fn admin_creates_a_company_and_invitations_flow_in_a_real_browser() {
    if !tooling_ready() {
        return;
    }
    let e2e = workspace().join("e2e");
    if !e2e.join("node_modules/playwright-core").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&e2e)
            .status()
            .expect("npm");
        assert!(status.success(), "npm ci in e2e/");
    }
    let dir = tempfile::tempdir().unwrap();
    let library = workspace().join("files").display().to_string();
    let server =
        TestServer::sqlite_with(dir.path(), &format!("sample_library_dir = {library:?}")).await;
    let shots = workspace().join("target/e2e");
    let base = server.url("");
    let output = tokio::process::Command::new("node")
        .arg(e2e.join("flow.mjs"))
        .args([base.as_str(), ADMIN_EMAIL, ADMIN_PASSWORD])
        .arg(&shots)
        .output()
        .await
        .expect("node");
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for name in [
        "01-signin",
        "02-admin",
        "04-invitation-link",
        "06-manager",
        "07-employee-invited",
    ] {
        assert!(shots.join(format!("{name}.png")).exists(), "{name}.png");
    }
    server.stop().await;
}
