//! Shared fixtures: a clock tests can move, companies with members who used tokens, and an
//! archive wrapper that records (or dies at) each write.

#![allow(dead_code)] // Each test binary uses a different part.

use app::reports::FileReports;
use chrono::{DateTime, Duration, TimeZone, Utc};
use contracts::fixtures::{company, user};
use domain::budget::ReservationRequest;
use domain::plan::{Plan, PlanAudience, PlanCatalog};
use domain::ports::{Clock, CompanyStore, ReportArchive, StoreResult, UsageLedger, UserStore};
use domain::services::budgets::budget_lines;
use domain::{Company, CompanyId, Period, ReservationId, Role, User};
use scheduler::{Context, Job, JobStore, Outcome, run_job};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A clock the test moves by hand.
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn at(t: DateTime<Utc>) -> TestClock {
        TestClock(Mutex::new(t))
    }

    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

pub fn march_20() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 20, 10, 0, 0).unwrap()
}

pub fn april_1() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap()
}

pub fn march() -> Period {
    Period::calendar_month(march_20())
}

/// A team plan of 100 tokens per seat: a company of 10 seats has 1,000 tokens a month.
pub fn catalog() -> PlanCatalog {
    let plan = |id: &str, audience| Plan {
        id: id.into(),
        name: id.into(),
        audience,
        monthly_tokens: 1_000,
        tokens_per_seat: 100,
        price_id: None,
        company_only: None,
        interval: Default::default(),
    };
    PlanCatalog {
        plans: vec![
            plan("free", PlanAudience::Individual),
            plan("team", PlanAudience::Company),
        ],
        default_individual: "free".into(),
        default_company: "team".into(),
        packs: Vec::new(),
    }
}

pub fn ctx(holder: &str, batch_size: u64) -> Context {
    let mut ctx = Context::new(holder, 120);
    ctx.batch_size = batch_size;
    ctx
}

static NEXT: AtomicI64 = AtomicI64::new(1 << 40);

/// Spends `tokens` as a chat turn of `who` at `now` does: reserve on every line, then settle.
pub async fn spend<S: UsageLedger>(
    store: &S,
    who: &User,
    company: Option<&Company>,
    now: DateTime<Utc>,
    tokens: u64,
) {
    let lines = budget_lines(&catalog(), who, company, now).unwrap();
    let reservation = store
        .reserve(ReservationRequest {
            id: ReservationId(NEXT.fetch_add(1, Ordering::Relaxed)),
            amount: tokens,
            lines,
            expires_at: now + Duration::minutes(5),
        })
        .await
        .unwrap();
    assert!(store.settle(reservation.id, tokens).await.unwrap());
}

/// `companies` companies with `members` employees each, every employee having used
/// 10 + their index tokens in March. Returns the companies in id order.
pub async fn seed<S: UsageLedger + CompanyStore + UserStore>(
    store: &S,
    companies: usize,
    members: usize,
) -> Vec<Company> {
    let mut out = Vec::new();
    for c in 0..companies {
        let acme = company(&format!("Company {c}"));
        store.insert_company(&acme).await.unwrap();
        for m in 0..members {
            let e = user(
                &format!("e{m}.{}@example.com", acme.id),
                Role::Employee,
                Some(acme.id),
            );
            store.insert_user(&e).await.unwrap();
            spend(store, &e, Some(&acme), march_20(), 10 + m as u64).await;
        }
        out.push(acme);
    }
    out
}

/// Report files under a temporary data directory, recording which company each write was for,
/// and panicking (like a process killed mid-run) at the `die_at`-th batch.
pub struct Recording {
    pub files: FileReports,
    pub dir: tempfile::TempDir,
    pub written: Arc<Mutex<Vec<CompanyId>>>,
    batches: AtomicUsize,
    die_at: Option<usize>,
}

impl Recording {
    pub fn new() -> Recording {
        Recording::dying_at(None)
    }

    pub fn dying_at(die_at: Option<usize>) -> Recording {
        let dir = tempfile::tempdir().unwrap();
        Recording {
            files: FileReports::new(dir.path()),
            dir,
            written: Arc::default(),
            batches: AtomicUsize::new(0),
            die_at,
        }
    }

    pub fn written(&self) -> Vec<CompanyId> {
        self.written.lock().unwrap().clone()
    }
}

impl ReportArchive for Recording {
    async fn put_reports(
        &self,
        period: Period,
        reports: Vec<(CompanyId, Vec<u8>)>,
    ) -> StoreResult<u64> {
        let batch = self.batches.fetch_add(1, Ordering::SeqCst) + 1;
        if self.die_at == Some(batch) {
            panic!("simulated crash at batch {batch}");
        }
        let ids: Vec<CompanyId> = reports.iter().map(|(c, _)| *c).collect();
        let changed = self.files.put_reports(period, reports).await?;
        self.written.lock().unwrap().extend(ids);
        Ok(changed)
    }

    async fn get_report(&self, company: CompanyId, period: Period) -> StoreResult<Option<Vec<u8>>> {
        self.files.get_report(company, period).await
    }

    async fn list_reports(&self, company: CompanyId) -> StoreResult<Vec<String>> {
        self.files.list_reports(company).await
    }
}

/// 7 companies in batches of 2: the first scheduler dies writing its third batch, holding the
/// lease; another one waits for the lease to expire, then does the remaining 3 companies.
pub async fn crash_and_resume<S: JobStore + CompanyStore + UserStore + Clone>(store: &S) {
    let companies = seed(store, 7, 2).await;
    let clock = std::sync::Arc::new(TestClock::at(april_1()));
    let dying = std::sync::Arc::new(Recording::dying_at(Some(3)));
    let crashed = {
        let (store, clock, dying) = (store.clone(), clock.clone(), dying.clone());
        tokio::spawn(async move {
            run_job(&store, &*dying, &*clock, &ctx("a", 2), Job::CloseMonth).await
        })
        .await
    };
    assert!(crashed.unwrap_err().is_panic());
    assert_eq!(
        dying.written(),
        companies[..4].iter().map(|c| c.id).collect::<Vec<_>>()
    );

    let survivor = Recording::new();
    assert_eq!(
        run_job(store, &survivor, &*clock, &ctx("b", 2), Job::CloseMonth)
            .await
            .unwrap(),
        Outcome::Busy,
        "the dead scheduler's lease still holds"
    );
    clock.advance(Duration::seconds(121));
    assert_eq!(
        run_job(store, &survivor, &*clock, &ctx("b", 2), Job::CloseMonth)
            .await
            .unwrap(),
        Outcome::Ran { changed: 3 }
    );
    assert_eq!(
        survivor.written(),
        companies[4..].iter().map(|c| c.id).collect::<Vec<_>>(),
        "resumed after the last finished batch"
    );
    assert_eq!(
        run_job(store, &survivor, &*clock, &ctx("c", 2), Job::CloseMonth)
            .await
            .unwrap(),
        Outcome::Ran { changed: 0 }
    );
    assert_eq!(survivor.written().len(), 3);
}
