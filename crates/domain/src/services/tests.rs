//! Service rules and refusals, with the ports mocked (mockall). A refused call must not reach the
//! store: a mock without an expectation panics if it is called.

use super::accounts::{AccountError, AccountService, NewAccount};
use super::companies::{CompanyDraft, CompanyError, CompanyService};
use crate::account::{Session, SessionKind};
use crate::audit::AuditEntry;
use crate::plan::{Plan, PlanAudience, PlanCatalog};
use crate::ports::*;
use crate::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use futures::executor::block_on;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub(super) type Fut<T> = std::pin::Pin<Box<dyn Future<Output = T> + Send>>;

pub(super) fn ready<T: Send + 'static>(value: T) -> Fut<T> {
    Box::pin(async move { value })
}

mockall::mock! {
    pub Store {}
    impl UserStore for Store {
        fn insert_user(&self, user: &User) -> impl Future<Output = StoreResult<()>> + Send;
        fn user_by_id(&self, id: UserId) -> impl Future<Output = StoreResult<Option<User>>> + Send;
        fn user_by_email(&self, email: &Email) -> impl Future<Output = StoreResult<Option<User>>> + Send;
        fn update_user(&self, user: &User) -> impl Future<Output = StoreResult<()>> + Send;
        fn delete_user(&self, id: UserId) -> impl Future<Output = StoreResult<()>> + Send;
        fn list_users(&self, query: &UserQuery) -> impl Future<Output = StoreResult<Vec<User>>> + Send;
        fn count_users(&self) -> impl Future<Output = StoreResult<u64>> + Send;
        fn count_company_members(&self, company: CompanyId) -> impl Future<Output = StoreResult<u64>> + Send;
    }
    impl SessionStore for Store {
        fn insert_session(&self, session: &Session) -> impl Future<Output = StoreResult<()>> + Send;
        fn session_with_user(&self, token_hash: &str) -> impl Future<Output = StoreResult<Option<(Session, User)>>> + Send;
        fn session_with_recent_messages(&self, token_hash: &str, limit: u64) -> impl Future<Output = StoreResult<Option<(Session, User, Vec<crate::conversation::SealedMessage>)>>> + Send;
        fn delete_session(&self, token_hash: &str) -> impl Future<Output = StoreResult<()>> + Send;
        fn delete_user_sessions(&self, user: UserId) -> impl Future<Output = StoreResult<u64>> + Send;
        fn purge_expired_sessions(&self, now: DateTime<Utc>) -> impl Future<Output = StoreResult<u64>> + Send;
    }
    impl AuditLog for Store {
        fn record(&self, entry: &AuditEntry) -> impl Future<Output = StoreResult<()>> + Send;
        fn recent(&self, offset: u64, limit: u64) -> impl Future<Output = StoreResult<Vec<AuditEntry>>> + Send;
    }
    impl CompanyStore for Store {
        fn insert_company(&self, company: &Company) -> impl Future<Output = StoreResult<()>> + Send;
        fn company_by_id(&self, id: CompanyId) -> impl Future<Output = StoreResult<Option<Company>>> + Send;
        fn update_company(&self, company: &Company) -> impl Future<Output = StoreResult<()>> + Send;
        fn delete_company(&self, id: CompanyId) -> impl Future<Output = StoreResult<()>> + Send;
        fn list_companies(&self) -> impl Future<Output = StoreResult<Vec<Company>>> + Send;
    }
    impl crate::ports::UsageLedger for Store {
        fn reserve(&self, request: crate::budget::ReservationRequest) -> impl Future<Output = Result<crate::budget::Reservation, crate::budget::LedgerError>> + Send;
        fn settle(&self, id: ReservationId, actual: u64) -> impl Future<Output = Result<bool, crate::budget::LedgerError>> + Send;
        fn settle_turn(&self, reservation: &crate::budget::Reservation, actual: u64, exchange: &[crate::conversation::SealedMessage; 2], lines: &[crate::budget::BudgetLine]) -> impl Future<Output = Result<crate::budget::SettledTurn, crate::budget::LedgerError>> + Send;
        fn reclaim_expired(&self, now: DateTime<Utc>) -> impl Future<Output = Result<u64, crate::budget::LedgerError>> + Send;
        fn counter(&self, subject: crate::budget::Subject, period_key: i64) -> impl Future<Output = Result<crate::budget::Counter, crate::budget::LedgerError>> + Send;
        fn topup(&self, subject: crate::budget::Subject) -> impl Future<Output = Result<crate::budget::TopUp, crate::budget::LedgerError>> + Send;
        fn add_topup(&self, subject: crate::budget::Subject, tokens: i64) -> impl Future<Output = Result<crate::budget::TopUp, crate::budget::LedgerError>> + Send;
        fn topups_of(&self, subjects: Vec<crate::budget::Subject>) -> impl Future<Output = Result<Vec<(crate::budget::Subject, crate::budget::TopUp)>, crate::budget::LedgerError>> + Send;
        fn counters_in_period(&self, subjects: Vec<crate::budget::Subject>, period_key: i64) -> impl Future<Output = Result<Vec<(crate::budget::Subject, crate::budget::Counter)>, crate::budget::LedgerError>> + Send;
    }
    impl crate::ports::ConversationStore for Store {
        fn insert_messages(&self, messages: &[crate::conversation::SealedMessage]) -> impl Future<Output = StoreResult<()>> + Send;
        fn messages_page(&self, user: UserId, before: Option<MessageId>, limit: u64) -> impl Future<Output = StoreResult<Vec<crate::conversation::SealedMessage>>> + Send;
        fn delete_messages(&self, user: UserId) -> impl Future<Output = StoreResult<u64>> + Send;
    }
    impl SafetyCounter for Store {
        fn count_crisis(&self, day: i64) -> impl Future<Output = StoreResult<()>> + Send;
        fn crisis_total(&self, since_day: i64) -> impl Future<Output = StoreResult<u64>> + Send;
    }
    impl crate::ports::SafetyPlanStore for Store {
        fn safety_plan(&self, user: UserId) -> impl Future<Output = StoreResult<Option<crate::safety_plan::SealedSafetyPlan>>> + Send;
        fn put_safety_plan(&self, plan: &crate::safety_plan::SealedSafetyPlan) -> impl Future<Output = StoreResult<()>> + Send;
        fn delete_safety_plan(&self, user: UserId) -> impl Future<Output = StoreResult<bool>> + Send;
    }
    impl InvitationStore for Store {
        fn insert_invitation(&self, invitation: &Invitation) -> impl Future<Output = StoreResult<()>> + Send;
        fn invitation_by_hash(&self, token_hash: &str) -> impl Future<Output = StoreResult<Option<Invitation>>> + Send;
        fn mark_invitation_accepted(&self, token_hash: &str, at: DateTime<Utc>) -> impl Future<Output = StoreResult<bool>> + Send;
        fn invitations_of_company(&self, company: CompanyId) -> impl Future<Output = StoreResult<Vec<Invitation>>> + Send;
        fn delete_invitation(&self, token_hash: &str) -> impl Future<Output = StoreResult<()>> + Send;
        fn purge_expired_invitations(&self, now: DateTime<Utc>) -> impl Future<Output = StoreResult<u64>> + Send;
    }
}

