//! Rate limits as Buffer counts them: the classic API allows 60 requests a minute per token;
//! GraphQL counts per key over 15 minutes, 24 hours and 30 days and reports every window in
//! structured `RateLimit` / `RateLimit-Policy` headers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};

use crate::clock::SimClock;
use crate::log::Api;

/// The quotas. Windows are measured on the simulator's clock, so a test can advance past them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Classic REST requests per token per minute.
    pub rest_per_minute: u32,
    /// GraphQL requests per key per 15 minutes.
    pub graphql_per_15_minutes: u32,
    /// GraphQL requests per key per 24 hours.
    pub graphql_per_day: u32,
    /// GraphQL requests per key per 30 days.
    pub graphql_per_30_days: u32,
    /// Off: nothing is counted and no 429 is sent (headers are still reported).
    pub enabled: bool,
}

impl Default for RateLimits {
    /// Buffer's published numbers (GraphQL: the Free plan).
    fn default() -> Self {
        Self {
            rest_per_minute: 60,
            graphql_per_15_minutes: 100,
            graphql_per_day: 250,
            graphql_per_30_days: 3000,
            enabled: true,
        }
    }
}

/// One window's standing after a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WindowStatus {
    pub(crate) quota: u32,
    pub(crate) remaining: u32,
    pub(crate) reset_seconds: i64,
    pub(crate) window_seconds: i64,
}

impl WindowStatus {
    fn policy_name(&self) -> String {
        let unit = match self.window_seconds {
            900 => "15min".to_owned(),
            86_400 => "1day".to_owned(),
            2_592_000 => "30days".to_owned(),
            60 => "1min".to_owned(),
            other => format!("{other}s"),
        };
        format!("{}-in-{unit}", self.quota)
    }

    /// The name Buffer puts in a 429 body's `extensions.window`.
    pub(crate) fn short_name(&self) -> &'static str {
        match self.window_seconds {
            900 => "15m",
            86_400 => "24h",
            2_592_000 => "30d",
            _ => "1m",
        }
    }
}

/// The outcome of counting one request.
#[derive(Clone, Debug)]
pub(crate) struct Verdict {
    pub(crate) windows: Vec<WindowStatus>,
    /// The first window that is exhausted, when the request is refused.
    pub(crate) exceeded: Option<WindowStatus>,
    partition: String,
}

impl Verdict {
    /// `RateLimit` and `RateLimit-Policy` header lines, one per window.
    pub(crate) fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::new();
        for window in &self.windows {
            headers.push((
                "ratelimit",
                format!(
                    "\"{}\";r={};t={}",
                    window.policy_name(),
                    window.remaining,
                    window.reset_seconds
                ),
            ));
        }
        for window in &self.windows {
            headers.push((
                "ratelimit-policy",
                format!(
                    "\"{}\";q={};w={};pk=:{}:",
                    window.policy_name(),
                    window.quota,
                    window.window_seconds,
                    self.partition
                ),
            ));
        }
        headers
    }

    /// Seconds until the exhausted window resets (at least 1).
    pub(crate) fn retry_after(&self) -> i64 {
        self.exceeded.as_ref().map_or(1, |w| w.reset_seconds.max(1))
    }
}

#[derive(Clone, Copy, Debug)]
struct Window {
    start: DateTime<Utc>,
    count: u32,
}

/// The windows of one credential on one API.
type Counts = HashMap<(Api, String), Vec<Window>>;

/// Counts requests per credential and window.
#[derive(Clone, Debug)]
pub(crate) struct Limiter {
    limits: Arc<Mutex<RateLimits>>,
    clock: SimClock,
    counts: Arc<Mutex<Counts>>,
}

impl Limiter {
    pub(crate) fn new(limits: RateLimits, clock: SimClock) -> Self {
        Self {
            limits: Arc::new(Mutex::new(limits)),
            clock,
            counts: Arc::default(),
        }
    }

    pub(crate) fn set_limits(&self, limits: RateLimits) {
        *self.limits.lock().unwrap_or_else(PoisonError::into_inner) = limits;
        self.reset();
    }

    pub(crate) fn reset(&self) {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Counts one request by `credential` to `api`, unless a window is already full.
    pub(crate) fn check(&self, api: Api, credential: &str) -> Verdict {
        let limits = self
            .limits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let quotas: Vec<(u32, i64)> = match api {
            Api::Rest => vec![(limits.rest_per_minute, 60)],
            Api::GraphQl => vec![
                (limits.graphql_per_15_minutes, 900),
                (limits.graphql_per_day, 86_400),
                (limits.graphql_per_30_days, 2_592_000),
            ],
        };
        let now = self.clock.now();
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let windows = counts
            .entry((api, credential.to_owned()))
            .or_insert_with(|| {
                quotas
                    .iter()
                    .map(|_| Window {
                        start: now,
                        count: 0,
                    })
                    .collect()
            });
        for (window, (_, seconds)) in windows.iter_mut().zip(&quotas) {
            if now >= window.start + TimeDelta::seconds(*seconds) {
                *window = Window {
                    start: now,
                    count: 0,
                };
            }
        }
        let full = limits.enabled
            && windows
                .iter()
                .zip(&quotas)
                .any(|(w, (quota, _))| w.count >= *quota);
        if !full {
            for window in windows.iter_mut() {
                window.count = window.count.saturating_add(1);
            }
        }
        let statuses: Vec<WindowStatus> = windows
            .iter()
            .zip(&quotas)
            .map(|(w, (quota, seconds))| WindowStatus {
                quota: *quota,
                remaining: quota.saturating_sub(w.count),
                reset_seconds: ((w.start + TimeDelta::seconds(*seconds)) - now)
                    .num_seconds()
                    .max(0),
                window_seconds: *seconds,
            })
            .collect();
        let exceeded = full
            .then(|| statuses.iter().find(|s| s.remaining == 0).cloned())
            .flatten();
        Verdict {
            windows: statuses,
            exceeded,
            partition: partition_key(credential),
        }
    }
}

/// A stable, non-reversible label for a credential (FNV-1a), never the credential itself.
fn partition_key(credential: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in credential.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    base64::engine::general_purpose::STANDARD.encode(format!("{hash:016x}").as_bytes())
}
