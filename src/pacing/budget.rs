//! The rate budget of one credential: one object that every HTTP request sent with the
//! credential is charged to, whichever layer sends it.
//!
//! [`Paced`](super::Paced) puts its budget in scope around each call (a tokio task-local,
//! [`Call`]), and the transport under both backends charges each HTTP request it sends to the
//! budget in scope, so lookups, extra pages and reconciliation reads count exactly as Buffer
//! counts them. A task spawned inside a call (a shadow's candidate, which has its own
//! credential) is outside the scope and is not charged.

use super::Pacing;
use super::ledger::{Ledger, Wait};
use crate::http::rate_limit::RateLimits;
use crate::{Error, Result};
use async_trait::async_trait;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The rate budget of one credential, shared by every layer and task that sends requests
/// with it: [`LocalBudget`] counts in this process; an implementation on a shared store lets
/// several processes keep one count.
///
/// [`answered`](Self::answered) and [`remaining`](Self::remaining) are called on the request
/// path and from `Drop`, so they must return at once.
#[async_trait]
pub trait RateBudget: Send + Sync + fmt::Debug {
    /// Takes one request, waiting for room until `deadline` at the latest. When room comes
    /// only later, fails at once with [`Error::RateLimited`] carrying the wait (in the
    /// server's seconds, as a server's `Retry-After`), so no caller blocks past its limit.
    async fn acquire(&self, deadline: Instant) -> Result<()>;

    /// Records the answer to a request taken: what its headers said (`limits`, empty when
    /// none came) and whether it was refused with a 429. A request given up before its
    /// answer is recorded too, with empty limits: the server may have counted it.
    fn answered(&self, limits: &RateLimits, refused: bool);

    /// Requests left now in the tightest window, as this budget counts them.
    fn remaining(&self) -> Option<u64>;
}

/// A [`RateBudget`] counted in this process: every window of a [`Pacing`], corrected by what
/// the server reports.
#[derive(Debug)]
pub struct LocalBudget {
    ledger: Mutex<Ledger>,
    /// Woken on every answer, so waiters look at the count again.
    changed: Notify,
}

impl LocalBudget {
    /// A budget with these quotas.
    pub fn new(pacing: &Pacing) -> Self {
        Self {
            ledger: Mutex::new(Ledger::new(&pacing.quotas, pacing.time_scale)),
            changed: Notify::new(),
        }
    }

    /// A budget that keeps to a `1/processes` part of every quota (configured, or reported by
    /// the server): for one of several processes on one credential that cannot count together,
    /// such as a fleet whose shared store is unreachable. What the server reports as used
    /// still counts in full.
    pub fn share(pacing: &Pacing, processes: u64) -> Self {
        Self {
            ledger: Mutex::new(Ledger::shared(&pacing.quotas, pacing.time_scale, processes)),
            changed: Notify::new(),
        }
    }

    /// Counts what another count of the same credential says was used (a fleet's, when it
    /// can no longer be asked), as the server's headers are counted: `limits` are not an
    /// answer to a request of this budget's.
    #[cfg(feature = "redis")]
    pub(crate) fn learn(&self, limits: &RateLimits) {
        self.lock().follow(limits, Instant::now());
        self.changed.notify_waiters();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The error for a wait past the deadline; `wait` is `None` while the first answer,
    /// which says how much is left, has not come.
    fn too_long(&self, wait: Option<Duration>) -> Error {
        let retry_after = wait.map(|wait| self.lock().server_seconds(wait));
        let message = match wait {
            Some(wait) => format!(
                "the rate budget has room again in {} s, later than the call's max_wait",
                wait.as_secs_f64().ceil()
            ),
            None => "the first request, whose answer tells how much of the rate budget is left, \
                     was not answered within the call's max_wait"
                .to_owned(),
        };
        Error::RateLimited {
            retry_after,
            message,
        }
    }
}

#[async_trait]
impl RateBudget for LocalBudget {
    async fn acquire(&self, deadline: Instant) -> Result<()> {
        loop {
            // Registered before the count is read, so an answer arriving in between still
            // wakes this waiter.
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            let now = Instant::now();
            let wait = self.lock().take(now);
            match wait {
                Ok(()) => return Ok(()),
                Err(Wait::Until(at)) if at > deadline => {
                    return Err(self.too_long(Some(at.saturating_duration_since(now))));
                }
                Err(Wait::Until(at)) => {
                    tracing::debug!(wait = ?at.saturating_duration_since(now), "pacing");
                    let _ = tokio::time::timeout_at(at, changed).await;
                }
                Err(Wait::FirstAnswer) => {
                    if tokio::time::timeout_at(deadline, changed).await.is_err() {
                        return Err(self.too_long(None));
                    }
                }
            }
        }
    }

    fn answered(&self, limits: &RateLimits, refused: bool) {
        self.lock().answered(Instant::now(), limits, refused);
        self.changed.notify_waiters();
    }

