//! [`RedisBudget`]: one credential's rate budget counted in Redis by every process of a fleet.
//!
//! The count is the in-process ledger's (see `pacing::ledger`), kept by `budget.lua`: each
//! request counts from when it is taken until one window after its answer, the first goes
//! alone until answered, the server's `RateLimit` headers correct the count and a 429 stops
//! every worker for its wait. Two things differ because workers die: a request taken by a
//! worker that never reports its answer counts as answered once [`Fleet::request_bound`] has
//! passed, and a first request never answered lets another worker try after that bound.
//!
//! Answers are sent to Redis by a task of the budget's own, so [`RateBudget::answered`]
//! returns at once; until an answer arrives its request still counts as on its way, which is
//! the safe side. Every answer is also recorded in a local share of the budget, the one used
//! while Redis is unreachable, so that share starts from what this process knows.

use super::{Fleet, micros_between};
use crate::http::Credential;
use crate::http::rate_limit::{RateLimits, RateWindow};
use crate::pacing::{LocalBudget, MAX_LIMIT, MAX_WINDOW, MAX_WINDOWS, Pacing, RateBudget};
use crate::{Error, Result};
use async_trait::async_trait;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

static SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("budget.lua")));

/// Answers waiting to be sent to Redis; past this many (Redis too slow to keep up), an
/// answer is dropped and its request counts until its bound, on the safe side.
const ANSWER_QUEUE: usize = 4096;

/// Answers sent to Redis at once, at most.
const ANSWER_BATCH: usize = 64;

/// The longest a worker waiting for others' answers sleeps before it looks again.
const POLL: Duration = Duration::from_millis(50);

/// How long a call may wait for Redis to answer a take when less of its max_wait is left:
/// a round trip's worth, far above a healthy Redis's (a tenth of a millisecond on loopback).
const ASK_AT_LEAST: Duration = Duration::from_millis(100);

/// One server second more than a server-given wait: its waits are whole seconds, often
/// rounded down.
const ONE_SECOND: Duration = Duration::from_secs(1);

/// A [`RateBudget`] kept in Redis and shared by every process using the same credential
/// through the same [`Fleet`]. Made by [`Fleet::budget`].
pub struct RedisBudget {
    counter: Arc<Counter>,
    /// The local share, used while Redis is unreachable: one per credential in a fleet, shared
    /// by every budget it makes for that credential.
    fallback: Arc<LocalBudget>,
    /// Requests taken and not yet answered, oldest first: where each was taken.
    taken: Mutex<VecDeque<Taken>>,
    /// Requests sent on the local share that Redis was not told of yet: when they were
    /// answered (or will be at the latest), oldest first, and how many then.
    unreplayed: Mutex<VecDeque<(Instant, u64)>>,
    /// The queue to the task that sends answers to Redis, started by the first request
    /// taken there (and again should its runtime have ended).
    answers: Mutex<Option<mpsc::Sender<Answer>>>,
    /// Whether an answer was dropped for a full queue (logged once).
    overflowed: AtomicBool,
    /// Whether the last request was taken in Redis, so a fall back must first tell the local
    /// share what the fleet had used.
    in_redis: AtomicBool,
}

/// A request's ticket and its answer's report, on their way to Redis.
type Answer = (String, Vec<String>);

enum Taken {
    /// From Redis, under this ticket.
    Shared(String),
    /// From the local share.
    Local,
    /// From the local share, and already told to Redis (as answered a bound later).
    Replayed,
}

/// What the task that sends answers shares with the budget.
struct Counter {
    fleet: Fleet,
    /// The state hash and the tickets' sorted set.
    keys: [String; 2],
    /// `(length as the server states it, real length, limit)` of each configured quota.
    quotas: Vec<(Duration, Duration, u64)>,
    time_scale: f64,
    /// Tells this budget's tickets from every other's.
    id: String,
    issued: AtomicU64,
    /// Requests left in the tightest window at the last count, `u64::MAX` before any.
    left: AtomicU64,
    /// Woken when an answer was counted, so this process's waiters look again.
    changed: Notify,
    /// Whether a distrusted server number was logged.
    distrusted: AtomicBool,
}

