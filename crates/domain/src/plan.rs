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
    /// How often the subscription is billed; the allowance renews every period either way.
    #[serde(default)]
    pub interval: BillingInterval,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingInterval {
    #[default]
    Month,
    Year,
}

/// A one-off purchase of tokens that are added to the buyer's top-ups and survive the monthly
/// reset. Individuals buy for themselves, company managers for their company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPack {
    pub id: String,
    pub name: String,
    pub tokens: u64,
    /// Payment provider price, from config; a pack without one cannot be bought online.
    #[serde(default)]
    pub price_id: Option<String>,
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
    /// Token packs on sale.
    #[serde(default)]
    pub packs: Vec<TokenPack>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("plan catalog: default plan `{0}` is not in the catalog or has the wrong audience")]
    MissingDefault(String),
    #[error("plan catalog: plan or pack id `{0}` appears twice")]
    Duplicate(String),
}

impl PlanCatalog {
    pub fn validate(&self) -> Result<(), CatalogError> {
        // Plan and pack ids share one namespace: checkout and webhooks look them up by id.
        let mut seen = std::collections::HashSet::new();
        let ids = self
            .plans
            .iter()
            .map(|p| &p.id)
            .chain(self.packs.iter().map(|p| &p.id));
        for id in ids {
            if !seen.insert(id.as_str()) {
                return Err(CatalogError::Duplicate(id.clone()));
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

    pub fn pack(&self, id: &str) -> Option<&TokenPack> {
        self.packs.iter().find(|p| p.id == id)
    }

    /// The plan sold at a payment provider's price (webhooks name prices, not plans).
    pub fn plan_by_price(&self, price_id: &str) -> Option<&Plan> {
        self.plans
            .iter()
            .find(|p| p.price_id.as_deref() == Some(price_id))
    }

    /// The plan a payer falls back to when a subscription ends.
    pub fn default_for(&self, audience: PlanAudience) -> &Plan {
        match audience {
            PlanAudience::Individual => self.default_individual_plan(),
            PlanAudience::Company => self.default_company_plan(),
        }
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
