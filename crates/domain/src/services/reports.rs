//! Monthly usage reports per company: what a report holds (one CSV row per person and a total)
//! and who may download it (the platform admin for any company, a manager for their own).

use super::{Env, audit};
use crate::ports::{AuditLog, CompanyMembers, CompanyStore, ReportArchive, StoreError};
use crate::{Actor, CompanyId, Period, Role, UserId};
use chrono::{TimeZone, Utc};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("not allowed")]
    Forbidden,
    /// Also what another company's manager gets, so ids of other companies reveal nothing.
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    InvalidInput(&'static str),
    #[error(transparent)]
    Storage(StoreError),
}

impl From<StoreError> for ReportError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ReportError::NotFound,
            other => ReportError::Storage(other),
        }
    }
}

/// The calendar month named by a `2026-03` label, as used in report file names and URLs.
pub fn report_month(label: &str) -> Result<Period, ReportError> {
    const BAD: ReportError = ReportError::InvalidInput("month must look like 2026-03");
    let (year, month) = label.split_once('-').ok_or(BAD)?;
    if year.len() != 4 || month.len() != 2 {
        return Err(BAD);
    }
    let year: i32 = year.parse().map_err(|_| BAD)?;
    let month: u32 = month.parse().map_err(|_| BAD)?;
    let start = Utc
        .with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .ok_or(BAD)?;
    Ok(Period::calendar_month(start))
}

/// The report's CSV: `user_id,email,name,role,used_tokens`, one row per member (0 for a member
/// absent from `usage`), then the total.
pub fn render_csv(company: &CompanyMembers, usage: &HashMap<UserId, u64>) -> Vec<u8> {
    use std::fmt::Write;
    // A rollover renders a million rows: numbers are written in place, not through temporary
    // strings. Writing to a `String` cannot fail.
    let mut out = String::with_capacity(64 + company.people.len() * 64);
    out.push_str("user_id,email,name,role,used_tokens\n");
    let mut total: u64 = 0;
    for person in &company.people {
        let used = usage.get(&person.user_id).copied().unwrap_or(0);
        total = total.saturating_add(used);
        let _ = write!(out, "{}", person.user_id.0);
        for field in [
            person.email.as_str(),
            person.display_name.as_str(),
            person.role.as_str(),
        ] {
            out.push(',');
            push_field(&mut out, field);
        }
        let _ = writeln!(out, ",{used}");
    }
    let _ = writeln!(out, "total,,,,{total}");
    out.into_bytes()
}

/// Quotes a field when it needs it, and defuses spreadsheet formulas: names are typed by people,
/// and a cell starting with `=` would run in the manager's spreadsheet.
fn push_field(out: &mut String, field: &str) {
    let formula = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if !formula && !field.contains([',', '"', '\n', '\r']) {
        out.push_str(field);
        return;
    }
    out.push('"');
    if formula {
        out.push('\'');
    }
    out.push_str(&field.replace('"', "\"\""));
    out.push('"');
}

/// Lists and serves the stored reports, refusing anyone but the admin and the company's manager.
pub struct ReportService<R, A, C, E> {
    pub archive: Arc<R>,
    pub audit: Arc<A>,
    pub companies: Arc<C>,
    pub env: Arc<E>,
}

impl<R, A, C, E> Clone for ReportService<R, A, C, E> {
    fn clone(&self) -> Self {
        ReportService {
            archive: self.archive.clone(),
            audit: self.audit.clone(),
            companies: self.companies.clone(),
            env: self.env.clone(),
        }
    }
}

