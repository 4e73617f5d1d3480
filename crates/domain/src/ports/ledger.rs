//! The usage ledger: token reservations, settlements and top-ups.

use crate::ReservationId;
use crate::budget::{
    BudgetLine, Counter, LedgerError, Reservation, ReservationRequest, SettledTurn, Subject, TopUp,
};
use crate::conversation::SealedMessage;
use chrono::{DateTime, Utc};
use std::future::Future;

/// The ledger port: atomic reservation, settlement and reclaim, whatever the storage.
#[cfg_attr(test, mockall::automock)]
pub trait UsageLedger: Send + Sync + 'static {
    /// Reserves `amount` against every line at once, or nothing at all.
    fn reserve(
        &self,
        request: ReservationRequest,
    ) -> impl Future<Output = Result<Reservation, LedgerError>> + Send;

    /// Charges `actual` tokens (at most the reserved amount) and releases the rest. Returns
    /// `false` when the reservation no longer exists (already settled, released or reclaimed).
    fn settle(
        &self,
        id: ReservationId,
        actual: u64,
    ) -> impl Future<Output = Result<bool, LedgerError>> + Send;

    /// [`settle`](Self::settle), and the turn's messages stored in the same transaction: after a
    /// crash a turn is either charged and saved, or neither (its reservation then expires and is
    /// reclaimed). The messages are stored even when the reservation is already gone (reclaimed
    /// during a very long reply): the person got the answer. Also returns the balance of each
    /// of `lines` as the settlement left it, read in the same transaction, so the turn can show
    /// what is left without another round of queries. Takes the reservation as `reserve`
    /// returned it, so its parts need not be read back.
    fn settle_turn(
        &self,
        reservation: &Reservation,
        actual: u64,
        exchange: &[SealedMessage; 2],
        lines: &[BudgetLine],
    ) -> impl Future<Output = Result<SettledTurn, LedgerError>> + Send;

    /// Releases every reservation whose lease ended before `now`; returns how many.
    fn reclaim_expired(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, LedgerError>> + Send;

    fn counter(
        &self,
        subject: Subject,
        period_key: i64,
    ) -> impl Future<Output = Result<Counter, LedgerError>> + Send;

    fn topup(&self, subject: Subject) -> impl Future<Output = Result<TopUp, LedgerError>> + Send;

    /// Adds purchased tokens (a negative amount removes them, e.g. for a refund, never below 0).
    fn add_topup(
        &self,
        subject: Subject,
        tokens: i64,
    ) -> impl Future<Output = Result<TopUp, LedgerError>> + Send;

    /// Top-ups of many subjects at once (subjects with no row are absent), for lists.
    fn topups_of(
        &self,
        subjects: Vec<Subject>,
    ) -> impl Future<Output = Result<Vec<(Subject, TopUp)>, LedgerError>> + Send;

    /// Per-subject usage of a period, for reports (subjects with no row are absent).
    fn counters_in_period(
        &self,
        subjects: Vec<Subject>,
        period_key: i64,
    ) -> impl Future<Output = Result<Vec<(Subject, Counter)>, LedgerError>> + Send;
}
