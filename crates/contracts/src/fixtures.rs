use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::MessageId;
use domain::budget::{BudgetLine, ReservationRequest, Subject};
use domain::conversation::{Author, SealedMessage};
use domain::{Company, CompanyId, Email, Locale, Period, ReservationId, Role, User, UserId};
use std::sync::atomic::{AtomicI64, Ordering};

static NEXT: AtomicI64 = AtomicI64::new(1_000);

/// A fresh id, unique within the test process.
pub fn id() -> i64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A fixed instant, so periods are deterministic (millisecond precision, as stored).
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, 12, 0, 0).unwrap()
}

pub fn user(email: &str, role: Role, company: Option<CompanyId>) -> User {
    User {
        id: UserId(id()),
        email: Email::parse(email).unwrap(),
        display_name: format!("Person {email}"),
        password_hash: "$argon2id$fake".into(),
        role,
        company_id: company,
        personal_cap: None,
        plan_id: "free".into(),
        locale: Locale::PtBr,
        disabled: false,
        created_at: t0(),
        billing_period: None,
    }
}

pub fn company(name: &str) -> Company {
    Company {
        id: CompanyId(id()),
        name: name.into(),
        seat_limit: 10,
        plan_id: "team".into(),
        system_prompt: None,
        created_at: t0(),
        billing_period: None,
    }
}

pub fn line(subject: Subject, allowance: Option<u64>, may_use_topup: bool) -> BudgetLine {
    BudgetLine {
        subject,
        period: Period::calendar_month(t0()),
        allowance,
        may_use_topup,
    }
}

pub fn request(amount: u64, lines: Vec<BudgetLine>) -> ReservationRequest {
    ReservationRequest {
        id: ReservationId(id()),
        amount,
        lines,
        expires_at: t0() + Duration::minutes(5),
    }
}

/// A sealed message of `user` (the "sealed" bytes are whatever the test says).
pub fn message(user: UserId, author: Author, sealed: &[u8]) -> SealedMessage {
    SealedMessage {
        id: MessageId(id()),
        user_id: user,
        author,
        sealed: sealed.to_vec(),
        created_at: t0(),
        tokens: 42,
    }
}
