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
//! programs before they exit).
//!
//! # What the caller's path costs
//!
//! The candidate's calls, the comparisons and the reports run on a small runtime of the
//! shadow's own (one thread, and one more for comparing), never on the caller's: a candidate
//! that blocks its thread, panics or hangs stalls only the shadow. On the caller's path, nothing
//! grows with what the candidate answers: a call takes a slot, starts the candidate's task,
//! and hands over a copy of the primary's answer (its summary instead, when it lists more than
//! [`ShadowBuilder::max_compared_items`] items).
//!
//! At most [`ShadowBuilder::max_in_flight`] comparisons are in flight at once. When all slots
//! are taken, a call's comparison is dropped at once, never queued behind the others: it is
//! counted ([`Shadow::dropped`]) and reported with [`Verdict::Dropped`]. An answer over the
//! size limits ([`ShadowBuilder::max_compared_items`], [`ShadowBuilder::max_compared_bytes`])
//! is compared by its item count and a digest of its ids, not item by item, so that neither
//! time nor memory grows with what a candidate sends.
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
mod summary;
mod worker;

pub use compare::{Comparator, Difference, Ignored, Normaliser, Outcome, Verdict};
pub use path::{JsonPath, PathPattern, Step};
pub use report::{Comparison, JsonLinesReporter, MemoryReporter, Reporter, Side, TracingReporter};
pub use summary::{DEFAULT_MAX_COMPARED_BYTES, DEFAULT_MAX_COMPARED_ITEMS};

use crate::backend::{Backend, BackendKind, Capabilities, Request, Response};
use crate::http::rate_limit::RateLimits;
use crate::{Error, Result};
use async_trait::async_trait;
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use summary::{Answer, Limits};
use tokio::sync::oneshot;
use worker::{Slot, Slots, Worker};

/// How long the candidate may take when no timeout is set.
pub const DEFAULT_CANDIDATE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many comparisons may be in flight at once when no limit is set.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 64;

/// How many reports of dropped comparisons may wait for the reporter at once. Each holds only
/// the request; past this, drops are still counted, and the next report says how many.
const MAX_PENDING_DROP_REPORTS: usize = 1_024;

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
            Self::EveryNth(n) => call.is_multiple_of(n),
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

/// What the shadow's tasks share with it. Not the worker: a task must not keep the runtime it
/// runs on alive.
struct Settings {
    comparator: Comparator,
    reporter: Arc<dyn Reporter>,
    candidate_timeout: Duration,
    sandbox: bool,
    sample: Sample,
    limits: Limits,
    calls: AtomicU64,
    dropped: AtomicU64,
    /// One a comparison, from its start until it is reported.
    comparisons: Arc<Slots>,
    /// One a report of a dropped comparison, until it is made.
    drop_reports: Arc<Slots>,
    /// Drops not reported one by one because the reports of drops were backed up too; the
    /// next report of a drop carries their number.
    unreported_drops: AtomicU64,
}

/// A [`Backend`] that answers from a primary and compares a candidate in the background.
/// See the [module documentation](self).
#[derive(Clone)]
pub struct Shadow {
    primary: Arc<dyn Backend>,
    candidate: Arc<dyn Backend>,
    settings: Arc<Settings>,
    /// Started by the first comparison; `None` when its thread could not be started.
    worker: Arc<OnceLock<Option<Worker>>>,
}

impl std::fmt::Debug for Shadow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shadow")
            .field("primary", &self.primary.kind())
            .field("candidate", &self.candidate.kind())
            .field("sandbox", &self.settings.sandbox)
            .field("sample", &self.settings.sample)
            .field("dropped", &self.dropped())
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
    limits: Limits,
}

/// What a call does about its comparison, decided before the primary is called.
enum Plan {
    /// Not sampled, a write to a candidate that is not a sandbox, or a drop whose report
    /// has no room either.
    Skip,
    /// The candidate's task waits for the primary's answer.
    Compare(oneshot::Sender<(Result<Answer>, Duration)>),
    /// No room: report the drop once the primary has answered.
    Drop(Box<Request>, Slot),
}

