//! Side-by-side runs: answer from one backend, compare with another, in the background.
//!
//! A [`Shadow`] is a [`Backend`] made of a *primary* and a *candidate*, in the manner of
//! GitHub's Scientist. Every read goes to both at once. The caller gets the primary's answer as
//! if the candidate did not exist: the candidate runs in a task of its own, under its own
//! timeout, and its errors, panics and latency never reach the caller. When both have answered,
//! the answers are normalised and compared as JSON by a [`Comparator`], and the
//! [`Comparison`] goes to a [`Reporter`].
//!
//! Why a background task rather than waiting (with a bound) for the candidate: any wait at all
//! would add the candidate's latency to the caller's, up to the bound, on every call, which is
//! exactly what a side-by-side run must not do. The price is that a comparison is reported a
//! little after the call returns; [`Shadow::settled`] waits for those in flight (tests, and short
//! programs before they exit), and at most [`ShadowBuilder::max_in_flight`] run at once, so a
//! candidate that hangs costs memory for a bounded number of tasks, not an unbounded one.
//!
//! Writes go to the primary only: both backends usually reach the same Buffer account, and a
//! comparison must never post twice. Only a candidate declared a sandbox (another account, the
//! simulator) receives writes too.
//!
//! # Comparing writes on a sandbox
//!
//! The sandbox receives the very request the primary does, with the same channel and post
//! ids, so it has to mirror the primary's account (a simulator loaded with the same channels
//! and posts, say); a sandbox with ids of its own answers `NotFound` and every write compares
//! as a mismatch. Even a mirror makes its own posts: a create's new post ids differ between
//! the two sides, and so do the times each side stamps (`created_at`, `updated_at`, a queued
//! post's `due_at` when the two queues differ).
//!
//! The default comparator ([`Comparator::rest_vs_graphql`]) treats the posts in a write's answer
//! (a create's outcome per channel, an edited or moved post, a reordered queue) exactly as the
//! posts of a read, with the [known differences](known) of the two APIs, and compares a channel
//! refused in a create's outcome by the kind of its error, as it does a failed call. It leaves
//! ids and times alone, since on reads a different id is a real difference; add that for a
//! sandbox run:
//!
//! ```no_run
//! use buffer_bridge::{Backend, Operation};
//! use buffer_bridge::shadow::{Normaliser, Shadow};
//! use std::sync::Arc;
//!
//! # fn run(rest: Arc<dyn Backend>, sandbox: Arc<dyn Backend>) {
//! let mut builder = Shadow::builder(rest, sandbox).sandbox_candidate();
//! for field in ["id", "created_at", "updated_at", "due_at"] {
//!     let created = format!("data.channels[*].result.created.{field}");
//!     let normaliser = Normaliser::remove(&created).for_operation(Operation::CreatePost);
//!     builder = builder.normalise(normaliser);
//! }
//! let shadow = builder.build();
//! # let _ = shadow;
//! # }
//! ```
//!
//! ```no_run
//! use buffer_bridge::{Backend, BackendExt, Operation};
//! use buffer_bridge::shadow::{Sample, Shadow};
//! use std::sync::Arc;
//!
//! # async fn run(rest: Arc<dyn Backend>, graphql: Arc<dyn Backend>) -> buffer_bridge::Result<()> {
//! let shadow = Shadow::builder(rest, graphql)
//!     .sample(Sample::EveryNth(10))
//!     .ignore(Operation::Posts, "data.items[*].metrics", "statistics and metrics differ by design")
//!     .build();
//! let channels = shadow.channels().await?; // the classic API's answer; GraphQL's is compared
//! # let _ = channels;
//! # Ok(()) }
//! ```

mod compare;
pub mod known;
mod path;
mod report;

pub use compare::{Comparator, Difference, Ignored, Normaliser, Outcome, Verdict};
pub use path::{JsonPath, PathPattern, Step};
pub use report::{Comparison, JsonLinesReporter, MemoryReporter, Reporter, Side, TracingReporter};

use crate::backend::{Backend, BackendKind, Capabilities, Request, Response};
use crate::http::rate_limit::RateLimits;
use crate::{Error, Result};
use async_trait::async_trait;
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, oneshot};

/// How long the candidate may take when no timeout is set.
pub const DEFAULT_CANDIDATE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many comparisons may run at once when no limit is set.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 64;

/// Which calls are compared. Deterministic, so a run can be repeated.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Sample {
    /// Every call.
    #[default]
    All,
    /// The first call and then every `n`th (`0` compares none).
    EveryNth(u64),
    /// About `share` of the calls (0.0 to 1.0), chosen by a generator seeded with `seed`.
    Share {
        /// The share of calls to compare.
        share: f64,
        /// The seed: the same seed picks the same calls.
        seed: u64,
    },
}