/// Deterministic clock, ids and secrets.
pub(super) struct TestEnv {
    pub(super) next: AtomicI64,
}

impl Clock for TestEnv {
    fn now(&self) -> DateTime<Utc> {
        now()
    }
}
impl IdGenerator for TestEnv {
    fn next_id(&self) -> i64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
}
impl Secrets for TestEnv {
    fn new_secret(&self) -> String {
        format!("secret-{}", self.next.fetch_add(1, Ordering::Relaxed))
    }
    fn digest(&self, secret: &str) -> String {
        format!("digest({secret})")
    }
}

pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap()
}

pub(super) fn catalog() -> Arc<PlanCatalog> {
    let plan = |id: &str, audience| Plan {
        id: id.into(),
        name: id.into(),
        audience,
        monthly_tokens: 1_000,
        tokens_per_seat: 1_000,
        price_id: None,
        company_only: None,
        interval: Default::default(),
    };
    Arc::new(PlanCatalog {
        plans: vec![
            plan("free", PlanAudience::Individual),
            plan("team", PlanAudience::Company),
        ],
        default_individual: "free".into(),
        default_company: "team".into(),
        packs: Vec::new(),
    })
}

fn hasher(valid_password: &'static str) -> MockPasswordHasher {
    let mut h = MockPasswordHasher::new();
    h.expect_hash()
        .returning(|p| ready(Ok(format!("hash({p})"))));
    h.expect_verify()
        .returning(move |p, _| ready(p == valid_password));
    h
}