    fn remaining(&self) -> Option<u64> {
        self.lock().left(Instant::now())
    }
}

/// One paced call: the budget it charges, when its waits must end, and the request taken for
/// it before it started.
///
/// That request is the call's first HTTP request, so a call waits for room before it starts,
/// as a backend that does not go through the transport (a test double, an application's own
/// `Backend`) needs; the transport takes every further request from the budget itself. A call
/// that sends nothing through the transport counts as that one request.
pub(super) struct Call {
    budget: Arc<dyn RateBudget>,
    deadline: Instant,
    /// Whether the request taken at the start is still unused.
    reserved: AtomicBool,
}

tokio::task_local! {
    static CALL: Arc<Call>;
}

impl Call {
    /// Waits for room for a call's first request, until `deadline` at the latest.
    pub(super) async fn start(budget: Arc<dyn RateBudget>, deadline: Instant) -> Result<Arc<Self>> {
        budget.acquire(deadline).await?;
        Ok(Arc::new(Self {
            budget,
            deadline,
            reserved: AtomicBool::new(true),
        }))
    }

    /// Runs `call` in this call's scope: every HTTP request it sends is charged here.
    pub(super) async fn run<F: Future>(self: &Arc<Self>, call: F) -> F::Output {
        CALL.scope(self.clone(), call).await
    }

    /// Records the call as the one request taken for it, if it sent none through the
    /// transport: `limits` are what the backend reports, `refused` whether it failed with a
    /// rate limit.
    pub(super) fn finish(&self, limits: impl FnOnce() -> RateLimits, refused: bool) {
        if self.reserved.swap(false, Ordering::SeqCst) {
            self.budget.answered(&limits(), refused);
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // Given up before it finished: the request taken for it may have been sent.
        self.finish(RateLimits::default, false);
    }
}

/// One HTTP request taken from the budget of the paced call in scope, until its answer is
/// recorded. Dropped unanswered (the request failed or the caller gave up on it), it is
/// recorded as answered with nothing reported: it may have been counted.
pub(crate) struct Charge {
    budget: Option<Arc<dyn RateBudget>>,
}

impl Charge {
    /// Takes one request from the budget of the paced call in scope: the one taken when the
    /// call started, else a new one, waiting for room. Outside any paced call, charges
    /// nothing.
    pub(crate) async fn take() -> Result<Self> {
        let Ok(call) = CALL.try_with(Arc::clone) else {
            return Ok(Self { budget: None });
        };
        if !call.reserved.swap(false, Ordering::SeqCst) {
            call.budget.acquire(call.deadline).await?;
        }
        Ok(Self {
            budget: Some(call.budget.clone()),
        })
    }

    /// Records the answer: what its headers said, and whether it was a 429.
    pub(crate) fn answered(mut self, limits: &RateLimits, refused: bool) {
        if let Some(budget) = self.budget.take() {
            budget.answered(limits, refused);
        }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        if let Some(budget) = self.budget.take() {
            budget.answered(&RateLimits::default(), false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_past_the_deadline_fails_at_once_with_the_wait_in_server_seconds() {
        // One request per 60 server seconds, on a clock twice as fast: 30 s of real time.
        let budget = LocalBudget::new(&Pacing::none().quota(1, secs(60)).time_scale(2.0));
        let start = Instant::now();
        budget.acquire(start + secs(10)).await.unwrap();
        budget.answered(&RateLimits::default(), false);
        let error = budget.acquire(start + secs(10)).await.unwrap_err();
        assert_eq!(Instant::now(), start, "refused without waiting");
        assert!(
            matches!(error, Error::RateLimited { retry_after: Some(wait), .. } if wait == secs(60)),
            "{error:?}"
        );
        budget.acquire(start + secs(30)).await.unwrap();
        assert_eq!(
            Instant::now(),
            start + secs(30),
            "a wait within the deadline is waited"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_for_the_first_answer_ends_at_the_deadline() {
        let budget = LocalBudget::new(&Pacing::classic());
        let start = Instant::now();
        // The first request, never answered.
        budget.acquire(start + secs(1)).await.unwrap();
        let error = budget.acquire(start + secs(5)).await.unwrap_err();
        assert_eq!(Instant::now(), start + secs(5));
        assert!(
            matches!(
                error,
                Error::RateLimited {
                    retry_after: None,
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_wakes_a_waiter() {
        let budget = Arc::new(LocalBudget::new(&Pacing::classic()));
        let start = Instant::now();
        budget.acquire(start + secs(1)).await.unwrap();
        let waiter = tokio::spawn({
            let budget = budget.clone();
            async move { budget.acquire(start + secs(60)).await }
        });
        tokio::time::sleep(secs(2)).await;
        budget.answered(&RateLimits::default(), false);
        waiter.await.unwrap().unwrap();
        assert_eq!(Instant::now(), start + secs(2));
    }
}