impl Sample {
    /// Whether the `call`th comparable call (from 0) is compared.
    pub fn takes(&self, call: u64) -> bool {
        match *self {
            Self::All => true,
            Self::EveryNth(0) => false,
            Self::EveryNth(n) => call % n == 0,
            Self::Share { share, seed } => {
                let draw = (splitmix64(seed ^ call.wrapping_mul(0x9e37_79b9_7f4a_7c15)) >> 11)
                    as f64
                    / (1u64 << 53) as f64;
                draw < share
            }
        }
    }
}

/// A small, well-mixed hash of a counter: enough for sampling, and stable across versions.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

struct Settings {
    comparator: Comparator,
    reporter: Arc<dyn Reporter>,
    candidate_timeout: Duration,
    sandbox: bool,
    sample: Sample,
    max_in_flight: u32,
    slots: Arc<Semaphore>,
    calls: AtomicU64,
    skipped: AtomicU64,
}

/// A [`Backend`] that answers from a primary and compares a candidate in the background.
/// See the [module documentation](self).
#[derive(Clone)]
pub struct Shadow {
    primary: Arc<dyn Backend>,
    candidate: Arc<dyn Backend>,
    settings: Arc<Settings>,
}

impl std::fmt::Debug for Shadow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shadow")
            .field("primary", &self.primary.kind())
            .field("candidate", &self.candidate.kind())
            .field("sandbox", &self.settings.sandbox)
            .field("sample", &self.settings.sample)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Shadow`].
pub struct ShadowBuilder {
    primary: Arc<dyn Backend>,
    candidate: Arc<dyn Backend>,
    comparator: Comparator,
    reporter: Arc<dyn Reporter>,
    candidate_timeout: Duration,
    sandbox: bool,
    sample: Sample,
    max_in_flight: u32,
}

impl Shadow {
    /// A shadow with the default settings: every read compared, the classic-versus-GraphQL
    /// [`Comparator`], reports through `tracing`, a 10 s candidate timeout.
    pub fn new(primary: Arc<dyn Backend>, candidate: Arc<dyn Backend>) -> Self {
        Self::builder(primary, candidate).build()
    }

    /// A builder, to set the reporter, sampling, ignore rules, timeout or sandbox.
    pub fn builder(primary: Arc<dyn Backend>, candidate: Arc<dyn Backend>) -> ShadowBuilder {
        ShadowBuilder {
            primary,
            candidate,
            comparator: Comparator::default(),
            reporter: Arc::new(TracingReporter),
            candidate_timeout: DEFAULT_CANDIDATE_TIMEOUT,
            sandbox: false,
            sample: Sample::All,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }

    /// The backend whose answers the caller gets.
    pub fn primary(&self) -> &Arc<dyn Backend> {
        &self.primary
    }

    /// The backend being compared.
    pub fn candidate(&self) -> &Arc<dyn Backend> {
        &self.candidate
    }

    /// Waits until every comparison started so far has been reported.
    pub async fn settled(&self) {
        // Each comparison holds one permit: all permits free means none in flight.
        if let Ok(all) = self
            .settings
            .slots
            .acquire_many(self.settings.max_in_flight)
            .await
        {
            drop(all);
        }
    }

    /// How many sampled calls went uncompared because [`ShadowBuilder::max_in_flight`]
    /// comparisons were already running (a sign that the candidate is slow or hanging).
    pub fn skipped(&self) -> u64 {
        self.settings.skipped.load(Ordering::Relaxed)
    }

    fn should_compare(&self, request: &Request) -> bool {
        if request.writes() && !self.settings.sandbox {
            return false;
        }
        let call = self.settings.calls.fetch_add(1, Ordering::Relaxed);
        self.settings.sample.takes(call)
    }

    /// Starts the candidate on `request` in a task of its own; the task compares its answer
    /// with the primary's once that arrives through the returned sender. `None` when the
    /// comparison cannot start (no tokio runtime, or too many in flight).
    fn start_candidate(
        &self,
        request: &Request,
    ) -> Option<oneshot::Sender<(Result<Response>, Duration)>> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let Ok(slot) = self.settings.slots.clone().try_acquire_owned() else {
            self.settings.skipped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                target: "buffer_bridge::shadow",
                operation = request.operation().as_str(),
                in_flight = self.settings.max_in_flight,
                "too many comparisons in flight; this call is not compared"
            );
            return None;
        };
        let (send_primary, primary_answer) = oneshot::channel();
        let candidate = Arc::clone(&self.candidate);
        let settings = Arc::clone(&self.settings);
        let primary_kind = self.primary.kind();
        let request = request.clone();
        runtime.spawn(async move {
            let _slot = slot;
            let started = Instant::now();
            let attempt = AssertUnwindSafe(candidate.execute(request.clone())).catch_unwind();
            let answer = match tokio::time::timeout(settings.candidate_timeout, attempt).await {
                Ok(Ok(answer)) => Ok(answer),
                Ok(Err(panic)) => Err(format!("the candidate panicked: {}", panic_text(&*panic))),
                Err(_) => Err(Error::Timeout {
                    after: Some(settings.candidate_timeout),
                }
                .to_string()),
            };
            let candidate_side = Side::new(candidate.kind(), started.elapsed());
            // The caller dropped its call before the primary answered: nothing to compare.
            let Ok((primary, primary_elapsed)) = primary_answer.await else {
                return;
            };
            let operation = request.operation();
            let outcome = match answer {
                Ok(candidate) => settings.comparator.compare(operation, &primary, &candidate),
                Err(failure) => Outcome::failed(failure),
            };
            settings.reporter.report(&Comparison {
                operation,
                request,
                primary: Side::new(primary_kind, primary_elapsed),
                candidate: candidate_side,
                outcome,
            });
        });
        Some(send_primary)
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

#[async_trait]
impl Backend for Shadow {
    /// The primary's kind: the caller's answers come from it.
    fn kind(&self) -> BackendKind {
        self.primary.kind()
    }

    /// The primary's capabilities.
    fn capabilities(&self) -> Capabilities {
        self.primary.capabilities()
    }

    /// The primary's budget: pacing a shadow paces the calls whose answers the caller gets.
    /// The candidate spends its own budget; wrap it in its own [`Paced`](crate::pacing::Paced).
    fn rate_limits(&self) -> Option<RateLimits> {
        self.primary.rate_limits()
    }

    /// The primary's clock: the writes that matter go to it.
    fn server_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.primary.server_time()
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        let comparison = if self.should_compare(&request) {
            self.start_candidate(&request)
        } else {
            None
        };
        let started = Instant::now();
        let answer = self.primary.execute(request).await;
        if let Some(comparison) = comparison {
            // The comparison task may be gone (it panicked in a reporter); that is its loss.
            let _ = comparison.send((answer.clone(), started.elapsed()));
        }
        answer
    }
}

impl ShadowBuilder {
    /// Replaces the comparator (normalisers and ignore rules); the default is
    /// [`Comparator::rest_vs_graphql`].
    pub fn comparator(mut self, comparator: Comparator) -> Self {
        self.comparator = comparator;
        self
    }

    /// Adds a normaliser to the comparator.
    pub fn normalise(mut self, normaliser: Normaliser) -> Self {
        self.comparator = self.comparator.normalise(normaliser);
        self
    }

    /// Accepts a known difference; see [`Comparator::ignore`].
    pub fn ignore(
        mut self,
        operation: impl Into<Option<crate::Operation>>,
        pattern: &str,
        reason: impl Into<String>,
    ) -> Self {
        self.comparator = self.comparator.ignore(operation, pattern, reason);
        self
    }

    /// Where comparisons go; the default is [`TracingReporter`].
    pub fn reporter(mut self, reporter: impl Reporter + 'static) -> Self {
        self.reporter = Arc::new(reporter);
        self
    }

    /// How long the candidate may take before its comparison is reported as failed (default
    /// 10 s). It never delays the caller either way.
    pub fn candidate_timeout(mut self, timeout: Duration) -> Self {
        self.candidate_timeout = timeout;
        self
    }

    /// Declares the candidate a sandbox account, where posting is harmless: writes then go to
    /// it too, and are compared like reads. Without this, writes go to the primary only.
    pub fn sandbox_candidate(mut self) -> Self {
        self.sandbox = true;
        self
    }

    /// Which calls to compare (default: all).
    pub fn sample(mut self, sample: Sample) -> Self {
        self.sample = sample;
        self
    }

    /// The most comparisons running at once (default 64, at least 1); calls beyond it are
    /// answered as usual and not compared.
    pub fn max_in_flight(mut self, limit: u32) -> Self {
        self.max_in_flight = limit.max(1);
        self
    }

    /// Builds the shadow.
    pub fn build(self) -> Shadow {
        Shadow {
            primary: self.primary,
            candidate: self.candidate,
            settings: Arc::new(Settings {
                comparator: self.comparator,
                reporter: self.reporter,
                candidate_timeout: self.candidate_timeout,
                sandbox: self.sandbox,
                sample: self.sample,
                max_in_flight: self.max_in_flight,
                slots: Arc::new(Semaphore::new(self.max_in_flight as usize)),
                calls: AtomicU64::new(0),
                skipped: AtomicU64::new(0),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_is_deterministic_and_near_its_share() {
        let every_third: Vec<u64> = (0..9).filter(|c| Sample::EveryNth(3).takes(*c)).collect();
        assert_eq!(every_third, [0, 3, 6]);
        let share = Sample::Share {
            share: 0.25,
            seed: 7,
        };
        let taken = (0..10_000).filter(|c| share.takes(*c)).count();
        assert!((2_200..2_800).contains(&taken), "{taken}");
        let again = (0..10_000).filter(|c| share.takes(*c)).count();
        assert_eq!(taken, again);
        assert!(!Sample::EveryNth(0).takes(0));
    }
}