fn accounts(
    store: MockStore,
    hasher: MockPasswordHasher,
) -> AccountService<MockStore, MockPasswordHasher, TestEnv> {
    AccountService {
        store: Arc::new(store),
        hasher: Arc::new(hasher),
        env: Arc::new(TestEnv {
            next: AtomicI64::new(100),
        }),
        catalog: catalog(),
        session_ttl: Duration::hours(1),
    }
}

fn companies(store: MockStore) -> CompanyService<MockStore, TestEnv> {
    CompanyService {
        store: Arc::new(store),
        env: Arc::new(TestEnv {
            next: AtomicI64::new(100),
        }),
        catalog: catalog(),
        invitation_ttl: Duration::days(7),
    }
}

pub(super) fn user(id: i64, role: Role, company: Option<i64>) -> User {
    User {
        id: UserId(id),
        email: Email::parse(&format!("u{id}@x.com")).unwrap(),
        display_name: format!("U{id}"),
        password_hash: "hash(right-password)".into(),
        role,
        company_id: company.map(CompanyId),
        personal_cap: None,
        plan_id: "free".into(),
        locale: Locale::PtBr,
        disabled: false,
        created_at: now(),
        billing_period: None,
    }
}

pub(super) fn actor(id: i64, role: Role, company: Option<i64>) -> Actor {
    Actor::of(&user(id, role, company), None)
}

pub(super) fn company(id: i64, seats: u32) -> Company {
    Company {
        id: CompanyId(id),
        name: "Acme".into(),
        seat_limit: seats,
        plan_id: "team".into(),
        system_prompt: None,
        created_at: now(),
        billing_period: None,
    }
}

fn new_account<'a>(email: &'a str, password: &'a str) -> NewAccount<'a> {
    NewAccount {
        email,
        password,
        display_name: "Ana",
        locale: Locale::PtBr,
    }
}

#[test]
fn sign_up_validates_before_touching_the_store() {
    let service = accounts(MockStore::new(), MockPasswordHasher::new());
    let bad_email = block_on(service.sign_up(new_account("not-an-email", "long-enough-pw")));
    assert_eq!(bad_email.unwrap_err(), AccountError::InvalidEmail);
    let weak = block_on(service.sign_up(new_account("ana@x.com", "short")));
    assert!(matches!(weak.unwrap_err(), AccountError::WeakPassword(_)));
}

#[test]
fn sign_up_creates_an_individual_on_the_default_plan() {
    let mut store = MockStore::new();
    store
        .expect_insert_user()
        .withf(|u| {
            u.role == Role::Individual
                && u.plan_id == "free"
                && u.company_id.is_none()
                && u.password_hash == "hash(long-enough-pw)"
        })
        .times(1)
        .returning(|_| ready(Ok(())));
    let user =
        block_on(accounts(store, hasher("")).sign_up(new_account("Ana@X.com", "long-enough-pw")))
            .unwrap();
    assert_eq!(user.email.as_str(), "ana@x.com");
}

