//! What the ledger's transactions do, over any [`LedgerConn`]; each runs inside a write
//! transaction that [`LedgerConn`] opens. Rows are always locked in the same order (by subject
//! key and period, a counter and then its subject's top-up), so two turns never deadlock.

use super::LedgerConn;
use crate::TxError;
use crate::balances::BalanceSheet;
use crate::rows::{MessageRow, ReservationRow};
use crate::statements::{CounterAmounts, TopUpAmounts};
use crate::turn_queue::{LedgerStepOutcome, TurnJob};
use domain::ReservationId;
use domain::budget::{
    BudgetLine, LedgerError, Reservation, ReservationRequest, ReservedPart, SettledTurn,
};

/// Holds `request` on every one of `lines` (sorted by subject).
pub async fn reserve_in<C: LedgerConn>(
    conn: &mut C,
    request: &ReservationRequest,
    lines: &[BudgetLine],
) -> Result<Reservation, TxError> {
    let mut sheet = BalanceSheet::default();
    for line in lines {
        sheet.want(line.subject, line.period.key(), line.may_use_topup);
    }
    conn.lock_balances(&mut sheet).await?;
    if !sheet.all_found() {
        // `ensure_budget_rows` made them: a missing one is a broken database.
        return Err(TxError::Db(diesel::result::Error::NotFound));
    }
    let parts = sheet.hold(request, lines).map_err(TxError::Insufficient)?;
    write_changed(conn, &sheet).await?;
    let rows: Vec<ReservationRow> = parts
        .iter()
        .map(|part| ReservationRow::of(request, part))
        .collect();
    if !rows.is_empty() {
        conn.insert_rows(&rows).await?;
    }
    Ok(Reservation {
        id: request.id,
        amount: request.amount,
        parts,
        expires_at: request.expires_at,
    })
}

/// Settles reservation `id` (whose parts are `known` when the caller has them, read
/// otherwise), stores the turn's `exchange` and reads the balances of `lines`.
pub async fn settle_in<C: LedgerConn>(
    conn: &mut C,
    id: ReservationId,
    known: Option<&[ReservedPart]>,
    actual: u64,
    exchange: Option<&[MessageRow; 2]>,
    lines: &[BudgetLine],
) -> Result<SettledTurn, TxError> {
    let parts = match known {
        Some(parts) => parts.to_vec(),
        None => conn.reservation_parts(id).await?,
    };
    let mut sheet = BalanceSheet::default();
    for part in &parts {
        sheet.want(part.subject, part.period_key, part.from_topup > 0);
    }
    for line in lines {
        sheet.want(line.subject, line.period.key(), line.may_use_topup);
    }
    // The same lock order as `reserve_in`, or two turns could deadlock.
    conn.lock_balances(&mut sheet).await?;
    // Deleting makes settle, release and reclaim race-free: whoever deletes the rows applies
    // them; the others see nothing to do.
    let deleted = conn.delete_reservation(id).await?;
    let settled = !parts.is_empty() && deleted == parts.len();
    for part in parts.iter().filter(|_| settled) {
        part.settle(actual, sheet.of_part(part));
    }
    write_changed(conn, &sheet).await?;
    if let Some(exchange) = exchange {
        conn.insert_rows(exchange).await?;
    }
    let balances = lines
        .iter()
        .map(|l| sheet.get(l.subject, l.period.key()))
        .collect();
    Ok(SettledTurn { settled, balances })
}

/// `jobs` applied in order by the rules of [`reserve_in`] and [`settle_in`]: all rows locked
/// by one statement, each changed row written once, the reservations and the messages
/// inserted by one statement each.
pub async fn together_in<C: LedgerConn>(
    conn: &mut C,
    jobs: &[TurnJob],
) -> Result<Vec<LedgerStepOutcome>, TxError> {
    let mut sheet = BalanceSheet::default();
    let mut settled_ids = Vec::new();
    let mut settled_rows = 0;
    for job in jobs {
        match job {
            TurnJob::Reserve { request, .. } => {
                for line in &request.lines {
                    sheet.want(line.subject, line.period.key(), line.may_use_topup);
                }
            }
            TurnJob::Settle {
                reservation, lines, ..
            } => {
                for part in &reservation.parts {
                    sheet.want(part.subject, part.period_key, part.from_topup > 0);
                }
                for line in lines {
                    sheet.want(line.subject, line.period.key(), line.may_use_topup);
                }
                settled_ids.push(reservation.id.0);
                settled_rows += reservation.parts.len();
            }
        }
    }
    if !sheet.one_period_per_subject() {
        return Err(TxError::NotTogether("a subject in two periods"));
    }
    conn.lock_balances_together(&mut sheet).await?;
    if !sheet.all_found() {
        return Err(TxError::NotTogether("a budget row is missing"));
    }
    if !settled_ids.is_empty() {
        let deleted = conn.delete_reservations(&settled_ids).await?;
        // Fewer rows means one was settled or reclaimed meanwhile: alone, that turn is told so
        // and the others are not held up.
        if deleted != settled_rows {
            return Err(TxError::NotTogether("a reservation is gone"));
        }
    }
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut reservation_rows = Vec::new();
    let mut message_rows = Vec::new();
    for job in jobs {
        outcomes.push(match job {
            TurnJob::Reserve { request, .. } => {
                let mut lines = request.lines.clone();
                lines.sort_by_key(|l| l.subject);
                LedgerStepOutcome::Reserved(match sheet.hold(request, &lines) {
                    Ok(parts) => {
                        reservation_rows
                            .extend(parts.iter().map(|part| ReservationRow::of(request, part)));
                        Ok(Reservation {
                            id: request.id,
                            amount: request.amount,
                            parts,
                            expires_at: request.expires_at,
                        })
                    }
                    Err(subject) => Err(LedgerError::InsufficientBudget { subject }),
                })
            }
            TurnJob::Settle {
                reservation,
                actual,
                exchange,
                lines,
                ..
            } => {
                for part in &reservation.parts {
                    part.settle(*actual, sheet.of_part(part));
                }
                message_rows.extend(exchange.iter().cloned());
                LedgerStepOutcome::Settled(Ok(SettledTurn {
                    settled: !reservation.parts.is_empty(),
                    balances: lines
                        .iter()
                        .map(|l| sheet.get(l.subject, l.period.key()))
                        .collect(),
                }))
            }
        });
    }
    write_changed(conn, &sheet).await?;
    if !reservation_rows.is_empty() {
        conn.insert_rows(&reservation_rows).await?;
    }
    if !message_rows.is_empty() {
        conn.insert_rows(&message_rows).await?;
    }
    Ok(outcomes)
}

/// Writes back every row of `sheet` that a hold or a settlement changed: the counters with one
/// statement, the top-ups with another.
async fn write_changed<C: LedgerConn>(conn: &mut C, sheet: &BalanceSheet) -> Result<(), TxError> {
    let (mut counters, mut topups) = (Vec::new(), Vec::new());
    for (subject, period_key, counter, topup) in sheet.changed() {
        if let Some((used, reserved)) = counter {
            counters.push(CounterAmounts {
                subject,
                period_key,
                used,
                reserved,
            });
        }
        if let Some((balance, reserved)) = topup {
            topups.push(TopUpAmounts {
                subject,
                balance,
                reserved,
            });
        }
    }
    if !counters.is_empty() {
        conn.upsert_rows(&counters).await?;
    }
    if !topups.is_empty() {
        conn.upsert_rows(&topups).await?;
    }
    Ok(())
}
