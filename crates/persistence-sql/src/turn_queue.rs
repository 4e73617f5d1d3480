//! Group commit for the ledger's part of chat turns.
//!
//! A chat turn is two ledger transactions: reserve, then settle and store the exchange. On
//! MySQL each is a handful of round trips and a commit, and together they were most of what a
//! turn cost the database and much of what it cost this server. Under load many turns of one
//! instance wait for the ledger at the same moment, so the waiting jobs are applied together in
//! one transaction: their rows locked by one statement, each changed row written once, their
//! reservations and messages inserted by one statement each. A job that waits alone runs the
//! single-turn transaction, so a quiet server behaves exactly as before.
//!
//! Grouping changes no outcome: the jobs are applied one after another, in the order they
//! queued, by the same domain rules on the same locked balances, so each gets the answer it
//! would have got alone at that point. Whatever a group cannot do together (a reservation it
//! settles is already gone, a database error) rolls back and its jobs run one by one.

use crate::rows::MessageRow;
use domain::budget::{BudgetLine, LedgerError, Reservation, ReservationRequest, SettledTurn};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::oneshot;

/// One ledger step of a turn, and where its caller waits for the outcome.
#[derive(Debug)]
pub enum TurnJob {
    Reserve {
        request: ReservationRequest,
        done: oneshot::Sender<Result<Reservation, LedgerError>>,
    },
    Settle {
        reservation: Reservation,
        actual: u64,
        exchange: [MessageRow; 2],
        lines: Vec<BudgetLine>,
        done: oneshot::Sender<Result<SettledTurn, LedgerError>>,
    },
}

/// What applying a job gave, to hand to its caller.
#[derive(Debug)]
pub enum LedgerStepOutcome {
    Reserved(Result<Reservation, LedgerError>),
    Settled(Result<SettledTurn, LedgerError>),
}

/// Where a caller waits for its job's outcome.
pub type Answer<T> = oneshot::Receiver<Result<T, LedgerError>>;

impl TurnJob {
    pub fn reserve(request: ReservationRequest) -> (TurnJob, Answer<Reservation>) {
        let (done, answer) = oneshot::channel();
        (TurnJob::Reserve { request, done }, answer)
    }

    pub fn settle(
        reservation: Reservation,
        actual: u64,
        exchange: [MessageRow; 2],
        lines: Vec<BudgetLine>,
    ) -> (TurnJob, Answer<SettledTurn>) {
        let (done, answer) = oneshot::channel();
        let job = TurnJob::Settle {
            reservation,
            actual,
            exchange,
            lines,
            done,
        };
        (job, answer)
    }

    /// Hands `outcome` to the job's caller. Returns the reservation made for a caller that is
    /// gone (its request was cancelled meanwhile), which nobody will settle: release it.
    pub fn answer(self, outcome: LedgerStepOutcome) -> Option<Reservation> {
        match (self, outcome) {
            (TurnJob::Reserve { done, .. }, LedgerStepOutcome::Reserved(result)) => {
                done.send(result).err().and_then(Result::ok)
            }
            (TurnJob::Settle { done, .. }, LedgerStepOutcome::Settled(result)) => {
                // A settled turn whose caller left is still settled and stored: nothing to undo.
                let _ = done.send(result);
                None
            }
            // Outcomes are made from their own job, so the kinds always match; were they not,
            // dropping the sender tells the caller the ledger failed, which is safe.
            _ => None,
        }
    }
}

/// The outcome of a queued job, once applied.
pub async fn outcome<T>(answer: Answer<T>) -> Result<T, LedgerError> {
    answer.await.unwrap_or_else(|_| {
        Err(LedgerError::Unavailable(
            "the ledger stopped before applying the turn".into(),
        ))
    })
}

#[derive(Debug, Default)]
struct QueueState {
    waiting: Vec<TurnJob>,
    /// Tasks applying queued jobs now.
    drainers: usize,
}

/// The jobs of one instance waiting for the ledger.
#[derive(Debug, Default)]
pub struct TurnQueue(Mutex<QueueState>);

impl TurnQueue {
    /// Groups one instance applies at once: two, so one can be built and sent while the other
    /// waits for its commit.
    const DRAINERS: usize = 2;
    /// Jobs one group takes at most, which bounds its statements' lists.
    const MAX_GROUP: usize = 64;

    fn state(&self) -> MutexGuard<'_, QueueState> {
        // Only plain pushes and pops happen under the lock: after a panic the state is valid.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job`. Returns `true` when the caller must start a drainer task, because fewer
    /// than [`Self::DRAINERS`] are running; that task takes a [`DrainerSlot`] and applies the
    /// groups it hands out until there are none.
    pub fn push(&self, job: TurnJob) -> bool {
        let mut state = self.state();
        state.waiting.push(job);
        let start = state.drainers < Self::DRAINERS;
        if start {
            state.drainers += 1;
        }
        start
    }

