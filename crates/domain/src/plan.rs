//! Plans and what they allow. The catalog comes from configuration (prices are never in code);
//! custom company plans made by the platform admin live in the database.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanAudience {
    Individual,
    Company,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub audience: PlanAudience,
    /// Individual plans: tokens per period.
    #[serde(default)]
    pub monthly_tokens: u64,
    /// Company plans: tokens per seat per period (the pool is seats × this).
    #[serde(default)]
    pub tokens_per_seat: u64,
    /// Payment provider price, from config; `None` for free or hand-assigned plans.
    #[serde(default)]
    pub price_id: Option<String>,
    /// Custom plans belong to a single company.
    #[serde(default)]
    pub company_only: Option<i64>,
}

impl Plan {
    /// Tokens per period for a wallet on this plan.
    pub fn allowance(&self, seats: u32) -> u64 {
        match self.audience {
            PlanAudience::Individual => self.monthly_tokens,
            PlanAudience::Company => self.tokens_per_seat.saturating_mul(u64::from(seats)),
        }
    }
}

/// The plans on offer, with the ids of the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanCatalog {
    pub plans: Vec<Plan>,
    /// Plan given to new individuals.
    pub default_individual: String,
    /// Plan given to new companies.
    pub default_company: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("plan catalog: default plan `{0}` is not in the catalog or has the wrong audience")]
    MissingDefault(String),
    #[error("plan catalog: plan id `{0}` appears twice")]
    Duplicate(String),
}

impl PlanCatalog {
    pub fn validate(&self) -> Result<(), CatalogError> {
        let mut seen = std::collections::HashSet::new();
        for plan in &self.plans {
            if !seen.insert(plan.id.as_str()) {
                return Err(CatalogError::Duplicate(plan.id.clone()));
            }
        }
        for (id, audience) in [
            (&self.default_individual, PlanAudience::Individual),
            (&self.default_company, PlanAudience::Company),
        ] {
            if !self
                .plans
                .iter()
                .any(|p| &p.id == id && p.audience == audience)
            {
                return Err(CatalogError::MissingDefault(id.clone()));
            }
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.id == id)
    }

    pub fn default_individual_plan(&self) -> &Plan {
        self.get(&self.default_individual)
            .expect("catalog validated at start-up")
    }

    pub fn default_company_plan(&self) -> &Plan {
        self.get(&self.default_company)
            .expect("catalog validated at start-up")
    }
}