impl fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBudget")
            .field("fleet", &self.counter.fleet)
            .field("key", &self.counter.keys[0])
            .finish_non_exhaustive()
    }
}

/// What the script answered to a take.
struct Step {
    code: i64,
    at: i64,
    now: i64,
}

impl RedisBudget {
    pub(super) fn new(fleet: Fleet, credential: &Credential, pacing: &Pacing) -> Self {
        let scale = pacing.scale();
        let real = |server: Duration| real_time(server, scale);
        let digest = credential.digest("buffer-bridge/fleet/budget/v1");
        // The hash tag keeps a credential's keys on one Redis Cluster node.
        let state = fleet.key(&format!("budget:{{{}}}", &digest[..32]));
        let tickets = format!("{state}:taken");
        let fallback = fleet.local_share(&state, pacing);
        Self {
            counter: Arc::new(Counter {
                keys: [state, tickets],
                quotas: pacing
                    .quotas()
                    .iter()
                    .map(|&(limit, length)| (length, real(length), limit.clamp(1, MAX_LIMIT)))
                    .filter(|&(length, _, _)| !length.is_zero() && length <= MAX_WINDOW)
                    .take(MAX_WINDOWS)
                    .collect(),
                time_scale: scale,
                id: format!("{:016x}", getrandom::u64().unwrap_or_else(|_| nanos())),
                issued: AtomicU64::new(0),
                left: AtomicU64::new(u64::MAX),
                changed: Notify::new(),
                distrusted: AtomicBool::new(false),
                fleet,
            }),
            fallback,
            taken: Mutex::new(VecDeque::new()),
            unreplayed: Mutex::new(VecDeque::new()),
            answers: Mutex::new(None),
            overflowed: AtomicBool::new(false),
            in_redis: AtomicBool::new(false),
        }
    }

    fn unreplayed(&self) -> std::sync::MutexGuard<'_, VecDeque<(Instant, u64)>> {
        self.unreplayed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records requests sent on the local share that Redis must still be told of, answered
    /// at `at` (or by then, for those still on their way). Past [`ANSWER_QUEUE`] entries,
    /// the newest takes more: counted longer, on the safe side.
    fn unreplayed_at(&self, at: Instant, count: u64) {
        let mut unreplayed = self.unreplayed();
        if unreplayed.len() >= ANSWER_QUEUE
            && let Some((last, n)) = unreplayed.back_mut()
        {
            *last = (*last).max(at);
            *n += count;
            return;
        }
        unreplayed.push_back((at, count));
    }

    /// Everything sent on the local share that Redis was not told of: the requests answered
    /// and those still on their way (told as answered a bound from now, and not again).
    fn take_unreplayed(&self) -> Vec<(Instant, u64)> {
        let on_their_way = self
            .taken()
            .iter_mut()
            .filter(|taken| matches!(taken, Taken::Local))
            .map(|taken| *taken = Taken::Replayed)
            .count();
        if on_their_way > 0 {
            self.unreplayed_at(
                Instant::now() + self.counter.fleet.bound(),
                on_their_way as u64,
            );
        }
        self.unreplayed().drain(..).collect()
    }