    /// The next jobs to apply together, oldest first, or `None` when none wait; the drainer
    /// asking then stops, and a later [`Self::push`] starts another.
    fn next_group(&self) -> Option<Vec<TurnJob>> {
        let mut state = self.state();
        if state.waiting.is_empty() {
            state.drainers -= 1;
            return None;
        }
        let take = state.waiting.len().min(Self::MAX_GROUP);
        Some(state.waiting.drain(..take).collect())
    }
}

/// A drainer task's place among the queue's [`TurnQueue::DRAINERS`]. Should the task end before
/// the queue is empty (a panic, or its runtime shutting down), dropping the slot gives the place
/// back, so jobs queued later still find a drainer.
pub struct DrainerSlot<'a> {
    queue: &'a TurnQueue,
    stopped: bool,
}

impl<'a> DrainerSlot<'a> {
    pub fn new(queue: &'a TurnQueue) -> Self {
        DrainerSlot {
            queue,
            stopped: false,
        }
    }

    /// The next group to apply, or `None` when none waits (the slot is then given back).
    pub fn next_group(&mut self) -> Option<Vec<TurnJob>> {
        let group = self.queue.next_group();
        self.stopped = group.is_none();
        group
    }
}

impl Drop for DrainerSlot<'_> {
    fn drop(&mut self) {
        if !self.stopped {
            self.queue.state().drainers -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::ReservationId;

    fn reserve(id: i64) -> (TurnJob, Answer<Reservation>) {
        TurnJob::reserve(ReservationRequest {
            id: ReservationId(id),
            amount: 10,
            lines: vec![],
            expires_at: chrono::Utc::now(),
        })
    }

    fn id_of(job: &TurnJob) -> i64 {
        match job {
            TurnJob::Reserve { request, .. } => request.id.0,
            TurnJob::Settle { reservation, .. } => reservation.id.0,
        }
    }

    #[test]
    fn two_drainers_take_the_jobs_in_order_and_stop_when_none_wait() {
        let queue = TurnQueue::default();
        let mut answers = vec![];
        let mut started = 0;
        for id in 0..70 {
            let (job, answer) = reserve(id);
            answers.push(answer);
            started += usize::from(queue.push(job));
        }
        assert_eq!(started, TurnQueue::DRAINERS, "only two drainers at a time");
        let (mut first, mut second) = (DrainerSlot::new(&queue), DrainerSlot::new(&queue));
        let group = first.next_group().unwrap();
        assert_eq!(group.len(), TurnQueue::MAX_GROUP);
        assert_eq!(
            group.iter().map(id_of).collect::<Vec<_>>(),
            (0..64).collect::<Vec<_>>()
        );
        let rest = second.next_group().unwrap();
        assert_eq!(
            rest.iter().map(id_of).collect::<Vec<_>>(),
            (64..70).collect::<Vec<_>>()
        );
        assert!(first.next_group().is_none());
        assert!(second.next_group().is_none());
        drop((first, second));
        // Both drainers stopped, and gave their places back once: the next jobs start two again.
        assert!(queue.push(reserve(70).0));
        assert!(queue.push(reserve(71).0));
        assert!(!queue.push(reserve(72).0));
    }

    #[test]
    fn a_reservation_whose_caller_left_is_handed_back() {
        let (job, answer) = reserve(1);
        let made = Reservation {
            id: ReservationId(1),
            amount: 10,
            parts: vec![],
            expires_at: chrono::Utc::now(),
        };
        drop(answer);
        let left = job.answer(LedgerStepOutcome::Reserved(Ok(made.clone())));
        assert_eq!(left, Some(made.clone()), "to be released");
        let (job, answer) = reserve(2);
        assert!(job.answer(LedgerStepOutcome::Reserved(Ok(made))).is_none());
        assert!(answer.blocking_recv().unwrap().is_ok());
    }

    #[test]
    fn a_drainer_that_ends_early_gives_its_place_back() {
        let queue = std::sync::Arc::new(TurnQueue::default());
        for id in 0..2 {
            assert!(queue.push(reserve(id).0));
        }
        let in_task = queue.clone();
        let panicked = std::thread::spawn(move || {
            let mut slot = DrainerSlot::new(&in_task);
            let _group = slot.next_group();
            panic!("a drainer fails");
        })
        .join();
        assert!(panicked.is_err());
        // A drainer cancelled with its runtime drops its slot the same way.
        drop(DrainerSlot::new(&queue));
        assert!(queue.push(reserve(3).0), "the places came back");
        assert!(queue.push(reserve(4).0));
    }
}
