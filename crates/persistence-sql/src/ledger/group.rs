//! Applies the turns waiting in a [`TurnQueue`](crate::turn_queue::TurnQueue): together when
//! there are several and they can be, otherwise one by one, each as it would run alone.

use super::{SqlStore, ensure_budget_rows, reserve_alone, settle, settle_turn_alone, try_together};
use crate::turn_queue::{DrainerSlot, LedgerStepOutcome, TurnJob};
use crate::{TxError, retry_transient};
use domain::budget::BudgetLine;
use domain::ports::StoreError;

/// Queues a turn's ledger step, and starts a task to apply the queue if fewer than its
/// drainers run (see [`crate::turn_queue`]). The task owns a clone of the store, so a caller
/// that goes away cannot stop a group half-way.
pub fn queue_turn_job<S: SqlStore>(store: &S, job: TurnJob) {
    if store.local_ledger().turns.push(job) {
        let store = store.clone();
        tokio::spawn(async move {
            let mut slot = DrainerSlot::new(&store.local_ledger().turns);
            while let Some(jobs) = slot.next_group() {
                apply_turn_jobs(&store, jobs).await;
            }
        });
    }
}

/// Applies queued jobs: together when there are several and they can be, otherwise one by
/// one, each as it would run alone.
async fn apply_turn_jobs<S: SqlStore>(store: &S, jobs: Vec<TurnJob>) {
    let together = if jobs.len() > 1 {
        apply_together(store, &jobs).await
    } else {
        None
    };
    // Operators see how well turns group: steps per group = together / groups.
    let applied = if together.is_some() {
        "together"
    } else {
        "alone"
    };
    metrics::counter!("ledger_turn_steps_total", "applied" => applied).increment(jobs.len() as u64);
    if together.is_some() {
        metrics::counter!("ledger_turn_groups_total").increment(1);
    }
    match together {
        Some(outcomes) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                answer_turn_job(store, job, outcome).await;
            }
        }
        // Each caller hears as soon as its own job is done, not after the rest.
        None => {
            for job in jobs {
                let outcome = apply_alone(store, &job).await;
                answer_turn_job(store, job, outcome).await;
            }
        }
    }
}

async fn answer_turn_job<S: SqlStore>(store: &S, job: TurnJob, outcome: LedgerStepOutcome) {
    if let Some(orphan) = job.answer(outcome) {
        // Its caller left: release it now rather than when its lease ends.
        if let Err(e) = settle(store, orphan.id, 0).await {
            tracing::warn!(error = %e, "releasing a reservation nobody awaits");
        }
    }
}

async fn apply_alone<S: SqlStore>(store: &S, job: &TurnJob) -> LedgerStepOutcome {
    match job {
        TurnJob::Reserve { request, .. } => {
            LedgerStepOutcome::Reserved(reserve_alone(store, request).await)
        }
        TurnJob::Settle {
            reservation,
            actual,
            exchange,
            lines,
            ..
        } => LedgerStepOutcome::Settled(
            settle_turn_alone(store, reservation, *actual, exchange, lines).await,
        ),
    }
}

/// The outcomes of `jobs` applied together in one transaction, or `None` when they must be
/// applied one by one.
async fn apply_together<S: SqlStore>(
    store: &S,
    jobs: &[TurnJob],
) -> Option<Vec<LedgerStepOutcome>> {
    let lines: Vec<BudgetLine> = jobs
        .iter()
        .filter_map(|job| match job {
            TurnJob::Reserve { request, .. } => Some(request.lines.iter()),
            TurnJob::Settle { .. } => None,
        })
        .flatten()
        .cloned()
        .collect();
    // Outside the transaction, as for one turn (see `ensure_budget_rows`).
    ensure_budget_rows(store, &lines).await.ok()?;
    match retry_transient(|| try_together(store, jobs)).await {
        Ok(outcomes) => Some(outcomes),
        Err(TxError::NotTogether(_)) => None,
        Err(e) => {
            tracing::warn!(
                error = %StoreError::from(e),
                "a group of turns failed; applying them one by one"
            );
            None
        }
    }
}
