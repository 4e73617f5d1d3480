//! The domain as a library, the way another team's program uses it: its own adapters for the
//! environment ports, the in-memory store from `contracts` (a real program passes its database
//! adapter instead), and the services doing the work: an account signs up and signs in, its
//! usage this period is read, and a message is screened for crisis risk.
//!
//! `cargo run -p domain --example another_program`

use chrono::{DateTime, Utc};
use contracts::memory::MemoryStore;
use domain::Locale;
use domain::account::SessionKind;
use domain::plan::PlanCatalog;
use domain::ports::{Clock, HashError, IdGenerator, PasswordHasher, Secrets};
use domain::safety::CrisisDetector;
use domain::services::accounts::{AccountService, NewAccount};
use domain::services::usage::BudgetService;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Time, ids and secrets as this program provides them.
struct Environment {
    next: AtomicI64,
}

impl Clock for Environment {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

impl IdGenerator for Environment {
    fn next_id(&self) -> i64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
}

impl Secrets for Environment {
    fn new_secret(&self) -> String {
        format!("secret-{}", self.next_id())
    }

    fn digest(&self, secret: &str) -> String {
        format!("digest-of-{secret}")
    }
}

/// Stands in for a real password hash (the server uses argon2id).
struct NotAHash;

impl PasswordHasher for NotAHash {
    async fn hash(&self, password: String) -> Result<String, HashError> {
        Ok(password.chars().rev().collect())
    }

    async fn verify(&self, password: String, hash: String) -> bool {
        password.chars().rev().collect::<String>() == hash
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let catalog: PlanCatalog = serde_json::from_value(serde_json::json!({
        "plans": [
            { "id": "free", "name": "Free", "audience": "individual", "monthly_tokens": 20000 },
            { "id": "team", "name": "Team", "audience": "company", "tokens_per_seat": 50000 }
        ],
        "default_individual": "free",
        "default_company": "team"
    }))?;
    let (store, env) = (
        Arc::new(MemoryStore::default()),
        Arc::new(Environment {
            next: AtomicI64::new(1),
        }),
    );
    let catalog = Arc::new(catalog);
    let accounts = AccountService {
        store: store.clone(),
        hasher: Arc::new(NotAHash),
        env: env.clone(),
        catalog: catalog.clone(),
        session_ttl: chrono::Duration::hours(1),
    };
    let budgets = BudgetService {
        store,
        clock: env,
        catalog,
    };

    let person = accounts
        .sign_up(NewAccount {
            email: "ana@example.org",
            password: "a long enough passphrase",
            display_name: "Ana",
            locale: Locale::PtBr,
        })
        .await?;
    let (_, session) = accounts
        .sign_in(
            "ana@example.org",
            "a long enough passphrase",
            SessionKind::Api,
        )
        .await?;
    let usage = budgets.usage(&person).await?;
    println!(
        "{} signed in (session until {}); {} tokens left this period",
        person.display_name,
        session.session.expires_at.format("%H:%M UTC"),
        usage.summary.remaining.unwrap_or_default()
    );

    let screen = CrisisDetector::default();
    for message in [
        "estou morrendo de rir com esse vídeo",
        "não aguento mais, quero sumir pra sempre",
    ] {
        let judged = screen.assess(message, &[]);
        println!("{message:?}: {:?} {:?}", judged.concern, judged.categories);
    }
    Ok(())
}
