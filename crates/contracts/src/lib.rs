//! # contracts
//!
//! One contract suite per port, run by every adapter of that port (the in-memory fake, SQLite,
//! MySQL; governor and Redis), so behaviour is the same whichever adapter is wired. Also the
//! in-memory fake itself, used by service tests that need a working store rather than mocks.
//!
//! Adapters invoke [`store_contract_tests!`] with an async factory returning a fresh, empty
//! store (or `None` to skip when a server is unavailable outside CI).

pub mod billing;
pub mod ledger;
pub mod limiter;
pub mod memory;
pub mod safety_plans;
pub mod stores;

/// Builds the fixtures the suites share.
pub mod fixtures;

/// Generates one `#[tokio::test]` per contract case. `$make` is an async fn returning
/// `Option<S>`: a fresh empty store, or `None` when the backing server is unavailable and the
/// run is allowed to skip (never under `CI=true`: the factory must panic there).
#[macro_export]
macro_rules! store_contract_tests {
    ($make:path) => {
        $crate::store_contract_tests!(@cases $make;
            users_round_trip, duplicate_email_conflicts, update_and_delete_users, user_search,
            companies_round_trip, delete_company_cascades, invitations_accept_once,
            sessions_lifecycle, sessions_with_recent_messages, audit_newest_first, conversations_page_and_delete,
            library_replace_is_whole, ledger_reserve_and_settle, ledger_insufficient_changes_nothing,
            ledger_all_lines_or_nothing, ledger_topups_after_allowance, ledger_settle_once,
            ledger_settle_turn_charges_and_stores_together,
            ledger_reclaims_expired, ledger_periods_are_independent, ledger_topup_adjustments,
            ledger_duplicate_reservation, ledger_concurrent_reservations_never_overspend,
            ledger_concurrent_turns_are_charged_exactly,
            ledger_counters_in_period, job_leases_exclusive_and_taken_over,
            crisis_counter_is_aggregate, key_values_are_written_once, usage_reports_by_company,
            safety_plans_are_each_persons_own
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some(store) = $make().await else { return };
                $crate::stores::$case(store).await;
            }
        )*
    };
}

/// Generates one test per billing-store contract case; `$make` as in [`store_contract_tests!`].
#[macro_export]
macro_rules! billing_contract_tests {
    ($make:path) => {
        $crate::billing_contract_tests!(@cases $make;
            billing_event_applies_once, billing_concurrent_deliveries_apply_once,
            billing_older_subscription_events_change_nothing, billing_company_plan_and_seats,
            billing_refunds_take_back_pack_tokens_once, billing_customers_round_trip
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some(store) = $make().await else { return };
                $crate::billing::$case(store).await;
            }
        )*
    };
}
