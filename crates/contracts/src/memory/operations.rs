//! The operational ports of the in-memory fake: job leases, the crisis counter, write-once
//! values and the usage reports.

use super::MemoryStore;
use chrono::{DateTime, Utc};
use domain::budget::*;
use domain::ports::*;
use domain::*;
use std::collections::HashMap;

impl JobLeases for MemoryStore {
    async fn acquire_lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> StoreResult<Option<String>> {
        let mut s = self.state();
        match s.leases.get_mut(job) {
            None => {
                s.leases.insert(
                    job.to_string(),
                    (holder.to_string(), now + ttl, String::new()),
                );
                Ok(Some(String::new()))
            }
            Some((owner, expires, cursor)) if owner == holder || *expires < now => {
                *owner = holder.to_string();
                *expires = now + ttl;
                Ok(Some(cursor.clone()))
            }
            Some(_) => Ok(None),
        }
    }

    async fn save_progress(
        &self,
        job: &str,
        holder: &str,
        cursor: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> StoreResult<bool> {
        let mut s = self.state();
        match s.leases.get_mut(job) {
            Some((owner, expires, saved)) if owner == holder => {
                *expires = now + ttl;
                *saved = cursor.to_string();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release_lease(&self, job: &str, holder: &str) -> StoreResult<()> {
        if let Some((owner, expires, _)) = self.state().leases.get_mut(job)
            && owner == holder
        {
            *expires = DateTime::<Utc>::UNIX_EPOCH;
        }
        Ok(())
    }
}

impl SafetyCounter for MemoryStore {
    async fn count_crisis(&self, day: i64) -> StoreResult<()> {
        *self.state().crisis.entry(day).or_default() += 1;
        Ok(())
    }

    async fn crisis_total(&self, since_day: i64) -> StoreResult<u64> {
        Ok(self.state().crisis.range(since_day..).map(|(_, n)| n).sum())
    }
}

impl KeyValue for MemoryStore {
    async fn get_value(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.state().values.get(name).cloned())
    }

    async fn put_value_once(&self, name: &str, value: &[u8]) -> StoreResult<bool> {
        let mut s = self.state();
        if s.values.contains_key(name) {
            return Ok(false);
        }
        s.values.insert(name.to_string(), value.to_vec());
        Ok(true)
    }
}

impl UsageReports for MemoryStore {
    async fn usage_by_person(&self, period: Period) -> StoreResult<HashMap<UserId, u64>> {
        let s = self.state();
        let mut usage = HashMap::new();
        for ((subject, key), counter) in &s.counters {
            if let Subject::User(id) = subject
                && (period.key()..period.end.timestamp()).contains(key)
            {
                *usage.entry(*id).or_default() += counter.used;
            }
        }
        Ok(usage)
    }

    async fn company_members(
        &self,
        after: Option<CompanyId>,
        limit: u64,
    ) -> StoreResult<Vec<CompanyMembers>> {
        let s = self.state();
        let start = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        Ok(s.companies
            .range((start, std::ops::Bound::Unbounded))
            .take(limit.max(1) as usize)
            .map(|(&company_id, _)| CompanyMembers {
                company_id,
                people: s
                    .users
                    .values()
                    .filter(|u| u.company_id == Some(company_id))
                    .map(|u| Member {
                        user_id: u.id,
                        email: u.email.as_str().to_string(),
                        display_name: u.display_name.clone(),
                        role: u.role,
                    })
                    .collect(),
            })
            .collect())
    }
}
