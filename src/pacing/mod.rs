//! Client-side pacing: [`Paced`], a [`Backend`] layer that keeps requests inside Buffer's
//! rate limits, so a long batch meets no 429.
//!
//! What is counted is what Buffer counts: HTTP requests. A call that sends three (a GraphQL
//! channel listing across organizations, a page reached by walking cursors, a create
//! reconciled after a lost answer) is charged three, by the transport under both backends,
//! against one [`RateBudget`] per credential (see `budget`).
//!
//! The classic API allows 60 requests a minute; GraphQL 100 per 15 minutes, plus a daily and
//! a 30-day window that depend on the plan. [`Pacing`] starts from those numbers; the
//! `RateLimit` headers of every answer correct them (the server's quota replaces the
//! configured one and the higher of the two counts is followed), and a 429 stops every
//! request for the wait it announced. Absurd numbers from a server are clamped (see
//! `ledger`).
//!
//! Requests go out as fast as the budget allows and then wait for the oldest to stop
//! counting, rather than being spread evenly: with windows that reset, that finishes a batch
//! in the least time. The first request goes alone, so the server's count is known before a
//! burst. No call waits longer than its [`max_wait`](Pacing::max_wait): when room comes only
//! later, the call fails at once with [`Error::RateLimited`] carrying the wait.
//!
//! Put pacing under retries (`Retrying<Paced<B>>`) so every retry is paced too.

mod budget;
mod ledger;

pub(crate) use budget::Charge;
pub use budget::{LocalBudget, RateBudget};
#[cfg(feature = "redis")]
pub(crate) use ledger::{MAX_LIMIT, MAX_WINDOW, MAX_WINDOWS};

use crate::backend::{Backend, BackendKind, Capabilities, Request, Response};
use crate::http::rate_limit::{FIFTEEN_MINUTES, ONE_DAY, RateLimits, THIRTY_DAYS};
use crate::{Error, ErrorKind, Result};
use async_trait::async_trait;
use budget::Call;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The longest a paced call waits for room by default: a minute, as long as
/// [`RetryPolicy`](crate::retry::RetryPolicy) waits out a 429 by default.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(60);

/// The quotas a [`Paced`] backend keeps to.
///
/// ```
/// use buffer_bridge::pacing::Pacing;
/// use std::time::Duration;
///
/// // A Team plan key: 100 per 15 minutes, 500 a day, 15,000 in 30 days.
/// let team = Pacing::none()
///     .quota(100, Duration::from_secs(900))
///     .quota(500, Duration::from_secs(86_400))
///     .quota(15_000, Duration::from_secs(2_592_000));
/// assert_eq!(team.quotas().len(), 3);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Pacing {
    quotas: Vec<(u64, Duration)>,
    time_scale: f64,
    max_wait: Duration,
}

impl Pacing {
    /// No quota yet: add them with [`quota`](Self::quota).
    pub fn none() -> Self {
        Self {
            quotas: Vec::new(),
            time_scale: 1.0,
            max_wait: DEFAULT_MAX_WAIT,
        }
    }

    /// The classic API's limit: 60 requests a minute.
    pub fn classic() -> Self {
        Self::none().quota(60, Duration::from_secs(60))
    }

    /// GraphQL's limits on the Free plan (100 per 15 minutes, 250 a day, 3,000 in 30 days).
    /// Higher plans' numbers are taken from the server's headers once it reports them.
    pub fn graphql() -> Self {
        Self::none()
            .quota(100, FIFTEEN_MINUTES)
            .quota(250, ONE_DAY)
            .quota(3_000, THIRTY_DAYS)
    }

    /// Buffer's published limits for a backend kind.
    pub fn of(kind: BackendKind) -> Self {
        match kind {
            BackendKind::ClassicRest => Self::classic(),
            BackendKind::GraphQl => Self::graphql(),
        }
    }

    /// Adds a quota: at most `limit` requests in any `window`.
    pub fn quota(mut self, limit: u64, window: Duration) -> Self {
        self.quotas.push((limit, window));
        self
    }

    /// How many of the server's seconds pass in one real second: 1 for Buffer, more for a
    /// simulator whose clock runs fast (its windows then pass faster too).
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.time_scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        self
    }

    /// The longest a call waits for room in the budget (default [`DEFAULT_MAX_WAIT`], in
    /// real time). A call that would wait longer fails at once with [`Error::RateLimited`]
    /// carrying the wait, for the caller to schedule: no call blocks for a window that a
    /// server (or a 30-day quota) says is hours away.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// How many of the server's seconds pass in one real second (see
    /// [`time_scale`](Self::time_scale)).
    pub fn scale(&self) -> f64 {
        self.time_scale
    }

    /// The longest a call waits for room (see [`max_wait`](Self::max_wait)).
    pub fn longest_wait(&self) -> Duration {
        self.max_wait
    }

    /// The configured quotas, `(limit, window)`.
    pub fn quotas(&self) -> &[(u64, Duration)] {
        &self.quotas
    }
}

/// A [`Backend`] that waits before each HTTP request until the rate budget has room for it.
///
/// Every request the backend underneath sends during a call through the library's transport
/// (both of its backends do) is charged to the budget, one per HTTP request; any other
/// backend is charged one request per call. The budget is shared with every task using this
/// `Paced` (hold it in an `Arc`), and with other layers over the same credential through
/// [`with_budget`](Self::with_budget).
///
/// ```no_run
/// use buffer_bridge::pacing::Paced;
/// use buffer_bridge::retry::Retrying;
/// use buffer_bridge::{BackendExt, graphql::GraphQl};
///
/// # async fn run() -> buffer_bridge::Result<()> {
/// let backend = Retrying::new(Paced::new(GraphQl::builder().api_key("…").build()?));
/// let channels = backend.channels().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Paced<B> {
    inner: B,
    budget: Arc<dyn RateBudget>,
    max_wait: Duration,
}

