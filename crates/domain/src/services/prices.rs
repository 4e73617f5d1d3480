//! Checks the catalog's prices against the payment provider (`botpsicologo billing check`): a
//! price id typed wrong, archived, one-off where a subscription is sold (or the other way round),
//! billed at another interval than the plan says, or in another currency than the rest would
//! otherwise only show up when a buyer's checkout fails or bills the wrong way.

use crate::billing::{PaymentError, ProviderPrice};
use crate::plan::{BillingInterval, PlanCatalog};
use crate::ports::PaymentGateway;

/// One priced plan or pack, and what is wrong with its price (if anything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceCheck {
    /// `plan plus` or `pack pack-100k`.
    pub item: String,
    pub price_id: String,
    /// What the provider has, when the price exists.
    pub found: Option<ProviderPrice>,
    pub problem: Option<PriceProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceProblem {
    #[error("does not exist at the payment provider")]
    Missing,
    #[error("is archived (inactive) at the payment provider")]
    Inactive,
    #[error("is {found} at the payment provider, but the catalog sells it as {expected}")]
    WrongKind { expected: String, found: String },
    #[error("is in {found}, but the other prices are in {expected}")]
    Currency { expected: String, found: String },
}

impl std::fmt::Display for PriceCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.problem, &self.found) {
            (Some(problem), _) => write!(f, "{}: price `{}` {problem}", self.item, self.price_id),
            (None, Some(found)) => write!(
                f,
                "{}: price `{}` ok ({}, {})",
                self.item,
                self.price_id,
                kind(found),
                found.currency
            ),
            (None, None) => write!(f, "{}: price `{}`", self.item, self.price_id),
        }
    }
}

fn kind(price: &ProviderPrice) -> String {
    match &price.recurring {
        None => "one-off".into(),
        Some((interval, 1)) => format!("recurring every {interval}"),
        Some((interval, n)) => format!("recurring every {n} {interval}s"),
    }
}