#[test]
fn sign_up_with_a_taken_email_is_refused() {
    let mut store = MockStore::new();
    store
        .expect_insert_user()
        .returning(|_| ready(Err(StoreError::Conflict("email".into()))));
    let err =
        block_on(accounts(store, hasher("")).sign_up(new_account("ana@x.com", "long-enough-pw")));
    assert_eq!(err.unwrap_err(), AccountError::EmailTaken);
}

#[test]
fn wrong_password_and_unknown_email_look_the_same_and_open_no_session() {
    let mut store = MockStore::new();
    store.expect_user_by_email().returning(|e| {
        let found = (e.as_str() == "u1@x.com").then(|| user(1, Role::Individual, None));
        ready(Ok(found))
    });
    store.expect_insert_session().never();
    let mut h = MockPasswordHasher::new();
    // Unknown e-mails still pay for one verification, so timing reveals nothing.
    h.expect_verify().times(2).returning(|_, _| ready(false));
    let service = accounts(store, h);
    let wrong =
        block_on(service.sign_in("u1@x.com", "nope-nope-nope", SessionKind::Web)).unwrap_err();
    let unknown =
        block_on(service.sign_in("ghost@x.com", "nope-nope-nope", SessionKind::Web)).unwrap_err();
    assert_eq!(wrong, AccountError::InvalidCredentials);
    assert_eq!(wrong, unknown);
}

#[test]
fn disabled_accounts_cannot_sign_in() {
    let mut store = MockStore::new();
    store.expect_user_by_email().returning(|_| {
        let mut u = user(1, Role::Individual, None);
        u.disabled = true;
        ready(Ok(Some(u)))
    });
    store.expect_insert_session().never();
    let err = block_on(accounts(store, hasher("right-password")).sign_in(
        "u1@x.com",
        "right-password",
        SessionKind::Web,
    ));
    assert_eq!(err.unwrap_err(), AccountError::Disabled);
}

#[test]
fn sign_in_stores_only_the_digest_of_a_fresh_token() {
    let mut store = MockStore::new();
    store
        .expect_user_by_email()
        .returning(|_| ready(Ok(Some(user(1, Role::Individual, None)))));
    store
        .expect_insert_session()
        .withf(|s| {
            s.token_hash.starts_with("digest(secret-") && s.expires_at == now() + Duration::hours(1)
        })
        .times(1)
        .returning(|_| ready(Ok(())));
    let (_, issued) = block_on(accounts(store, hasher("right-password")).sign_in(
        "u1@x.com",
        "right-password",
        SessionKind::Api,
    ))
    .unwrap();
    assert_eq!(
        issued.session.token_hash,
        format!("digest({})", issued.token)
    );
}

#[test]
fn expired_sessions_are_refused_and_removed() {
    let mut store = MockStore::new();
    store.expect_session_with_user().returning(|hash| {
        ready(Ok(Some((
            Session {
                token_hash: hash.to_string(),
                user_id: UserId(1),
                kind: SessionKind::Web,
                csrf_token: "c".into(),
                created_at: now() - Duration::hours(2),
                expires_at: now() - Duration::seconds(1),
            },
            user(1, Role::Individual, None),
        ))))
    });
    store
        .expect_delete_session()
        .times(1)
        .returning(|_| ready(Ok(())));
    let err = block_on(accounts(store, hasher("")).authenticate("old-token"));
    assert_eq!(err.unwrap_err(), AccountError::Unauthenticated);
}

