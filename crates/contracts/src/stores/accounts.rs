//! Contract cases for the account ports: users, companies, invitations, sessions and the audit
//! log.

use super::AllStores;
use crate::fixtures::{company, id, message, t0, user};
use chrono::Duration;
use domain::account::{Session, SessionKind};
use domain::audit::AuditEntry;
use domain::conversation::Author;
use domain::ports::*;
use domain::*;

pub async fn users_round_trip<S: AllStores>(s: S) {
    s.ping().await.unwrap();
    let mut u = user("ana@example.com", Role::Individual, None);
    u.personal_cap = Some(1234);
    u.locale = Locale::En;
    s.insert_user(&u).await.unwrap();
    assert_eq!(s.user_by_id(u.id).await.unwrap(), Some(u.clone()));
    assert_eq!(s.user_by_email(&u.email).await.unwrap(), Some(u.clone()));
    assert_eq!(s.user_by_id(UserId(id())).await.unwrap(), None);
    assert_eq!(s.count_users().await.unwrap(), 1);
}

pub async fn duplicate_email_conflicts<S: AllStores>(s: S) {
    let u = user("dup@example.com", Role::Individual, None);
    s.insert_user(&u).await.unwrap();
    let again = user("dup@example.com", Role::Employee, None);
    assert!(matches!(
        s.insert_user(&again).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.count_users().await.unwrap(), 1);
}

pub async fn update_and_delete_users<S: AllStores>(s: S) {
    let mut u = user("bia@example.com", Role::Individual, None);
    s.insert_user(&u).await.unwrap();
    u.display_name = "Bia <script>".into();
    u.disabled = true;
    s.update_user(&u).await.unwrap();
    assert_eq!(s.user_by_id(u.id).await.unwrap(), Some(u.clone()));
    let ghost = user("ghost@example.com", Role::Individual, None);
    assert_eq!(s.update_user(&ghost).await, Err(StoreError::NotFound));

    s.insert_session(&session(u.id, 60)).await.unwrap();
    s.insert_messages(&[message(u.id, Author::User, b"sealed")])
        .await
        .unwrap();
    s.delete_user(u.id).await.unwrap();
    assert_eq!(s.user_by_id(u.id).await.unwrap(), None);
    assert_eq!(
        s.delete_user_sessions(u.id).await.unwrap(),
        0,
        "sessions go with the user"
    );
    assert!(
        s.messages_page(u.id, None, 10).await.unwrap().is_empty(),
        "messages go with the user"
    );
    assert_eq!(s.delete_user(u.id).await, Err(StoreError::NotFound));
}

pub async fn user_search<S: AllStores>(s: S) {
    let acme = company("Acme");
    s.insert_company(&acme).await.unwrap();
    for (email, company) in [
        ("carla@acme.com", Some(acme.id)),
        ("dora@acme.com", Some(acme.id)),
        ("eva@solo.com", None),
    ] {
        let role = if company.is_some() {
            Role::Employee
        } else {
            Role::Individual
        };
        s.insert_user(&user(email, role, company)).await.unwrap();
    }
    let all = s
        .list_users(&UserQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let emails: Vec<&str> = all.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(emails, ["carla@acme.com", "dora@acme.com", "eva@solo.com"]);
    let q = |search: &str| UserQuery {
        search: Some(search.into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        s.list_users(&q("ACME")).await.unwrap().len(),
        2,
        "search ignores case"
    );
    assert_eq!(
        s.list_users(&q("%")).await.unwrap().len(),
        0,
        "wildcards are literal"
    );
    assert_eq!(
        s.list_users(&q("_")).await.unwrap().len(),
        0,
        "wildcards are literal"
    );
    let page = s
        .list_users(&UserQuery {
            offset: 1,
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page[0].email.as_str(), "dora@acme.com");
    let members = s
        .list_users(&UserQuery {
            company_id: Some(acme.id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(s.count_company_members(acme.id).await.unwrap(), 2);
}

pub async fn companies_round_trip<S: AllStores>(s: S) {
    let mut b = company("Beta Ltda");
    let a = company("Alfa S.A.");
    s.insert_company(&b).await.unwrap();
    s.insert_company(&a).await.unwrap();
    assert_eq!(s.company_by_id(b.id).await.unwrap(), Some(b.clone()));
    b.system_prompt = Some("Seja gentil.".into());
    b.seat_limit = 3;
    s.update_company(&b).await.unwrap();
    assert_eq!(s.company_by_id(b.id).await.unwrap(), Some(b.clone()));
    let names: Vec<String> = s
        .list_companies()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["Alfa S.A.", "Beta Ltda"]);
    assert_eq!(
        s.update_company(&company("Nope")).await,
        Err(StoreError::NotFound)
    );
}

pub async fn delete_company_cascades<S: AllStores>(s: S) {
    let acme = company("Acme");
    let other = company("Other");
    s.insert_company(&acme).await.unwrap();
    s.insert_company(&other).await.unwrap();
    let member = user("m@acme.com", Role::Employee, Some(acme.id));
    let outsider = user("o@other.com", Role::Employee, Some(other.id));
    s.insert_user(&member).await.unwrap();
    s.insert_user(&outsider).await.unwrap();
    s.insert_session(&session(member.id, 60)).await.unwrap();
    s.insert_session(&session(outsider.id, 60)).await.unwrap();
    s.insert_invitation(&invitation(acme.id, "new@acme.com", 60))
        .await
        .unwrap();
    s.delete_company(acme.id).await.unwrap();
    assert_eq!(s.company_by_id(acme.id).await.unwrap(), None);
    assert_eq!(s.user_by_id(member.id).await.unwrap(), None);
    assert!(s.invitations_of_company(acme.id).await.unwrap().is_empty());
    assert_eq!(s.delete_user_sessions(member.id).await.unwrap(), 0);
    assert!(
        s.user_by_id(outsider.id).await.unwrap().is_some(),
        "other companies untouched"
    );
    assert_eq!(s.delete_user_sessions(outsider.id).await.unwrap(), 1);
    assert_eq!(s.delete_company(acme.id).await, Err(StoreError::NotFound));
}

pub async fn invitations_accept_once<S: AllStores>(s: S) {
    let acme = company("Acme");
    s.insert_company(&acme).await.unwrap();
    let live = invitation(acme.id, "x@acme.com", 60);
    let stale = invitation(acme.id, "y@acme.com", -60);
    s.insert_invitation(&live).await.unwrap();
    s.insert_invitation(&stale).await.unwrap();
    assert_eq!(
        s.invitation_by_hash(&live.token_hash).await.unwrap(),
        Some(live.clone())
    );
    assert_eq!(s.invitations_of_company(acme.id).await.unwrap().len(), 2);
    assert!(
        s.mark_invitation_accepted(&live.token_hash, t0())
            .await
            .unwrap()
    );
    assert!(
        !s.mark_invitation_accepted(&live.token_hash, t0())
            .await
            .unwrap(),
        "only once"
    );
    assert!(!s.mark_invitation_accepted("unknown", t0()).await.unwrap());
    let accepted = s
        .invitation_by_hash(&live.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(accepted.accepted_at, Some(t0()));
    assert_eq!(s.purge_expired_invitations(t0()).await.unwrap(), 1);
    assert_eq!(s.invitation_by_hash(&stale.token_hash).await.unwrap(), None);
    s.delete_invitation(&live.token_hash).await.unwrap();
    assert_eq!(s.invitation_by_hash(&live.token_hash).await.unwrap(), None);
}

pub async fn sessions_lifecycle<S: AllStores>(s: S) {
    let person = user(&format!("s{}@x.test", id()), Role::Individual, None);
    s.insert_user(&person).await.unwrap();
    let u = person.id;
    let a = session(u, 60);
    let b = session(u, 60);
    let old = session(UserId(id()), -1);
    for x in [&a, &b, &old] {
        s.insert_session(x).await.unwrap();
    }
    assert_eq!(
        s.session_with_user(&a.token_hash).await.unwrap(),
        Some((a.clone(), person.clone()))
    );
    // A session whose person is gone opens nothing.
    assert_eq!(s.session_with_user(&old.token_hash).await.unwrap(), None);
    s.delete_session(&a.token_hash).await.unwrap();
    assert_eq!(s.session_with_user(&a.token_hash).await.unwrap(), None);
    assert_eq!(s.purge_expired_sessions(t0()).await.unwrap(), 1);
    assert_eq!(s.delete_user_sessions(u).await.unwrap(), 1);
    assert_eq!(s.session_with_user(&b.token_hash).await.unwrap(), None);
}

pub async fn sessions_with_recent_messages<S: AllStores>(s: S) {
    let person = user(&format!("r{}@x.test", id()), Role::Individual, None);
    let neighbour = user(&format!("n{}@x.test", id()), Role::Individual, None);
    for u in [&person, &neighbour] {
        s.insert_user(u).await.unwrap();
    }
    let mine = session(person.id, 60);
    let theirs = session(neighbour.id, 60);
    for x in [&mine, &theirs] {
        s.insert_session(x).await.unwrap();
    }
    // No messages yet: the session and the person still come, with an empty history.
    assert_eq!(
        s.session_with_recent_messages(&mine.token_hash, 3)
            .await
            .unwrap(),
        Some((mine.clone(), person.clone(), Vec::new()))
    );
    for i in 0..5u8 {
        let author = [Author::User, Author::Assistant][usize::from(i % 2)];
        s.insert_messages(&[message(person.id, author, &[i, 7])])
            .await
            .unwrap();
        s.insert_messages(&[message(neighbour.id, author, &[i, 9])])
            .await
            .unwrap();
    }
    let (session, found, recent) = s
        .session_with_recent_messages(&mine.token_hash, 3)
        .await
        .unwrap()
        .expect("a live session");
    assert_eq!((session, found), (mine.clone(), person.clone()));
    assert_eq!(
        recent,
        s.messages_page(person.id, None, 3).await.unwrap(),
        "the same three newest messages, newest first, and only the person's own"
    );
    assert_eq!(recent.len(), 3);
    assert_eq!(
        s.session_with_recent_messages("unknown", 3).await.unwrap(),
        None
    );
    s.delete_session(&mine.token_hash).await.unwrap();
    assert_eq!(
        s.session_with_recent_messages(&mine.token_hash, 3)
            .await
            .unwrap(),
        None,
        "signed out: no messages either"
    );
}

pub async fn audit_newest_first<S: AllStores>(s: S) {
    for minutes in [1, 3, 2] {
        s.record(&AuditEntry {
            id: AuditId(id()),
            at: t0() + Duration::minutes(minutes),
            actor: Some(UserId(7)),
            action: format!("action.{minutes}"),
            target: "company:1".into(),
            ip: Some("203.0.113.9".into()),
            detail: String::new(),
        })
        .await
        .unwrap();
    }
    let actions: Vec<String> = s
        .recent(0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["action.3", "action.2", "action.1"]);
    let second = s.recent(1, 1).await.unwrap();
    assert_eq!(second[0].action, "action.2");
    assert_eq!(second[0].ip.as_deref(), Some("203.0.113.9"));
}

fn session(user: UserId, minutes: i64) -> Session {
    Session {
        token_hash: format!("{:064x}", id()),
        user_id: user,
        kind: SessionKind::Web,
        csrf_token: format!("csrf-{}", id()),
        created_at: t0(),
        expires_at: t0() + Duration::minutes(minutes),
    }
}

fn invitation(company: CompanyId, email: &str, minutes: i64) -> Invitation {
    Invitation {
        token_hash: format!("{:064x}", id()),
        company_id: company,
        email: Email::parse(email).unwrap(),
        role: Role::Employee,
        invited_by: UserId(1),
        created_at: t0(),
        expires_at: t0() + Duration::minutes(minutes),
        accepted_at: None,
    }
}
