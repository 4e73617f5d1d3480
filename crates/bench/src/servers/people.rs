//! The people a run signs in as: seeded straight into the store, then signed in over HTTP from
//! addresses of their own.

use super::{BenchResult, PASSWORD};
use app::system::SystemEnv;
use chrono::Utc;
use domain::ports::{IdGenerator, UserStore};
use domain::{Email, Locale, Role, User, UserId};

pub(super) async fn insert_people<S: UserStore>(
    store: &S,
    emails: &[String],
    hash: &str,
) -> BenchResult<()> {
    let ids = SystemEnv::default();
    for email in emails {
        let user = User {
            id: UserId(ids.next_id()),
            email: Email::parse(email).map_err(|e| format!("{email}: {e:?}"))?,
            display_name: email.clone(),
            password_hash: hash.to_string(),
            role: Role::Individual,
            company_id: None,
            personal_cap: None,
            plan_id: "free".into(),
            locale: Locale::PtBr,
            disabled: false,
            created_at: Utc::now(),
            billing_period: None,
        };
        store
            .insert_user(&user)
            .await
            .map_err(|e| format!("inserting {email}: {e}"))?;
    }
    Ok(())
}
/// `n` e-mail addresses of people to seed: `{prefix}0000@bench.local`, …
pub fn emails(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{prefix}{i:04}@bench.local"))
        .collect()
}

/// The loopback address person `i` connects from (127.0.0.2 to 127.0.0.251), as different people
/// come from different addresses: the server limits sign-ins and requests per address.
pub fn address_of(i: usize) -> std::net::IpAddr {
    std::net::Ipv4Addr::new(127, 0, 0, 2 + (i % 250) as u8).into()
}

/// Signs each person in (from their own address) and returns their bearer tokens.
pub async fn sign_in(base: &str, emails: &[String]) -> BenchResult<Vec<String>> {
    let mut tokens = Vec::with_capacity(emails.len());
    for (i, email) in emails.iter().enumerate() {
        let client = reqwest::Client::builder()
            .local_address(address_of(i))
            .build()
            .map_err(|e| e.to_string())?;
        let response = client
            .post(format!("{base}/api/v1/auth/token"))
            .json(&serde_json::json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .map_err(|e| format!("sign-in of {email}: {e}"))?;
        let status = response.status();
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| format!("sign-in of {email}: {status}: {e}"))?;
        let token = body["token"]
            .as_str()
            .ok_or_else(|| format!("sign-in of {email}: {status}: {body}"))?;
        tokens.push(token.to_string());
    }
    Ok(tokens)
}