    fn taken(&self) -> std::sync::MutexGuard<'_, VecDeque<Taken>> {
        self.taken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues an answer for Redis, starting the task that sends them when none runs. An
    /// answer that cannot be queued leaves its request counting until its bound.
    fn send(&self, answer: Answer) {
        let mut answers = self
            .answers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if answers.as_ref().is_none_or(mpsc::Sender::is_closed) {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return;
            };
            let (sender, mut receiver) = mpsc::channel::<Answer>(ANSWER_QUEUE);
            let counter = Arc::clone(&self.counter);
            // Sends what has queued up at once (pipelined on the connection), so answers keep
            // up with any number of workers taking requests. Ends when the budget, and so the
            // sender, is dropped.
            runtime.spawn(async move {
                let mut batch = Vec::with_capacity(ANSWER_BATCH);
                while receiver.recv_many(&mut batch, ANSWER_BATCH).await > 0 {
                    let sent = batch
                        .drain(..)
                        .map(|(ticket, report)| counter.answer(ticket, report));
                    futures::future::join_all(sent).await;
                }
            });
            *answers = Some(sender);
        }
        let full = answers
            .as_ref()
            .is_some_and(|sender| sender.try_send(answer).is_err());
        if full && !self.overflowed.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "answers are coming faster than Redis takes them; the ones dropped count as \
                 on their way until their bound"
            );
        }
    }

    /// Tells the local share how much of the shortest window the fleet had used at Redis's
    /// last count (requests on their way included), as the server's headers would: others'
    /// requests in the window are not this process's to spend again. The classic API sends no
    /// such headers, so without this a process that had sent few requests would spend its
    /// whole share on top of the others'.
    fn fleet_used_to_share(&self) {
        let left = self.counter.left.load(Ordering::Relaxed);
        let shortest = self.counter.quotas.iter().min_by_key(|quota| quota.0);
        let (Some(&(length, _, limit)), false) = (shortest, left == u64::MAX) else {
            return;
        };
        let mut limits = RateLimits::default();
        limits.windows.push(RateWindow {
            window: Some(length),
            limit: Some(limit),
            remaining: Some(left.min(limit)),
            ..RateWindow::default()
        });
        self.fallback.learn(&limits);
    }

    /// The error for a wait past the deadline; `wait` is `None` while the first answer has
    /// not come.
    fn too_long(&self, wait: Option<Duration>) -> Error {
        let message = match wait {
            Some(wait) => format!(
                "the fleet's rate budget has room again in {} s, later than the call's max_wait",
                wait.as_secs_f64().ceil()
            ),
            None => "the fleet's first request, whose answer tells how much of the rate budget \
                     is left, was not answered within the call's max_wait"
                .to_owned(),
        };
        Error::RateLimited {
            retry_after: wait.map(|wait| self.counter.server_time(wait)),
            message,
        }
    }
}

/// A duration in the server's seconds, in real time.
fn real_time(server: Duration, scale: f64) -> Duration {
    Duration::try_from_secs_f64(server.as_secs_f64() / scale).unwrap_or(Duration::MAX)
}

/// Redis did not answer a take before the call's deadline: as good as unreachable.
fn unanswered() -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "Redis did not answer within the call's max_wait",
    ))
}

fn nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn micros(duration: Duration) -> String {
    duration.as_micros().min(i64::MAX as u128).to_string()
}

impl Counter {
    fn real(&self, server: Duration) -> Duration {
        real_time(server, self.time_scale)
    }

    fn server_time(&self, real: Duration) -> Duration {
        Duration::try_from_secs_f64(real.as_secs_f64() * self.time_scale).unwrap_or(Duration::MAX)
    }

    /// How long a waiter for others' answers sleeps before looking again: a server second,
    /// at most [`POLL`].
    fn poll(&self) -> Duration {
        self.real(ONE_SECOND).clamp(Duration::from_millis(1), POLL)
    }

    fn ticket(&self) -> String {
        format!(
            "{}-{:x}",
            self.id,
            self.issued.fetch_add(1, Ordering::Relaxed)
        )
    }

    fn distrust(&self, what: &str) {
        if !self.distrusted.swap(true, Ordering::Relaxed) {
            tracing::warn!("the server's rate-limit report is not believed as given: {what}");
        }
    }