impl Shadow {
    /// A shadow with the default settings: every read compared, the classic-versus-GraphQL
    /// [`Comparator`], reports through `tracing`, a 10 s candidate timeout.
    pub fn new(primary: Arc<dyn Backend>, candidate: Arc<dyn Backend>) -> Self {
        Self::builder(primary, candidate).build()
    }

    /// A builder, to set the reporter, sampling, ignore rules, timeout, limits or sandbox.
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
            limits: Limits::default(),
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

    /// Waits until every comparison in flight, and every report of a dropped one, has been
    /// reported (tests, and short programs before they exit). Comparisons started while it
    /// waits are waited for too. A candidate that blocks its thread holds it until it returns;
    /// one that hangs, until its timeout.
    pub async fn settled(&self) {
        self.settings.comparisons.idle().await;
        self.settings.drop_reports.idle().await;
    }

    /// How many sampled calls went uncompared because [`ShadowBuilder::max_in_flight`]
    /// comparisons were already in flight (a sign that the candidate is slow or stuck). Each
    /// is also reported with [`Verdict::Dropped`].
    pub fn dropped(&self) -> u64 {
        self.settings.dropped.load(Ordering::Relaxed)
    }

    fn worker(&self) -> Option<&Worker> {
        self.worker
            .get_or_init(|| {
                Worker::start()
                    .inspect_err(|error| {
                        tracing::warn!(
                            target: "buffer_bridge::shadow",
                            %error,
                            "could not start the shadow's thread; no call will be compared"
                        );
                    })
                    .ok()
            })
            .as_ref()
    }

    /// Decides what `request`'s comparison does, on the caller's path: never waits.
    fn plan(&self, request: &Request) -> Plan {
        // A reconciliation asks about a write: only a sandbox saw it too.
        if request.operation().route_as().writes() && !self.settings.sandbox {
            return Plan::Skip;
        }
        let call = self.settings.calls.fetch_add(1, Ordering::Relaxed);
        if !self.settings.sample.takes(call) {
            return Plan::Skip;
        }
        let Some(worker) = self.worker() else {
            self.settings.dropped.fetch_add(1, Ordering::Relaxed);
            return Plan::Skip;
        };
        if let Some(slot) = self.settings.comparisons.try_take() {
            return Plan::Compare(self.start_candidate(worker, request, slot));
        }
        self.settings.dropped.fetch_add(1, Ordering::Relaxed);
        match self.settings.drop_reports.try_take() {
            Some(slot) => Plan::Drop(Box::new(request.clone()), slot),
            None => {
                self.settings
                    .unreported_drops
                    .fetch_add(1, Ordering::Relaxed);
                Plan::Skip
            }
        }
    }