/// Looks up every price the catalog sells (plans and packs with a price id) and says what is
/// wrong with each. Items without a price are not sold online and are skipped. Errors only when
/// the provider cannot be asked.
pub async fn check_prices<P: PaymentGateway>(
    catalog: &PlanCatalog,
    gateway: &P,
) -> Result<Vec<PriceCheck>, PaymentError> {
    let plans = catalog.plans.iter().filter_map(|plan| {
        let expected = match plan.interval {
            BillingInterval::Month => "month",
            BillingInterval::Year => "year",
        };
        let expected = ProviderPrice {
            active: true,
            currency: String::new(),
            recurring: Some((expected.to_string(), 1)),
        };
        let price = plan.price_id.as_ref()?;
        Some((format!("plan {}", plan.id), price, expected))
    });
    let packs = catalog.packs.iter().filter_map(|pack| {
        let expected = ProviderPrice {
            active: true,
            currency: String::new(),
            recurring: None,
        };
        let price = pack.price_id.as_ref()?;
        Some((format!("pack {}", pack.id), price, expected))
    });
    let mut checks = Vec::new();
    // The currency every price should share: the first one found.
    let mut currency: Option<String> = None;
    for (item, price_id, expected) in plans.chain(packs) {
        let found = gateway.price(price_id).await?;
        let problem = match &found {
            None => Some(PriceProblem::Missing),
            Some(found) if !found.active => Some(PriceProblem::Inactive),
            Some(found) if found.recurring != expected.recurring => Some(PriceProblem::WrongKind {
                expected: kind(&expected),
                found: kind(found),
            }),
            Some(found) => {
                let first = currency.get_or_insert_with(|| found.currency.clone());
                (*first != found.currency).then(|| PriceProblem::Currency {
                    expected: first.clone(),
                    found: found.currency.clone(),
                })
            }
        };
        checks.push(PriceCheck {
            item,
            price_id: price_id.clone(),
            found,
            problem,
        });
    }
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::CheckoutRequest;
    use crate::budget::Subject;
    use crate::plan::{Plan, PlanAudience, TokenPack};
    use futures::executor::block_on;
    use std::collections::HashMap;

    /// The provider's prices by id; nothing else is called.
    struct Prices(HashMap<&'static str, ProviderPrice>);

    impl PaymentGateway for Prices {
        async fn create_customer(&self, _: &str, _: Subject) -> Result<String, PaymentError> {
            Err(PaymentError::NotConfigured)
        }
        async fn checkout(&self, _: &CheckoutRequest) -> Result<String, PaymentError> {
            Err(PaymentError::NotConfigured)
        }
        async fn price(&self, id: &str) -> Result<Option<ProviderPrice>, PaymentError> {
            Ok(self.0.get(id).cloned())
        }
        async fn portal(&self, _: &str, _: &str) -> Result<String, PaymentError> {
            Err(PaymentError::NotConfigured)
        }
    }

    fn price(currency: &str, recurring: Option<&str>) -> ProviderPrice {
        ProviderPrice {
            active: true,
            currency: currency.into(),
            recurring: recurring.map(|i| (i.to_string(), 1)),
        }
    }

    fn catalog(prices: &[(&str, BillingInterval, &str)], pack: Option<&str>) -> PlanCatalog {
        let plan = |id: &str, interval, price: Option<&str>| Plan {
            id: id.into(),
            name: id.into(),
            audience: PlanAudience::Individual,
            monthly_tokens: 1_000,
            tokens_per_seat: 0,
            price_id: price.map(String::from),
            company_only: None,
            interval,
        };
        let mut plans = vec![plan("free", BillingInterval::Month, None)];
        plans.extend(prices.iter().map(|(id, i, p)| plan(id, *i, Some(*p))));
        PlanCatalog {
            plans,
            default_individual: "free".into(),
            default_company: "free".into(),
            packs: vec![TokenPack {
                id: "pack".into(),
                name: "Pack".into(),
                tokens: 10,
                price_id: pack.map(String::from),
            }],
        }
    }

    fn problems(checks: &[PriceCheck]) -> Vec<String> {
        checks
            .iter()
            .filter(|c| c.problem.is_some())
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn priced_plans_and_packs_that_match_pass_and_unpriced_ones_are_skipped() {
        let gateway = Prices(HashMap::from([
            ("price_m", price("brl", Some("month"))),
            ("price_y", price("brl", Some("year"))),
            ("price_pack", price("brl", None)),
        ]));
        let catalog = catalog(
            &[
                ("plus", BillingInterval::Month, "price_m"),
                ("annual", BillingInterval::Year, "price_y"),
            ],
            Some("price_pack"),
        );
        let checks = block_on(check_prices(&catalog, &gateway)).unwrap();
        assert_eq!(checks.len(), 3, "free has no price: {checks:?}");
        assert!(problems(&checks).is_empty(), "{checks:?}");
        assert_eq!(
            checks[0].to_string(),
            "plan plus: price `price_m` ok (recurring every month, brl)"
        );
        assert_eq!(
            checks[2].to_string(),
            "pack pack: price `price_pack` ok (one-off, brl)"
        );
    }

    #[test]
    fn each_bad_price_is_named_with_what_is_wrong() {
        let mut archived = price("brl", Some("month"));
        archived.active = false;
        let gateway = Prices(HashMap::from([
            ("price_m", price("brl", Some("month"))),
            ("price_monthly_sold_as_annual", price("brl", Some("month"))),
            ("price_archived", archived),
            ("price_usd", price("usd", Some("month"))),
            ("price_recurring_pack", price("brl", Some("month"))),
        ]));
        let catalog = catalog(
            &[
                ("plus", BillingInterval::Month, "price_m"),
                (
                    "annual",
                    BillingInterval::Year,
                    "price_monthly_sold_as_annual",
                ),
                ("typo", BillingInterval::Month, "price_tpyo"),
                ("old", BillingInterval::Month, "price_archived"),
                ("dollar", BillingInterval::Month, "price_usd"),
            ],
            Some("price_recurring_pack"),
        );
        let checks = block_on(check_prices(&catalog, &gateway)).unwrap();
        assert_eq!(
            problems(&checks),
            [
                "plan annual: price `price_monthly_sold_as_annual` is recurring every month at \
                 the payment provider, but the catalog sells it as recurring every year",
                "plan typo: price `price_tpyo` does not exist at the payment provider",
                "plan old: price `price_archived` is archived (inactive) at the payment provider",
                "plan dollar: price `price_usd` is in usd, but the other prices are in brl",
                "pack pack: price `price_recurring_pack` is recurring every month at the payment \
                 provider, but the catalog sells it as one-off",
            ]
        );
    }
}
