//! The binary's start-up checks: bad configuration stops it at once with a message naming the
//! key and a non-zero exit code.

use std::process::Command;
use std::time::{Duration, Instant};

fn botpsicologo(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_botpsicologo"));
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("CONFIG_FILE")
        .env("DATA_DIR", dir.join("data"))
        .env("BIND_ADDR", "127.0.0.1:0");
    cmd
}

fn assert_fails_fast(cmd: &mut Command, needle: &str) {
    let start = Instant::now();
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "must fail: {stderr}");
    assert!(stderr.contains(needle), "message names {needle}: {stderr}");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn bad_database_url_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails_fast(
        botpsicologo(dir.path()).env("DATABASE_URL", "postgres://x/y"),
        "DATABASE_URL",
    );
    assert_fails_fast(
        botpsicologo(dir.path()).env("DATABASE_URL", "mysql://root@127.0.0.1:1/x"),
        "DATABASE_URL",
    );
}

#[test]
fn unknown_config_key_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("local.toml");
    std::fs::write(&file, "bind_adress = \"127.0.0.1:9\"\n").unwrap();
    assert_fails_fast(
        botpsicologo(dir.path()).env("CONFIG_FILE", &file),
        "bind_adress",
    );
}

#[test]
fn bad_bind_addr_is_named() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails_fast(
        botpsicologo(dir.path()).env("BIND_ADDR", "localhost"),
        "BIND_ADDR",
    );
}

#[test]
fn migrate_and_seed_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = botpsicologo(dir.path())
            .args(args)
            .env("DEMO_PASSWORD", "demo-password-123")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    let first = run(&["migrate"]);
    assert!(
        first.contains("applied ") && !first.contains("applied 0"),
        "{first}"
    );
    assert!(run(&["migrate"]).contains("applied 0 migration"));
    assert!(run(&["seed-demo"]).contains("manager@demo.local"));
    assert!(run(&["seed-demo"]).contains("nothing changed"));
}

#[tokio::test]
async fn billing_check_names_the_prices_stripe_does_not_have() {
    let Some(stripe) = billing_stripe::localstripe::LocalStripe::start().await else {
        return;
    };
    stripe.create_plan("price_plus", "month", "brl").await;
    stripe.create_plan("price_plus_annual", "year", "brl").await;
    let dir = tempfile::tempdir().unwrap();
    let check = |prices: &str| {
        botpsicologo(dir.path())
            .args(["billing", "check"])
            .env("STRIPE_SECRET_KEY", "sk_test_local")
            .env("STRIPE_WEBHOOK_SECRET", "whsec_local")
            .env("STRIPE_API_BASE", &stripe.base_url)
            .env("STRIPE_PRICES", prices)
            .output()
            .unwrap()
    };
    let good = check("plus=price_plus,plus-annual=price_plus_annual");
    let (out, err) = (
        String::from_utf8_lossy(&good.stdout),
        String::from_utf8_lossy(&good.stderr),
    );
    assert!(good.status.success(), "{out}{err}");
    assert!(
        out.contains("plan plus-annual: price `price_plus_annual` ok (recurring every year, brl)"),
        "{out}"
    );
    let bad = check("plus=price_plus,plus-annual=price_gone");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success(), "{err}");
    assert!(
        err.contains("plan plus-annual: price `price_gone` does not exist at the payment provider"),
        "{err}"
    );
    assert!(err.contains("1 of 2 price(s) need fixing"), "{err}");
    // Without keys there is nothing to check against.
    assert_fails_fast(
        botpsicologo(dir.path()).args(["billing", "check"]),
        "STRIPE_SECRET_KEY",
    );
}