#[test]
fn only_the_admin_manages_users() {
    let service = accounts(MockStore::new(), MockPasswordHasher::new());
    for role in [Role::CompanyManager, Role::Employee, Role::Individual] {
        let who = actor(1, role, role.belongs_to_company().then_some(5));
        let set_role = block_on(service.set_role(&who, UserId(2), Role::PlatformAdmin, None));
        assert_eq!(set_role.unwrap_err(), AccountError::Forbidden, "{role:?}");
        let disable = block_on(service.set_disabled(&who, UserId(2), true));
        assert_eq!(disable.unwrap_err(), AccountError::Forbidden);
        let plan = block_on(service.assign_plan(&who, who.user_id, "free"));
        assert_eq!(
            plan.unwrap_err(),
            AccountError::Forbidden,
            "nobody sets their own plan"
        );
        let list = block_on(service.list_users(&who, &UserQuery::default()));
        assert_eq!(list.unwrap_err(), AccountError::Forbidden);
    }
    let admin = actor(1, Role::PlatformAdmin, None);
    let own = block_on(service.set_role(&admin, UserId(1), Role::Individual, None));
    assert!(
        matches!(own.unwrap_err(), AccountError::InvalidInput(_)),
        "no locking yourself out"
    );
}

#[test]
fn role_change_is_audited_and_signs_the_person_out() {
    let mut store = MockStore::new();
    store
        .expect_user_by_id()
        .returning(|id| ready(Ok(Some(user(id.0, Role::Individual, None)))));
    store
        .expect_company_by_id()
        .returning(|id| ready(Ok(Some(company(id.0, 5)))));
    store
        .expect_update_user()
        .withf(|u| u.role == Role::Employee && u.company_id == Some(CompanyId(5)))
        .times(1)
        .returning(|_| ready(Ok(())));
    store
        .expect_delete_user_sessions()
        .times(1)
        .returning(|_| ready(Ok(1)));
    store
        .expect_record()
        .withf(|e| {
            e.action == "user.set_role" && e.actor == Some(UserId(1)) && e.target == "user:2"
        })
        .times(1)
        .returning(|_| ready(Ok(())));
    let admin = actor(1, Role::PlatformAdmin, None);
    block_on(accounts(store, hasher("")).set_role(
        &admin,
        UserId(2),
        Role::Employee,
        Some(CompanyId(5)),
    ))
    .unwrap();
}

#[test]
fn a_role_in_an_unknown_company_is_not_found_and_changes_nothing() {
    let mut store = MockStore::new();
    store
        .expect_user_by_id()
        .returning(|id| ready(Ok(Some(user(id.0, Role::Individual, None)))));
    store.expect_company_by_id().returning(|_| ready(Ok(None)));
    store.expect_update_user().never();
    let admin = actor(1, Role::PlatformAdmin, None);
    let set_role = block_on(accounts(store, hasher("")).set_role(
        &admin,
        UserId(2),
        Role::Employee,
        Some(CompanyId(404)),
    ));
    assert_eq!(set_role.unwrap_err(), AccountError::NotFound);
}

#[test]
fn password_change_needs_the_current_password_and_ends_other_sessions() {
    let mut store = MockStore::new();
    store
        .expect_user_by_id()
        .returning(|id| ready(Ok(Some(user(id.0, Role::Individual, None)))));
    store
        .expect_update_user()
        .times(1)
        .returning(|_| ready(Ok(())));
    store
        .expect_delete_user_sessions()
        .times(1)
        .returning(|_| ready(Ok(3)));
    store
        .expect_insert_session()
        .times(1)
        .returning(|_| ready(Ok(())));
    let service = accounts(store, hasher("right-password"));
    let me = actor(1, Role::Individual, None);
    let wrong = block_on(service.change_password(
        &me,
        "wrong-password",
        "new-password-1",
        SessionKind::Web,
    ));
    assert_eq!(wrong.unwrap_err(), AccountError::InvalidCredentials);
    block_on(service.change_password(&me, "right-password", "new-password-1", SessionKind::Web))
        .unwrap();
}

