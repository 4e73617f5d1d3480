//! Which budgets apply to a person, and what they have left.

use crate::budget::{Balance, BudgetLine, Counter, LedgerError, Subject, TopUp, UsageSummary};
use crate::plan::PlanCatalog;
use crate::ports::{StoreError, UsageLedger};
use crate::{Company, Period, User};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    #[error("the company of this account no longer exists")]
    CompanyMissing,
    #[error("plan `{0}` is not in the catalog")]
    UnknownPlan(String),
    #[error(transparent)]
    Storage(#[from] StoreError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// The allowance period of `user` at `now`: the one of whoever pays, the company for its
/// members (`company` is theirs) and the person otherwise. Both the user and the company carry
/// their billing period, so this needs no query of its own.
pub fn allowance_period(user: &User, company: Option<&Company>, now: DateTime<Utc>) -> Period {
    let billing = if user.role.belongs_to_company() {
        company.and_then(|c| c.billing_period)
    } else {
        user.billing_period
    };
    Period::current(now, billing)
}

/// The budget lines a turn of `user` must fit in at `now`:
/// - an individual (or admin): their own allowance, with their top-ups;
/// - a company member: their personal cap (if any), and the company's pool with its top-ups.
pub fn budget_lines(
    catalog: &PlanCatalog,
    user: &User,
    company: Option<&Company>,
    now: DateTime<Utc>,
) -> Result<Vec<BudgetLine>, BudgetError> {
    let period = allowance_period(user, company, now);
    if user.role.belongs_to_company() {
        let company = company.ok_or(BudgetError::CompanyMissing)?;
        // Both lines run over the company's period (`allowance_period`).
        Ok(vec![
            BudgetLine {
                subject: Subject::User(user.id),
                period,
                allowance: user.personal_cap,
                may_use_topup: false,
            },
            pool_line(catalog, company, now)?,
        ])
    } else {
        let plan = catalog
            .get(&user.plan_id)
            .ok_or_else(|| BudgetError::UnknownPlan(user.plan_id.clone()))?;
        Ok(vec![BudgetLine {
            subject: Subject::User(user.id),
            period,
            allowance: Some(plan.allowance(1)),
            may_use_topup: true,
        }])
    }
}

/// What one line leaves: allowance plus usable top-ups, minus used and reserved.
pub fn line_summary(line: &BudgetLine, counter: Counter, topup: TopUp) -> UsageSummary {
    let limit = line.allowance.map(|allowance| {
        if line.may_use_topup {
            allowance + topup.balance
        } else {
            allowance
        }
    });
    let spent = counter.used
        + counter.reserved
        + if line.may_use_topup {
            topup.reserved
        } else {
            0
        };
    UsageSummary {
        used: counter.used,
        reserved: counter.reserved,
        limit,
        remaining: limit.map(|l| l.saturating_sub(spent)),
    }
}

/// The person's own usage with the tightest remaining allowance among the lines that apply.
pub async fn usage_summary<L: UsageLedger>(
    ledger: &L,
    catalog: &PlanCatalog,
    user: &User,
    company: Option<&Company>,
    now: DateTime<Utc>,
) -> Result<UsageSummary, BudgetError> {
    let lines = budget_lines(catalog, user, company, now)?;
    let mut balances = Vec::with_capacity(lines.len());
    for line in &lines {
        let counter = ledger.counter(line.subject, line.period.key()).await?;
        let topup = if line.may_use_topup {
            ledger.topup(line.subject).await?
        } else {
            TopUp::default()
        };
        balances.push(Balance { counter, topup });
    }
    Ok(summarize(user, &lines, &balances))
}

/// [`usage_summary`] from balances already read: the person's own line's usage, and the
/// tightest remaining allowance among `lines` (`balances` in the same order).
pub fn summarize(user: &User, lines: &[BudgetLine], balances: &[Balance]) -> UsageSummary {
    let mut own: Option<UsageSummary> = None;
    let mut tightest: Option<UsageSummary> = None;
    for (line, balance) in lines.iter().zip(balances) {
        let summary = line_summary(line, balance.counter, balance.topup);
        if line.subject == Subject::User(user.id) {
            own = Some(summary);
        }
        let tighter = match (tightest.and_then(|t| t.remaining), summary.remaining) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(current), Some(candidate)) => candidate < current,
        };
        if tighter || tightest.is_none() {
            tightest = Some(summary);
        }
    }
    let own = own.unwrap_or_default();
    let tightest = tightest.unwrap_or_default();
    UsageSummary {
        used: own.used,
        reserved: own.reserved,
        limit: tightest.limit,
        remaining: tightest.remaining,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Plan, PlanAudience};
    use crate::{CompanyId, Email, Locale, Role, UserId};

    pub(crate) fn catalog() -> PlanCatalog {
        PlanCatalog {
            plans: vec![
                Plan {
                    id: "free".into(),
                    name: "Free".into(),
                    audience: PlanAudience::Individual,
                    monthly_tokens: 1_000,
                    tokens_per_seat: 0,
                    price_id: None,
                    company_only: None,
                    interval: Default::default(),
                },
                Plan {
                    id: "team".into(),
                    name: "Team".into(),
                    audience: PlanAudience::Company,
                    monthly_tokens: 0,
                    tokens_per_seat: 500,
                    price_id: None,
                    company_only: None,
                    interval: Default::default(),
                },
            ],
            default_individual: "free".into(),
            default_company: "team".into(),
            packs: Vec::new(),
        }
    }

    fn user(role: Role, cap: Option<u64>) -> User {
        User {
            id: UserId(1),
            email: Email::parse("a@b.co").unwrap(),
            display_name: "A".into(),
            password_hash: String::new(),
            role,
            company_id: role.belongs_to_company().then_some(CompanyId(9)),
            personal_cap: cap,
            plan_id: "free".into(),
            locale: Locale::PtBr,
            disabled: false,
            created_at: Utc::now(),
            billing_period: None,
        }
    }

    fn company() -> Company {
        Company {
            id: CompanyId(9),
            name: "Acme".into(),
            seat_limit: 4,
            plan_id: "team".into(),
            system_prompt: None,
            created_at: Utc::now(),
            billing_period: None,
        }
    }

    #[test]
    fn individual_has_one_line_with_topups() {
        let lines =
            budget_lines(&catalog(), &user(Role::Individual, None), None, Utc::now()).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].allowance, Some(1_000));
        assert!(lines[0].may_use_topup);
    }

    #[test]
    fn employee_has_personal_cap_and_company_pool() {
        let lines = budget_lines(
            &catalog(),
            &user(Role::Employee, Some(300)),
            Some(&company()),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].subject, Subject::User(UserId(1)));
        assert_eq!(lines[0].allowance, Some(300));
        assert!(!lines[0].may_use_topup);
        assert_eq!(lines[1].subject, Subject::Company(CompanyId(9)));
        assert_eq!(lines[1].allowance, Some(2_000));
    }

    #[test]
    fn employee_without_company_is_refused() {
        let err = budget_lines(&catalog(), &user(Role::Employee, None), None, Utc::now());
        assert_eq!(err, Err(BudgetError::CompanyMissing));
    }

    fn day(month: u32, day: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, month, day, 10, 0, 0).unwrap()
    }

    fn invoice(from_month: u32) -> Period {
        Period {
            start: day(from_month, 15),
            end: day(from_month + 1, 15),
        }
    }

    #[test]
    fn a_subscriber_s_allowance_follows_the_invoice_period() {
        let mut person = user(Role::Individual, None);
        person.billing_period = Some(invoice(3));
        let line = |who: &User, at| budget_lines(&catalog(), who, None, at).unwrap()[0].period;
        // Usage on the 20th counts against the invoice period.
        assert_eq!(line(&person, day(3, 20)), invoice(3));
        // On the 1st of the next month, still inside it: the same counter, no reset.
        let first = day(4, 1) - chrono::Duration::hours(10);
        assert_eq!(line(&person, first).key(), invoice(3).key());
        assert_eq!(allowance_period(&person, None, first), invoice(3));
        // The next invoice starts a fresh counter.
        person.billing_period = Some(invoice(4));
        assert_eq!(line(&person, day(4, 20)), invoice(4));
        assert_ne!(invoice(4).key(), invoice(3).key());
        // The subscription ended: the calendar month again.
        person.billing_period = None;
        assert_eq!(line(&person, day(5, 20)).label(), "2026-05");
    }

    #[test]
    fn members_follow_the_company_s_invoice_period() {
        let mut acme = company();
        acme.billing_period = Some(invoice(3));
        let employee = user(Role::Employee, Some(300));
        let lines = budget_lines(&catalog(), &employee, Some(&acme), day(4, 1)).unwrap();
        assert!(lines.iter().all(|l| l.period == invoice(3)), "{lines:?}");
        assert_eq!(
            allowance_period(&employee, Some(&acme), day(4, 1)),
            invoice(3)
        );
        // Without one, the calendar month.
        let lines = budget_lines(&catalog(), &employee, Some(&company()), day(4, 1)).unwrap();
        assert!(lines.iter().all(|l| l.period.label() == "2026-04"));
    }

    #[test]
    fn summary_counts_topups_in_limit() {
        let line =
            &budget_lines(&catalog(), &user(Role::Individual, None), None, Utc::now()).unwrap()[0];
        let s = line_summary(
            line,
            Counter {
                used: 900,
                reserved: 50,
            },
            TopUp {
                balance: 200,
                reserved: 0,
            },
        );
        assert_eq!(s.limit, Some(1_200));
        assert_eq!(s.remaining, Some(250));
    }
}

