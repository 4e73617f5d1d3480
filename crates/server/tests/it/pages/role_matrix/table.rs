//! Every route of the router and who may use it: the one place to add a route to.
//!
//! Rows run in this order (the allowed calls change the data later rows see: the session
//! enders come last). `{name}` in a URL or body is filled by [`super::Fixture::values`]:
//! `{alfa}` company Alfa, `{doomed}` a company to delete, `{member}` Alfa's employee,
//! `{leaver}` an Alfa employee to remove, `{invitation}` a pending invitation to Alfa, `{target}`
//! an individual for the admin's user actions, `{doc}` a library document, `{password}` the
//! caller's password, `{seq}` a number new at every call (so every allowed call changes its row).

use super::Who::{self, *};

pub const SIGNED: &[Who] = &[Admin, Manager, Employee, Individual, OtherManager];
const ADMIN: &[Who] = &[Admin];
/// Alfa's manager, and the admin acting for any company.
const ALFA: &[Who] = &[Admin, Manager];
/// Who pays: individuals for themselves, managers for their company.
const PAYERS: &[Who] = &[Manager, Individual, OtherManager];

pub enum Body {
    None,
    /// A page form; the caller's CSRF token is added.
    Form(&'static [(&'static str, &'static str)]),
    Json(&'static str),
    /// A file upload's raw bytes.
    File(&'static str),
}

pub enum Access {
    /// Only these roles may; everyone else (the anonymous visitor too) is refused.
    Roles(&'static [Who]),
    /// Not part of the admin, manager, employee or individual areas: open to visitors, covered
    /// by the tests named.
    Outside(&'static str),
}

/// What an allowed call does to the caller's own session.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum After {
    Nothing,
    /// The session is gone (signed out, token revoked, or replaced at a password change).
    EndsSession,
    /// The password is now [`super::NEW_PASSWORD`] (and the session was replaced).
    NewPassword,
}

pub struct Case {
    pub method: &'static str,
    /// The router's pattern.
    pub route: &'static str,
    /// What is requested, with `{placeholder}`s.
    pub url: &'static str,
    pub body: Body,
    pub access: Access,
    /// The tables each allowed call changes, and no others; `name?`: may change.
    pub changes: &'static [&'static str],
    pub after: After,
}

const fn case(method: &'static str, route: &'static str, url: &'static str, body: Body) -> Case {
    Case {
        method,
        route,
        url,
        body,
        access: Access::Outside(""),
        changes: &[],
        after: After::Nothing,
    }
}

const fn get(route: &'static str, url: &'static str, who: &'static [Who]) -> Case {
    case("GET", route, url, Body::None).by(who)
}

const fn form(
    route: &'static str,
    url: &'static str,
    fields: &'static [(&'static str, &'static str)],
    who: &'static [Who],
    changes: &'static [&'static str],
) -> Case {
    case("POST", route, url, Body::Form(fields))
        .by(who)
        .changing(changes)
}

const fn outside(method: &'static str, route: &'static str, covered_by: &'static str) -> Case {
    Case {
        access: Access::Outside(covered_by),
        ..case(method, route, route, Body::None)
    }
}

impl Case {
    const fn by(self, who: &'static [Who]) -> Case {
        Case {
            access: Access::Roles(who),
            ..self
        }
    }

    const fn changing(self, changes: &'static [&'static str]) -> Case {
        Case { changes, ..self }
    }

    const fn then(self, after: After) -> Case {
        Case { after, ..self }
    }
}

/// A whole safety plan, as `PUT /api/v1/safety-plan` takes it.
const PLAN_JSON: &str = r#"{"warning_signs": "Não durmo {seq}", "coping_strategies": "Caminhar",
    "distractions": "", "people_to_ask": "", "professionals": "CVV 188",
    "safe_environment": "", "reasons_for_living": "Minha filha"}"#;

const AUDITED_USER: &[&str] = &["audit_log", "users"];
const AUDITED_COMPANY: &[&str] = &["audit_log", "companies"];