#[test]
fn managers_cannot_see_or_touch_another_company() {
    let service = companies(MockStore::new());
    let other_manager = actor(1, Role::CompanyManager, Some(99));
    let employee = actor(2, Role::Employee, Some(5));
    assert_eq!(
        block_on(service.members(&other_manager, CompanyId(5))).unwrap_err(),
        CompanyError::NotFound
    );
    assert_eq!(
        block_on(service.invite(&other_manager, CompanyId(5), "x@y.com", Role::Employee))
            .unwrap_err(),
        CompanyError::NotFound
    );
    assert_eq!(
        block_on(service.set_personal_cap(&other_manager, CompanyId(5), UserId(3), Some(1)))
            .unwrap_err(),
        CompanyError::NotFound
    );
    assert_eq!(
        block_on(service.remove_member(&other_manager, CompanyId(5), UserId(3))).unwrap_err(),
        CompanyError::NotFound
    );
    assert_eq!(
        block_on(service.members(&employee, CompanyId(5))).unwrap_err(),
        CompanyError::Forbidden
    );
    let draft = CompanyDraft {
        name: "New".into(),
        seat_limit: 3,
        plan_id: "team".into(),
        system_prompt: None,
    };
    assert_eq!(
        block_on(service.create(&other_manager, &draft)).unwrap_err(),
        CompanyError::Forbidden
    );
    assert_eq!(
        block_on(service.delete(&other_manager, CompanyId(99), "Acme")).unwrap_err(),
        CompanyError::Forbidden
    );
}

#[test]
fn a_member_of_another_company_is_not_found() {
    let mut store = MockStore::new();
    store
        .expect_company_by_id()
        .returning(|id| ready(Ok(Some(company(id.0, 10)))));
    store
        .expect_user_by_id()
        .returning(|id| ready(Ok(Some(user(id.0, Role::Employee, Some(6))))));
    store.expect_update_user().never();
    let manager = actor(1, Role::CompanyManager, Some(5));
    let err =
        block_on(companies(store).set_personal_cap(&manager, CompanyId(5), UserId(3), Some(10)));
    assert_eq!(err.unwrap_err(), CompanyError::NotFound);
}

#[test]
fn invitations_respect_the_seat_limit() {
    let mut store = MockStore::new();
    store
        .expect_company_by_id()
        .returning(|id| ready(Ok(Some(company(id.0, 3)))));
    store.expect_user_by_email().returning(|_| ready(Ok(None)));
    store
        .expect_count_company_members()
        .returning(|_| ready(Ok(2)));
    store.expect_invitations_of_company().returning(|c| {
        ready(Ok(vec![Invitation {
            token_hash: "t".into(),
            company_id: c,
            email: Email::parse("pending@x.com").unwrap(),
            role: Role::Employee,
            invited_by: UserId(1),
            created_at: now(),
            expires_at: now() + Duration::days(1),
            accepted_at: None,
        }]))
    });
    store.expect_insert_invitation().never();
    let manager = actor(1, Role::CompanyManager, Some(5));
    let err =
        block_on(companies(store).invite(&manager, CompanyId(5), "new@x.com", Role::Employee));
    assert_eq!(err.unwrap_err(), CompanyError::SeatLimitReached(3));
}

#[test]
fn invitations_work_once() {
    let mut store = MockStore::new();
    store.expect_invitation_by_hash().returning(|hash| {
        ready(Ok(Some(Invitation {
            token_hash: hash.to_string(),
            company_id: CompanyId(5),
            email: Email::parse("u7@x.com").unwrap(),
            role: Role::Employee,
            invited_by: UserId(1),
            created_at: now(),
            expires_at: now() + Duration::days(1),
            accepted_at: None,
        })))
    });
    store
        .expect_company_by_id()
        .returning(|id| ready(Ok(Some(company(id.0, 10)))));
    store
        .expect_count_company_members()
        .returning(|_| ready(Ok(1)));
    // Another request accepted it a moment ago.
    store
        .expect_mark_invitation_accepted()
        .returning(|_, _| ready(Ok(false)));
    store.expect_insert_user().never();
    let invitee = user(7, Role::Employee, Some(5));
    let err = block_on(companies(store).accept("link-secret", &invitee));
    assert_eq!(err.unwrap_err(), CompanyError::InvitationInvalid);
}