/// A company's pool this period, and each member's own usage (token counts only, never text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyUsage {
    pub pool: UsageSummary,
    pub members: Vec<(crate::UserId, Counter)>,
}

/// The company's shared pool as a budget line at `now`.
fn pool_line(
    catalog: &PlanCatalog,
    company: &Company,
    now: DateTime<Utc>,
) -> Result<BudgetLine, BudgetError> {
    let plan = catalog
        .get(&company.plan_id)
        .ok_or_else(|| BudgetError::UnknownPlan(company.plan_id.clone()))?;
    Ok(BudgetLine {
        subject: Subject::Company(company.id),
        period: Period::current(now, company.billing_period),
        allowance: Some(plan.allowance(company.seat_limit)),
        may_use_topup: true,
    })
}

/// Each company's pool at `now`, for lists: one counter query per distinct period (usually one)
/// and one top-up query, rather than two queries per company. A company whose plan is not in
/// the catalog shows an empty summary. Callers authorise first.
pub async fn company_pools<L: UsageLedger>(
    ledger: &L,
    catalog: &PlanCatalog,
    companies: &[Company],
    now: DateTime<Utc>,
) -> Result<Vec<UsageSummary>, BudgetError> {
    let lines: Vec<Option<BudgetLine>> = companies
        .iter()
        .map(|company| pool_line(catalog, company, now).ok())
        .collect();
    let mut by_period: std::collections::BTreeMap<i64, Vec<Subject>> = Default::default();
    for line in lines.iter().flatten() {
        by_period
            .entry(line.period.key())
            .or_default()
            .push(line.subject);
    }
    let mut counters = std::collections::HashMap::new();
    for (period_key, subjects) in by_period {
        for (subject, counter) in ledger.counters_in_period(subjects, period_key).await? {
            counters.insert(subject, counter);
        }
    }
    let subjects = lines.iter().flatten().map(|l| l.subject).collect();
    let topups: std::collections::HashMap<Subject, TopUp> =
        ledger.topups_of(subjects).await?.into_iter().collect();
    Ok(lines
        .iter()
        .map(|line| {
            line.as_ref().map_or_else(UsageSummary::default, |line| {
                let counter = counters.get(&line.subject).copied().unwrap_or_default();
                let topup = topups.get(&line.subject).copied().unwrap_or_default();
                line_summary(line, counter, topup)
            })
        })
        .collect())
}

/// The company's usage at `now`. Callers authorise first (the company service's `company`).
pub async fn company_usage<L: UsageLedger>(
    ledger: &L,
    catalog: &PlanCatalog,
    company: &Company,
    members: &[User],
    now: DateTime<Utc>,
) -> Result<CompanyUsage, BudgetError> {
    let line = pool_line(catalog, company, now)?;
    let counter = ledger.counter(line.subject, line.period.key()).await?;
    let topup = ledger.topup(line.subject).await?;
    let subjects = members.iter().map(|m| Subject::User(m.id)).collect();
    let counters = ledger
        .counters_in_period(subjects, line.period.key())
        .await?;
    let members = members
        .iter()
        .map(|m| {
            let counter = counters
                .iter()
                .find(|(s, _)| *s == Subject::User(m.id))
                .map(|(_, c)| *c)
                .unwrap_or_default();
            (m.id, counter)
        })
        .collect();
    Ok(CompanyUsage {
        pool: line_summary(&line, counter, topup),
        members,
    })
}