    /// Starts the candidate on `request` in a task of the shadow's runtime. The task compares
    /// the candidate's answer with the primary's once that arrives through the returned sender,
    /// on the runtime's blocking thread, and reports; `slot` is freed when it has reported.
    fn start_candidate(
        &self,
        worker: &Worker,
        request: &Request,
        slot: Slot,
    ) -> oneshot::Sender<(Result<Answer>, Duration)> {
        let (send_primary, primary_answer) = oneshot::channel::<(Result<Answer>, Duration)>();
        let candidate = Arc::clone(&self.candidate);
        let settings = Arc::clone(&self.settings);
        let primary_kind = self.primary.kind();
        let request = request.clone();
        worker.handle().spawn(async move {
            let started = Instant::now();
            let attempt = AssertUnwindSafe(candidate.execute(request.clone())).catch_unwind();
            let limits = settings.limits;
            let answer = match tokio::time::timeout(settings.candidate_timeout, attempt).await {
                // A huge answer is summarised here and let go, not held until the primary's.
                Ok(Ok(answer)) => Ok(answer.map(|response| Answer::keep(response, limits))),
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
            let compare = move || {
                let operation = request.operation();
                let outcome = match answer {
                    Ok(candidate) => {
                        let primary = primary.map(|answer| answer.within_bytes(limits));
                        let candidate = candidate.map(|answer| answer.within_bytes(limits));
                        settings
                            .comparator
                            .compare_answers(operation, &primary, &candidate)
                    }
                    Err(failure) => Outcome::failed(failure),
                };
                settings.reporter.report(&Comparison {
                    operation,
                    request,
                    primary: Side::new(primary_kind, primary_elapsed),
                    candidate: candidate_side,
                    outcome,
                });
                drop(slot);
            };
            // Not awaited: the slot, moved in, is what tracks the comparison.
            drop(tokio::task::spawn_blocking(compare));
        });
        send_primary
    }

    /// Reports a dropped comparison from the shadow's runtime, never on the caller's path.
    fn report_drop(&self, request: Request, primary_elapsed: Duration, slot: Slot) {
        let Some(worker) = self.worker() else {
            return;
        };
        let settings = Arc::clone(&self.settings);
        let primary = Side::new(self.primary.kind(), primary_elapsed);
        let candidate = Side::new(self.candidate.kind(), Duration::ZERO);
        worker.handle().spawn_blocking(move || {
            let also = settings.unreported_drops.swap(0, Ordering::Relaxed);
            let mut detail = format!(
                "not compared: {} comparisons were already in flight",
                settings.comparisons.limit()
            );
            if also > 0 {
                detail.push_str(&format!(" (and {also} more calls dropped unreported)"));
            }
            settings.reporter.report(&Comparison {
                operation: request.operation(),
                request,
                primary,
                candidate,
                outcome: Outcome::dropped(detail),
            });
            drop(slot);
        });
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

    fn describe(&self) -> String {
        let sandbox = if self.settings.sandbox {
            " (sandbox)"
        } else {
            ""
        };
        format!(
            "shadow({}, candidate {}{sandbox})",
            self.primary.describe(),
            self.candidate.describe()
        )
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        let plan = self.plan(&request);
        let started = Instant::now();
        let answer = self.primary.execute(request).await;
        let elapsed = started.elapsed();
        match plan {
            Plan::Skip => {}
            Plan::Compare(comparison) => {
                let copy = match &answer {
                    Ok(response) => Ok(Answer::copy(response, self.settings.limits)),
                    Err(error) => Err(error.clone()),
                };
                // The task may be gone (the shadow's runtime stopped); that is its loss.
                let _ = comparison.send((copy, elapsed));
            }
            Plan::Drop(request, slot) => self.report_drop(*request, elapsed, slot),
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

    /// Where comparisons go; the default is [`TracingReporter`]. It is called on the shadow's
    /// own thread, never the caller's.
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

    /// The most comparisons in flight at once, from the candidate's call until the report
    /// (default 64, at least 1). A call beyond it is answered as usual, and its comparison
    /// dropped and counted: it bounds the memory a hanging candidate can hold.
    pub fn max_in_flight(mut self, limit: u32) -> Self {
        self.max_in_flight = limit.max(1);
        self
    }

    /// The most items an answer may list and be compared item by item (default
    /// [`DEFAULT_MAX_COMPARED_ITEMS`]); a longer one is compared by its item count and a
    /// digest of its ids, and on the caller's path only that summary is made, not a copy.
    pub fn max_compared_items(mut self, items: usize) -> Self {
        self.limits.items = items;
        self
    }

    /// The most bytes an answer may take as JSON and be compared item by item (default
    /// [`DEFAULT_MAX_COMPARED_BYTES`]); a larger one is compared by its item count and a
    /// digest of its ids. Measured on the shadow's thread, by serialising up to the limit.
    pub fn max_compared_bytes(mut self, bytes: usize) -> Self {
        self.limits.bytes = bytes;
        self
    }

    /// Builds the shadow. Its thread starts with the first comparison.
    pub fn build(self) -> Shadow {
        let slots = self.max_in_flight as usize;
        Shadow {
            primary: self.primary,
            candidate: self.candidate,
            settings: Arc::new(Settings {
                comparator: self.comparator,
                reporter: self.reporter,
                candidate_timeout: self.candidate_timeout,
                sandbox: self.sandbox,
                sample: self.sample,
                limits: self.limits,
                calls: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                comparisons: Slots::new(slots),
                drop_reports: Slots::new(MAX_PENDING_DROP_REPORTS),
                unreported_drops: AtomicU64::new(0),
            }),
            worker: Arc::new(OnceLock::new()),
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