#[test]
fn an_invitation_cannot_be_used_for_another_role_or_company() {
    let mut store = MockStore::new();
    store.expect_invitation_by_hash().returning(|hash| {
        ready(Ok(Some(Invitation {
            token_hash: hash.to_string(),
            company_id: CompanyId(5),
            email: Email::parse("u7@x.com").unwrap(),
            role: Role::Employee,
            invited_by: UserId(1),
            created_at: now(),
            expires_at: now() + Duration::days(1),
            accepted_at: None,
        })))
    });
    store.expect_mark_invitation_accepted().never();
    store.expect_insert_user().never();
    let service = companies(store);
    let promoted = user(7, Role::CompanyManager, Some(5));
    assert_eq!(
        block_on(service.accept("s", &promoted)).unwrap_err(),
        CompanyError::InvitationInvalid
    );
    let elsewhere = user(7, Role::Employee, Some(6));
    assert_eq!(
        block_on(service.accept("s", &elsewhere)).unwrap_err(),
        CompanyError::InvitationInvalid
    );
}

#[test]
fn deleting_a_company_needs_its_exact_name() {
    let mut store = MockStore::new();
    store
        .expect_company_by_id()
        .returning(|id| ready(Ok(Some(company(id.0, 10)))));
    store.expect_delete_company().never();
    let admin = actor(1, Role::PlatformAdmin, None);
    let err = block_on(companies(store).delete(&admin, CompanyId(5), "acme"));
    assert!(matches!(err.unwrap_err(), CompanyError::InvalidInput(_)));
}

#[test]
fn company_drafts_are_validated() {
    let service = companies(MockStore::new());
    let admin = actor(1, Role::PlatformAdmin, None);
    for draft in [
        CompanyDraft {
            name: " ".into(),
            seat_limit: 3,
            plan_id: "team".into(),
            system_prompt: None,
        },
        CompanyDraft {
            name: "Ok".into(),
            seat_limit: 0,
            plan_id: "team".into(),
            system_prompt: None,
        },
        CompanyDraft {
            name: "Ok".into(),
            seat_limit: 3,
            plan_id: "free".into(),
            system_prompt: None,
        },
        CompanyDraft {
            name: "Ok".into(),
            seat_limit: 3,
            plan_id: "team".into(),
            system_prompt: Some("x".repeat(9_000)),
        },
    ] {
        assert!(
            matches!(
                block_on(service.create(&admin, &draft)).unwrap_err(),
                CompanyError::InvalidInput(_)
            ),
            "{draft:?}"
        );
    }
}

#[test]
fn a_custom_plan_is_only_for_its_own_company() {
    let mut store = MockStore::new();
    store
        .expect_company_by_id()
        .returning(|id| ready(Ok(Some(company(id.0, 3)))));
    let mut service = companies(store);
    let mut plans = (*service.catalog).clone();
    let mut custom = plans.get("team").unwrap().clone();
    custom.id = "acme-custom".into();
    custom.company_only = Some(5);
    plans.plans.push(custom);
    service.catalog = Arc::new(plans);
    let admin = actor(1, Role::PlatformAdmin, None);
    let draft = CompanyDraft {
        name: "Outra".into(),
        seat_limit: 3,
        plan_id: "acme-custom".into(),
        system_prompt: None,
    };
    // Neither a new company nor another one may take it (nothing is written).
    for refused in [
        block_on(service.create(&admin, &draft)),
        block_on(service.update(&admin, CompanyId(6), &draft)),
    ] {
        assert!(
            matches!(refused.unwrap_err(), CompanyError::InvalidInput(m) if m.contains("another company"))
        );
    }
}