impl<R, A, C, E> ReportService<R, A, C, E>
where
    R: ReportArchive,
    A: AuditLog,
    C: CompanyStore,
    E: Env,
{
    async fn authorise(&self, actor: &Actor, company: CompanyId) -> Result<(), ReportError> {
        if !actor.can_manage_company(company) {
            return Err(if actor.role == Role::CompanyManager {
                ReportError::NotFound
            } else {
                ReportError::Forbidden
            });
        }
        // The admin may name any company, but only one that exists.
        self.companies
            .company_by_id(company)
            .await?
            .map(|_| ())
            .ok_or(ReportError::NotFound)
    }

    /// Months with a report for the company, newest first.
    pub async fn months(
        &self,
        actor: &Actor,
        company: CompanyId,
    ) -> Result<Vec<String>, ReportError> {
        self.authorise(actor, company).await?;
        Ok(self.archive.list_reports(company).await?)
    }

    /// The CSV of the company's report for `period`. Per-person usage is personal data, so each
    /// download is audited.
    pub async fn download(
        &self,
        actor: &Actor,
        company: CompanyId,
        period: Period,
    ) -> Result<Vec<u8>, ReportError> {
        self.authorise(actor, company).await?;
        let csv = self
            .archive
            .get_report(company, period)
            .await?
            .ok_or(ReportError::NotFound)?;
        audit(
            &*self.audit,
            &*self.env,
            actor,
            "report.download",
            format!("company:{company}"),
            period.label(),
        )
        .await?;
        Ok(csv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{Member, MockAuditLog, MockCompanyStore, MockReportArchive};
    use crate::services::tests::{TestEnv, ready};
    use futures::executor::block_on;
    use std::sync::atomic::AtomicI64;

    fn actor(role: Role, company: Option<i64>) -> Actor {
        Actor {
            user_id: UserId(1),
            role,
            company_id: company.map(CompanyId),
            ip: None,
        }
    }

    /// Company 9 exists; no other does.
    fn service(
        archive: MockReportArchive,
        audit: MockAuditLog,
    ) -> ReportService<MockReportArchive, MockAuditLog, MockCompanyStore, TestEnv> {
        let mut companies = MockCompanyStore::new();
        companies.expect_company_by_id().returning(|id| {
            ready(Ok((id == CompanyId(9)).then(|| crate::Company {
                id,
                name: "Nove".into(),
                seat_limit: 5,
                plan_id: "company-basic".into(),
                system_prompt: None,
                created_at: Utc::now(),
                billing_period: None,
            })))
        });
        ReportService {
            archive: Arc::new(archive),
            audit: Arc::new(audit),
            companies: Arc::new(companies),
            env: Arc::new(TestEnv {
                next: AtomicI64::new(1),
            }),
        }
    }

    #[test]
    fn months_parse_strictly() {
        assert_eq!(report_month("2026-03").unwrap().label(), "2026-03");
        for bad in ["2026-3", "2026-13", "26-03", "2026/03", "../../etc", ""] {
            assert!(report_month(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn csv_has_a_row_per_person_and_a_total_and_no_formulas() {
        let person = |id, name: &str| Member {
            user_id: UserId(id),
            email: format!("p{id}@example.com"),
            display_name: name.into(),
            role: Role::Employee,
        };
        let company = CompanyMembers {
            company_id: CompanyId(7),
            people: vec![
                person(1, "Ana"),
                person(2, "Silva, \"Bia\""),
                person(3, "=HYPERLINK(\"x\")"),
            ],
        };
        // Bia has no counter this month; user 4 is not a member.
        let usage = HashMap::from([(UserId(1), 10), (UserId(3), 5), (UserId(4), 99)]);
        let csv = render_csv(&company, &usage);
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "user_id,email,name,role,used_tokens\n\
             1,p1@example.com,Ana,employee,10\n\
             2,p2@example.com,\"Silva, \"\"Bia\"\"\",employee,0\n\
             3,p3@example.com,\"'=HYPERLINK(\"\"x\"\")\",employee,5\n\
             total,,,,15\n"
        );
    }

    #[test]
    fn admin_downloads_any_company_and_it_is_audited() {
        let period = report_month("2026-03").unwrap();
        let mut archive = MockReportArchive::new();
        archive
            .expect_get_report()
            .withf(move |c, p| *c == CompanyId(9) && *p == period)
            .returning(|_, _| ready(Ok(Some(b"csv".to_vec()))));
        let mut audit = MockAuditLog::new();
        audit
            .expect_record()
            .withf(|e| e.action == "report.download" && e.detail == "2026-03")
            .times(1)
            .returning(|_| ready(Ok(())));
        let csv = block_on(service(archive, audit).download(
            &actor(Role::PlatformAdmin, None),
            CompanyId(9),
            period,
        ));
        assert_eq!(csv.unwrap(), b"csv");
    }

    #[test]
    fn manager_gets_only_their_own_company() {
        let period = report_month("2026-03").unwrap();
        let mut archive = MockReportArchive::new();
        archive
            .expect_list_reports()
            .returning(|_| ready(Ok(vec!["2026-03".into()])));
        let mut audit = MockAuditLog::new();
        audit.expect_record().returning(|_| ready(Ok(())));
        archive
            .expect_get_report()
            .withf(|c, _| *c == CompanyId(9))
            .returning(|_, _| ready(Ok(Some(b"csv".to_vec()))));
        let reports = service(archive, audit);
        let own = actor(Role::CompanyManager, Some(9));
        assert_eq!(
            block_on(reports.months(&own, CompanyId(9))).unwrap(),
            vec!["2026-03"]
        );
        assert!(block_on(reports.download(&own, CompanyId(9), period)).is_ok());
        // The mocks panic if a refused call reaches them.
        let other = actor(Role::CompanyManager, Some(8));
        assert_eq!(
            block_on(reports.download(&other, CompanyId(9), period)),
            Err(ReportError::NotFound)
        );
        assert_eq!(
            block_on(reports.months(&other, CompanyId(9))),
            Err(ReportError::NotFound)
        );
        let employee = actor(Role::Employee, Some(9));
        assert_eq!(
            block_on(reports.download(&employee, CompanyId(9), period)),
            Err(ReportError::Forbidden)
        );
    }

    #[test]
    fn missing_report_is_not_found() {
        let mut archive = MockReportArchive::new();
        archive
            .expect_get_report()
            .returning(|_, _| ready(Ok(None)));
        let reports = service(archive, MockAuditLog::new());
        assert_eq!(
            block_on(reports.download(
                &actor(Role::PlatformAdmin, None),
                CompanyId(9),
                report_month("2026-02").unwrap()
            )),
            Err(ReportError::NotFound)
        );
        // The admin naming a company that does not exist: not found, the archive never asked.
        assert_eq!(
            block_on(
                service(MockReportArchive::new(), MockAuditLog::new())
                    .months(&actor(Role::PlatformAdmin, None), CompanyId(8))
            ),
            Err(ReportError::NotFound)
        );
    }
}