pub const CASES: &[Case] = &[
    // Pages: reading changes nothing.
    get("/chat", "/chat", SIGNED),
    get("/profile", "/profile", SIGNED),
    get("/plans", "/plans", SIGNED),
    get("/admin", "/admin", ADMIN),
    // The user search.
    get("/admin", "/admin?q=alfa", ADMIN),
    get("/admin/audit", "/admin/audit", ADMIN),
    get("/admin/companies/{id}", "/admin/companies/{alfa}", ADMIN),
    // Managers see their own company; the admin must say which.
    get("/manager", "/manager", &[Manager, OtherManager]),
    get("/manager", "/manager?company={alfa}", ALFA),
    // The API's reads.
    get(
        "/api/v1/companies/{id}/reports",
        "/api/v1/companies/{alfa}/reports",
        ALFA,
    ),
    get("/api/v1/me", "/api/v1/me", SIGNED),
    get("/api/v1/chat/history", "/api/v1/chat/history", SIGNED),
    get(
        "/api/v1/chat/export",
        "/api/v1/chat/export?format=md",
        SIGNED,
    ),
    get(
        "/api/v1/library/documents",
        "/api/v1/library/documents",
        ADMIN,
    ),
    // Everyone chats (the offline responder answers) and pays from their own budget; the
    // payer's first turn creates its (empty) top-up row.
    case(
        "POST",
        "/api/v1/chat",
        "/api/v1/chat",
        Body::Json(r#"{"message": "Como lidar com a ansiedade no trabalho?"}"#),
    )
    .by(SIGNED)
    .changing(&["messages", "topups?", "usage_counters"]),
    // The company manager's actions, on Alfa.
    form(
        "/manager/invite",
        "/manager/invite",
        &[
            ("company", "{alfa}"),
            ("email", "novo-{seq}@alfa.test"),
            ("role", "employee"),
        ],
        ALFA,
        &["audit_log", "invitations"],
    ),
    form(
        "/manager/members/{id}/cap",
        "/manager/members/{member}/cap",
        &[("company", "{alfa}"), ("cap", "5{seq}")],
        ALFA,
        AUDITED_USER,
    ),
    form(
        "/manager/members/{id}/remove",
        "/manager/members/{leaver}/remove",
        &[("company", "{alfa}")],
        ALFA,
        AUDITED_USER,
    ),
    form(
        "/manager/invitations/revoke",
        "/manager/invitations/revoke",
        &[("company", "{alfa}"), ("token_hash", "{invitation}")],
        ALFA,
        &["audit_log", "invitations"],
    ),
    // The admin's actions.
    form(
        "/admin/companies",
        "/admin/companies",
        &[
            ("name", "Nova {seq}"),
            ("seats", "3"),
            ("plan", "company-basic"),
        ],
        ADMIN,
        AUDITED_COMPANY,
    ),
    // Editing moves Alfa to its custom plan.
    form(
        "/admin/companies/{id}",
        "/admin/companies/{alfa}",
        &[
            ("name", "Alfa Ltda"),
            ("seats", "20"),
            ("plan", "alfa-sob-medida"),
            ("system_prompt", "Fale com calma."),
        ],
        ADMIN,
        AUDITED_COMPANY,
    ),
    form(
        "/admin/companies/{id}/tokens",
        "/admin/companies/{alfa}/tokens",
        &[("tokens", "1{seq}")],
        ADMIN,
        &["audit_log", "topups"],
    ),
    form(
        "/admin/users/{id}/plan",
        "/admin/users/{target}/plan",
        &[("plan", "plus")],
        ADMIN,
        AUDITED_USER,
    ),
    form(
        "/admin/users/{id}/tokens",
        "/admin/users/{target}/tokens",
        &[("tokens", "1{seq}")],
        ADMIN,
        &["audit_log", "topups"],
    ),
    form(
        "/admin/users/{id}/disabled",
        "/admin/users/{target}/disabled",
        &[("disabled", "true")],
        ADMIN,
        AUDITED_USER,
    ),
    form(
        "/admin/users/{id}/role",
        "/admin/users/{target}/role",
        &[("role", "employee"), ("company", "{alfa}")],
        ADMIN,
        AUDITED_USER,
    ),
    form(
        "/admin/companies/{id}/delete",
        "/admin/companies/{doomed}/delete",
        &[("confirm", "Gama Ltda")],
        ADMIN,
        AUDITED_COMPANY,
    ),
    // The library (admins only).
    case(
        "POST",
        "/api/v1/library/uploads",
        "/api/v1/library/uploads?name=nota-{seq}.txt",
        Body::File("Nota {seq}: respirar devagar ajuda a atravessar a ansiedade."),
    )
    .by(ADMIN)
    .changing(&["audit_log", "documents", "passages"]),
    case(
        "DELETE",
        "/api/v1/library/documents/{id}",
        "/api/v1/library/documents/{doc}",
        Body::None,
    )
    .by(ADMIN)
    .changing(&["audit_log", "documents", "passages"]),
    // Buying: the provider's page; nothing changes until it reports a payment.
    form(
        "/plans/checkout",
        "/plans/checkout",
        &[("kind", "pack"), ("item", "pack-100k")],
        PAYERS,
        &[],
    ),
    case(
        "POST",
        "/api/v1/billing/checkout",
        "/api/v1/billing/checkout",
        Body::Json(r#"{"kind": "pack", "price": "pack-100k"}"#),
    )
    .by(PAYERS),
    form("/plans/portal", "/plans/portal", &[], PAYERS, &[]),
    case(
        "POST",
        "/api/v1/billing/portal",
        "/api/v1/billing/portal",
        Body::Json("{}"),
    )
    .by(PAYERS),
    // Each person's own data and settings.
    // The safety plan: the API writes, reads and deletes it, then the page saves one again so
    // the export and the delete form find it.
    get("/safety-plan", "/safety-plan", SIGNED),
    get("/grounding", "/grounding", SIGNED),
    case(
        "PUT",
        "/api/v1/safety-plan",
        "/api/v1/safety-plan",
        Body::Json(PLAN_JSON),
    )
    .by(SIGNED)
    .changing(&["safety_plans"]),
    get("/api/v1/safety-plan", "/api/v1/safety-plan", SIGNED),
    case(
        "DELETE",
        "/api/v1/safety-plan",
        "/api/v1/safety-plan",
        Body::None,
    )
    .by(SIGNED)
    .changing(&["safety_plans"]),
    form(
        "/safety-plan",
        "/safety-plan",
        &[
            ("warning_signs", "Não durmo {seq}"),
            ("coping_strategies", "Respirar devagar"),
            ("distractions", ""),
            ("people_to_ask", "Minha irmã"),
            ("professionals", "CVV 188"),
            ("safe_environment", ""),
            ("reasons_for_living", "Meu cachorro"),
        ],
        SIGNED,
        &["safety_plans"],
    ),
    get("/safety-plan/export", "/safety-plan/export", SIGNED),
    form(
        "/safety-plan/delete",
        "/safety-plan/delete",
        &[("confirm", "yes")],
        SIGNED,
        &["safety_plans"],
    ),
    case(
        "DELETE",
        "/api/v1/chat/history",
        "/api/v1/chat/history",
        Body::None,
    )
    .by(SIGNED)
    .changing(&["messages"]),
    form(
        "/profile/language",
        "/profile/language",
        &[("locale", "en")],
        SIGNED,
        &["users"],
    ),
    form(
        "/profile/password",
        "/profile/password",
        &[("current", "{password}"), ("new", super::NEW_PASSWORD)],
        SIGNED,
        &["sessions", "users"],
    )
    .then(After::NewPassword),
    case(
        "DELETE",
        "/api/v1/auth/token",
        "/api/v1/auth/token",
        Body::None,
    )
    .by(SIGNED)
    .changing(&["sessions"])
    .then(After::EndsSession),
    form("/signout", "/signout", &[], SIGNED, &["sessions"]).then(After::EndsSession),
    // Outside the areas.
    outside(
        "GET",
        "/",
        "pages.rs sign_up_chat_page_profile_and_sign_out",
    ),
    outside("GET", "/signin", "pages.rs"),
    outside("POST", "/signin", "pages.rs, the sign-in rate limit"),
    outside("GET", "/signup", "pages.rs"),
    outside("POST", "/signup", "pages.rs"),
    outside("GET", "/invite/{secret}", "mail.rs, invitations"),
    outside("POST", "/invite/{secret}", "mail.rs, invitations"),
    outside("GET", "/static/{file}", "server.rs"),
    outside("GET", "/healthz", "server.rs"),
    outside("GET", "/readyz", "server.rs"),
    outside("GET", "/metrics", "server.rs"),
    outside("GET", "/api/v1/openapi.json", "openapi.rs"),
    outside("POST", "/api/v1/auth/token", "server.rs, limits.rs"),
    outside("POST", "/api/v1/billing/webhook", "billing.rs"),
    // Report downloads need a report the scheduler wrote: reports.rs writes one with the real
    // job and tries every role on both routes.
    outside("GET", "/manager/reports/{file}", "reports.rs"),
    outside(
        "GET",
        "/api/v1/companies/{id}/reports/{month}",
        "reports.rs",
    ),
];