impl<B: Backend> Paced<B> {
    /// Paces `inner` by Buffer's published limits for its kind ([`Pacing::of`]).
    pub fn new(inner: B) -> Self {
        let pacing = Pacing::of(inner.kind());
        Self::with(inner, pacing)
    }

    /// Paces `inner` by these quotas, counted in this process.
    pub fn with(inner: B, pacing: Pacing) -> Self {
        let max_wait = pacing.max_wait;
        Self::with_budget(inner, Arc::new(LocalBudget::new(&pacing)), max_wait)
    }

    /// Paces `inner` with a budget shared with other layers or processes using the same
    /// credential; no call waits longer than `max_wait` for room.
    pub fn with_budget(inner: B, budget: Arc<dyn RateBudget>, max_wait: Duration) -> Self {
        Self {
            inner,
            budget,
            max_wait,
        }
    }

    /// The backend underneath.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// The budget requests are charged to, to share it with another layer over the same
    /// credential.
    pub fn budget(&self) -> Arc<dyn RateBudget> {
        self.budget.clone()
    }

    /// Requests left now in the tightest window, as this client counts them.
    pub fn remaining(&self) -> Option<u64> {
        self.budget.remaining()
    }
}

#[async_trait]
impl<B: Backend> Backend for Paced<B> {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }

    fn describe(&self) -> String {
        format!("paced({})", self.inner.describe())
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn rate_limits(&self) -> Option<RateLimits> {
        self.inner.rate_limits()
    }

    fn server_time(&self) -> Option<DateTime<Utc>> {
        self.inner.server_time()
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        // Refused without a request: costs nothing.
        self.capabilities().check(request.operation())?;
        let now = Instant::now();
        // A wait too long to add is as good as unbounded: thirty years.
        let deadline = now
            .checked_add(self.max_wait)
            .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30));
        let call = Call::start(self.budget.clone(), deadline).await?;
        let result = call.run(self.inner.execute(request)).await;
        // A backend that sent nothing through the transport counts as one request, answered
        // with what it reports.
        let refusal = result
            .as_ref()
            .err()
            .filter(|e| e.kind() == ErrorKind::RateLimited);
        call.finish(
            || {
                let mut limits = self.inner.rate_limits().unwrap_or_default();
                limits.retry_after = limits.retry_after.or(refusal.and_then(Error::retry_after));
                limits
            },
            refusal.is_some(),
        );
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BackendExt;

    /// A backend whose every call sends `requests` HTTP requests through the transport's
    /// charge, and `spawned` more from a task of its own.
    struct Sends {
        requests: usize,
        spawned: usize,
    }

    impl Sends {
        fn new(requests: usize) -> Self {
            Self {
                requests,
                spawned: 0,
            }
        }
    }

    #[async_trait]
    impl Backend for Sends {
        fn kind(&self) -> BackendKind {
            BackendKind::GraphQl
        }

        async fn execute(&self, _request: Request) -> Result<Response> {
            for _ in 0..self.requests {
                Charge::take()
                    .await?
                    .answered(&RateLimits::default(), false);
            }
            let spawned = self.spawned;
            tokio::spawn(async move {
                for _ in 0..spawned {
                    Charge::take()
                        .await?
                        .answered(&RateLimits::default(), false);
                }
                Ok::<_, crate::Error>(())
            })
            .await
            .expect("the task ends")?;
            Ok(Response::Channels(Vec::new()))
        }
    }

    fn hundred() -> Pacing {
        Pacing::none().quota(100, FIFTEEN_MINUTES)
    }

    #[tokio::test(start_paused = true)]
    async fn every_request_of_a_call_is_charged_and_a_call_that_sends_none_counts_one() {
        let three = Paced::with(Sends::new(3), hundred());
        three.channels().await.unwrap();
        assert_eq!(three.remaining(), Some(97));
        let none = Paced::with(Sends::new(0), hundred());
        none.channels().await.unwrap();
        assert_eq!(none.remaining(), Some(99));
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_spawned_by_a_call_is_not_charged() {
        let paced = Paced::with(
            Sends {
                requests: 1,
                spawned: 5,
            },
            hundred(),
        );
        paced.channels().await.unwrap();
        assert_eq!(paced.remaining(), Some(99));
    }

    #[tokio::test(start_paused = true)]
    async fn layers_sharing_a_budget_count_once() {
        let first = Paced::with(Sends::new(2), hundred());
        let second = Paced::with_budget(Sends::new(1), first.budget(), DEFAULT_MAX_WAIT);
        first.channels().await.unwrap();
        second.channels().await.unwrap();
        assert_eq!(first.remaining(), Some(97));
        assert_eq!(second.remaining(), Some(97));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_would_wait_past_max_wait_fails_at_once() {
        let paced = Paced::with(
            Sends::new(1),
            Pacing::none()
                .quota(1, FIFTEEN_MINUTES)
                .max_wait(Duration::from_secs(60)),
        );
        paced.channels().await.unwrap();
        let start = Instant::now();
        let error = paced.channels().await.unwrap_err();
        assert_eq!(Instant::now(), start);
        assert_eq!(error.retry_after(), Some(FIFTEEN_MINUTES));
    }
}