    async fn run(&self, args: Vec<String>) -> redis::RedisResult<Vec<String>> {
        let mut connection = self.fleet.connection().await?;
        let mut invocation = SCRIPT.prepare_invoke();
        invocation.key(&self.keys[0]).key(&self.keys[1]);
        for arg in &args {
            invocation.arg(arg);
        }
        let answer: Vec<String> = invocation.invoke_async(&mut connection).await?;
        if let Some(left) = answer.get(3).and_then(|left| left.parse::<i64>().ok()) {
            self.left
                .store(u64::try_from(left).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
        Ok(answer)
    }

    /// Takes one request under `ticket`, or says how long to wait.
    async fn take(&self, ticket: &str) -> redis::RedisResult<Step> {
        let mut args = vec![
            "take".to_owned(),
            ticket.to_owned(),
            micros(self.fleet.bound()),
        ];
        args.extend(self.quota_args());
        let answer = self.run(args).await?;
        let number = |i: usize| {
            answer
                .get(i)
                .and_then(|n| n.parse::<i64>().ok())
                .ok_or_else(|| {
                    redis::RedisError::from((
                        redis::ErrorKind::Client,
                        "the budget script answered something else",
                    ))
                })
        };
        Ok(Step {
            code: number(0)?,
            at: number(1)?,
            now: number(2)?,
        })
    }

    /// The quotas as the script's arguments: how many, then each one's length, real length
    /// and limit.
    fn quota_args(&self) -> Vec<String> {
        let mut args = vec![self.quotas.len().to_string()];
        for &(length, real, limit) in &self.quotas {
            args.extend([micros(length), micros(real), limit.to_string()]);
        }
        args
    }

    /// Tells Redis of requests sent on the local share: each `(answered, count)` counts one
    /// window past `answered` (a time to come for those still on their way).
    async fn replay(&self, unreplayed: &[(Instant, u64)]) -> redis::RedisResult<()> {
        let now = Instant::now();
        let mut args = vec!["replay".to_owned(), String::new(), String::new()];
        args.extend(self.quota_args());
        for &(at, count) in unreplayed {
            // How long ago, in microseconds; negative for a time to come.
            let ago = match at.checked_duration_since(now) {
                Some(ahead) => format!("-{}", micros(ahead)),
                None => micros(now.saturating_duration_since(at)),
            };
            args.extend([ago, count.to_string()]);
        }
        self.run(args).await.map(drop)
    }

    /// Counts an answer in Redis; a failure leaves its request to its bound.
    async fn answer(&self, ticket: String, report: Vec<String>) {
        let mut args = vec!["answer".to_owned(), ticket];
        args.extend(report);
        match self.run(args).await {
            Ok(_) => self.changed.notify_waiters(),
            Err(error) => self.fleet.fall_back(&error),
        }
    }

    /// An answer's report as the script's arguments: clamped as the local ledger clamps it
    /// (windows of no length or past 30 days ignored, at most eight, quotas capped, resets
    /// cut to their window, a 429's wait to the longest window), in real time.
    fn report(&self, limits: &RateLimits, refused: bool) -> Vec<String> {
        let shortest = self.quotas.iter().map(|q| q.0).min();
        let mut longest = self.quotas.iter().map(|q| q.0).max().unwrap_or(MAX_WINDOW);
        let mut windows = Vec::new();
        for reported in &limits.windows {
            if let Some(length) = reported.window {
                if length.is_zero() || length > MAX_WINDOW {
                    self.distrust("a window of no length or longer than 30 days is ignored");
                    continue;
                }
                longest = longest.max(length);
            }
            if windows.len() >= MAX_WINDOWS {
                self.distrust("windows past the eighth are ignored");
                break;
            }
            if reported.limit.is_some_and(|limit| limit > MAX_LIMIT) {
                self.distrust("a quota above 1,000,000 is capped at 1,000,000");
            }
            let cut = reported.window.or(shortest).unwrap_or(MAX_WINDOW);
            let reset = reported.reset_after.map(|reset| {
                if reset > cut {
                    self.distrust("a reset further away than its window is cut to the window");
                }
                micros(self.real(reset.min(cut).saturating_add(ONE_SECOND)))
            });
            let optional = |n: Option<u64>| n.map_or("-1".to_owned(), |n| n.to_string());
            windows.push([
                reported.window.map(micros).unwrap_or_default(),
                reported
                    .window
                    .map_or("-1".to_owned(), |w| micros(self.real(w))),
                optional(reported.limit.map(|l| l.clamp(1, MAX_LIMIT))),
                optional(reported.remaining),
                reset.unwrap_or_else(|| "-1".to_owned()),
            ]);
        }
        let wait = refused.then(|| limits.wait(None)).flatten().map(|wait| {
            if wait > longest {
                self.distrust("a 429's wait longer than the longest window is cut to it");
            }
            micros(self.real(wait.min(longest).saturating_add(ONE_SECOND)))
        });
        let mut args = vec![
            if refused { "1" } else { "0" }.to_owned(),
            wait.unwrap_or_else(|| "-1".to_owned()),
            micros(self.real(ONE_SECOND)),
            windows.len().to_string(),
        ];
        args.extend(windows.into_iter().flatten());
        args
    }
}

#[async_trait]
impl RateBudget for RedisBudget {
    async fn acquire(&self, deadline: Instant) -> Result<()> {
        let counter = &self.counter;
        while counter.fleet.try_shared() {
            // Registered before Redis is asked, so an answer counted in between still wakes
            // this waiter.
            let changed = counter.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            // Redis first hears of what this budget sent on its local share; a budget back
            // from it then keeps to it while the fleet rejoins (see `Fleet::rejoin`).
            let rejoining = counter.fleet.is_local();
            let unreplayed = self.take_unreplayed();
            if rejoining || !unreplayed.is_empty() {
                let told = tokio::time::timeout_at(
                    deadline.max(Instant::now() + ASK_AT_LEAST),
                    counter.replay(&unreplayed),
                )
                .await
                .unwrap_or_else(|_| Err(unanswered()));
                if let Err(error) = told {
                    for (at, count) in unreplayed {
                        self.unreplayed_at(at, count);
                    }
                    counter.fleet.fall_back(&error);
                    break;
                }
                if rejoining {
                    counter.fleet.rejoin();
                    break;
                }
            }
            let ticket = counter.ticket();
            // Asking Redis is bounded by the call's deadline too (or a round trip's worth
            // when less is left): a Redis that stopped answering holds no caller past it.
            let asked = tokio::time::timeout_at(
                deadline.max(Instant::now() + ASK_AT_LEAST),
                counter.take(&ticket),
            )
            .await
            .unwrap_or_else(|_| Err(unanswered()));
            let step = match asked {
                Ok(step) => step,
                Err(error) => {
                    counter.fleet.fall_back(&error);
                    break;
                }
            };
            let now = Instant::now();
            // Redis's answer is clamped as a server's wait is: never past the longest
            // window believed and a second.
            let wait = micros_between(step.now, step.at)
                .min(counter.real(MAX_WINDOW.saturating_add(ONE_SECOND)));
            let left = deadline.saturating_duration_since(now);
            match step.code {
                0 => {
                    self.taken().push_back(Taken::Shared(ticket));
                    self.in_redis.store(true, Ordering::Relaxed);
                    return Ok(());
                }
                // Room comes at a known time.
                1 if wait > left => return Err(self.too_long(Some(wait))),
                1 => {
                    tracing::debug!(?wait, "pacing (fleet)");
                    let _ = tokio::time::timeout_at(now + wait, changed).await;
                }
                // Room comes when requests on their way are answered: look again soon.
                _ if left.is_zero() => {
                    return Err(self.too_long((wait > Duration::ZERO).then_some(wait)));
                }
                _ => {
                    let nap = wait.min(counter.poll()).min(left);
                    let _ = tokio::time::timeout_at(now + nap, changed).await;
                }
            }
        }
        if self.in_redis.swap(false, Ordering::Relaxed) {
            self.fleet_used_to_share();
        }
        self.fallback.acquire(deadline).await?;
        self.taken().push_back(Taken::Local);
        Ok(())
    }

    fn answered(&self, limits: &RateLimits, refused: bool) {
        // The local share learns every answer, so it starts from what this process knows.
        self.fallback.answered(limits, refused);
        let taken = self.taken().pop_front();
        match taken {
            Some(Taken::Shared(ticket)) => {
                self.send((ticket, self.counter.report(limits, refused)));
            }
            Some(Taken::Local) => self.unreplayed_at(Instant::now(), 1),
            Some(Taken::Replayed) | None => {}
        }
    }

    fn remaining(&self) -> Option<u64> {
        if self.counter.fleet.status() != super::FleetStatus::Shared {
            return self.fallback.remaining();
        }
        match self.counter.left.load(Ordering::Relaxed) {
            u64::MAX => None,
            left => Some(left),
        }
    }
}
