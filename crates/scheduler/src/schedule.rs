//! When each job is due: the cron expressions of `[scheduler]` (five fields, UTC).

use crate::Job;
use app::settings::SchedulerSettings;
use chrono::{DateTime, Utc};
use croner::Cron;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
#[error("configuration: scheduler.{job}: `{expression}` is not a cron expression ({message})")]
pub struct ScheduleError {
    job: &'static str,
    expression: String,
    message: String,
}

pub struct Schedule {
    entries: Vec<(Job, Cron)>,
}

impl Schedule {
    pub fn from_settings(settings: &SchedulerSettings) -> Result<Schedule, ScheduleError> {
        let entries = Job::ALL
            .into_iter()
            .map(|job| {
                let expression = match job {
                    Job::CloseMonth => &settings.rollover,
                    Job::Reclaim => &settings.reclaim,
                    Job::Purge => &settings.purge,
                    Job::Report => &settings.report,
                };
                parse(job, expression).map(|cron| (job, cron))
            })
            .collect::<Result<_, _>>()?;
        Ok(Schedule { entries })
    }

    /// The first instant after `now` at which a job is due, with every job due then.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<(DateTime<Utc>, Vec<Job>)> {
        let mut next: Option<(DateTime<Utc>, Vec<Job>)> = None;
        for (job, cron) in &self.entries {
            let Ok(at) = cron.find_next_occurrence(&now, false) else {
                continue;
            };
            match &mut next {
                Some((first, jobs)) if at == *first => jobs.push(*job),
                Some((first, _)) if at > *first => {}
                _ => next = Some((at, vec![*job])),
            }
        }
        next
    }
}

fn parse(job: Job, expression: &str) -> Result<Cron, ScheduleError> {
    let error = |message: String| ScheduleError {
        job: job.name(),
        expression: expression.to_string(),
        message,
    };
    // Five fields exactly, as documented: a six-field pattern would silently mean seconds.
    if expression.split_whitespace().count() != 5 {
        return Err(error(
            "expected five fields: minute hour day month weekday".into(),
        ));
    }
    Cron::from_str(expression).map_err(|e| error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn settings(rollover: &str) -> SchedulerSettings {
        SchedulerSettings {
            rollover: rollover.into(),
            reclaim: "* * * * *".into(),
            purge: "17 * * * *".into(),
            report: "0 3 * * *".into(),
            lease_seconds: 120,
        }
    }

    #[test]
    fn next_due_jobs_are_found_together() {
        let schedule = Schedule::from_settings(&settings("5 0 1 * *")).unwrap();
        let before_rollover = Utc.with_ymd_and_hms(2026, 3, 31, 23, 59, 30).unwrap();
        let (at, jobs) = schedule.next_after(before_rollover).unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap());
        assert_eq!(jobs, [Job::Reclaim]);
        let (at, jobs) = schedule
            .next_after(Utc.with_ymd_and_hms(2026, 4, 1, 0, 4, 0).unwrap())
            .unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 4, 1, 0, 5, 0).unwrap());
        assert_eq!(jobs, [Job::CloseMonth, Job::Reclaim]);
    }

    #[test]
    fn bad_expressions_name_the_job() {
        for bad in ["61 * * * *", "* * *", "0 * * * * *", "every day"] {
            let err = Schedule::from_settings(&settings(bad))
                .err()
                .expect(bad)
                .to_string();
            assert!(err.contains("scheduler.rollover"), "{err}");
        }
    }
}
