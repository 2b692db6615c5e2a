//! A fleet: several processes (workers, replicas, job runners) sharing each credential's rate
//! budget and the journal of writes, on Redis.
//!
//! One process keeps its budget and journal itself ([`LocalBudget`](crate::pacing::LocalBudget),
//! [`SqliteJournal`](crate::journal::SqliteJournal)); processes on several machines share them
//! through a [`Fleet`]: [`RedisBudget`] counts every request of a credential in Redis, so three
//! workers on one key do not each spend the whole quota, and [`RedisJournal`] keeps every
//! write's intent, outcome and lease there, so a post journaled by a worker that died is found
//! by the one that takes its job over.
//!
//! Every step is one Lua script run atomically by Redis (sent as `EVALSHA`, loaded once), and
//! every timestamp is Redis's own (`TIME`), so the workers' clocks do not matter. Keys are
//! named by a hash of the credential, never the credential itself; the URL's password is
//! never shown. When Redis cannot be reached, budgets fall back to a conservative local share
//! of each quota (see [`Fleet::processes`]) and say so in [`Fleet::status`] and the log,
//! and tell Redis what they sent meanwhile when it answers again;
//! journal calls fail, so no write is sent without its record.
//!
//! ```no_run
//! use buffer_bridge::fleet::Fleet;
//! use buffer_bridge::pacing::{Paced, Pacing};
//! use buffer_bridge::retry::Retrying;
//! use buffer_bridge::graphql::GraphQl;
//! use std::sync::Arc;
//!
//! # fn run() -> buffer_bridge::Result<()> {
//! let fleet = Fleet::new("rediss://:secret@redis.internal:6380/0")?.processes(4);
//! let key = buffer_bridge::http::Credential::new("…");
//! let pacing = Pacing::graphql();
//! let api = GraphQl::builder().api_key(key.clone()).build()?;
//! let budget = Arc::new(fleet.budget(&key, &pacing));
//! let backend = Retrying::new(Paced::with_budget(api, budget, pacing.longest_wait()))
//!     .journal(Arc::new(fleet.journal()));
//! # Ok(()) }
//! ```

mod budget;
mod journal;

pub use budget::RedisBudget;
pub use journal::RedisJournal;

use crate::config::redact_url;
use crate::http::Credential;
use crate::pacing::{LocalBudget, Pacing};
use crate::{Error, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

/// The key prefix when none is configured.
pub const DEFAULT_PREFIX: &str = "buffer-bridge";

/// How many processes a budget assumes share its credential while Redis is unreachable, when
/// none is configured: each keeps to a quarter of every quota.
pub const DEFAULT_PROCESSES: u64 = 4;

/// How long a request taken from a shared budget counts as on its way when its worker never
/// reports the answer (it died): after that it counts as answered then, for one more window.
pub const DEFAULT_REQUEST_BOUND: Duration = Duration::from_secs(120);

/// How long a Redis command may take, connecting included, before the call fails (and a
/// budget falls back to its local share).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// How often a budget on its local share tries Redis again.
const RETRY_SHARED: Duration = Duration::from_secs(1);

/// How long budgets keep to their local share after Redis answers again: long enough for every
/// busy process of the fleet to have tried Redis again too, and told it what it sent on its
/// own share, before any counts there again.
const REJOIN: Duration = Duration::from_secs(3);

/// Where a fleet's budgets count: in Redis, or each process on its own share.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FleetStatus {
    /// Budgets count in Redis, with the whole fleet.
    Shared,
    /// Redis could not be reached: each budget keeps to `1/processes` of every quota in this
    /// process, and tries Redis again every second.
    LocalShare {
        /// When the fallback began.
        since: SystemTime,
        /// The share's divisor.
        processes: u64,
        /// Why Redis was given up on (its password redacted).
        reason: String,
    },
}

/// The Redis a fleet shares, and how its budgets behave without it. Clones share one
/// connection (multiplexed, reconnecting by itself).
#[derive(Clone)]
pub struct Fleet {
    inner: Arc<Shared>,
}

#[derive(Clone)]
struct Shared {
    client: redis::Client,
    connection: tokio::sync::OnceCell<ConnectionManager>,
    /// The URL with its password replaced, for messages.
    address: String,
    /// The URL's password, removed from any error text that would quote it, in every form
    /// (as written in the URL, decoded, or encoded otherwise).
    password: Credential,
    prefix: String,
    processes: u64,
    request_bound: Duration,
    /// Where budgets count, and when Redis was last tried while they count locally.
    status: Arc<Mutex<Standing>>,
    /// Each credential's local share by its budget's key, held by the budgets using it: two
    /// budgets on one credential in one process keep to one share between them, not one each.
    shares: Arc<Mutex<HashMap<String, Weak<LocalBudget>>>>,
}

impl fmt::Debug for Fleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet")
            .field("redis", &self.inner.address)
            .field("prefix", &self.inner.prefix)
            .field("processes", &self.inner.processes)
            .finish()
    }
}

impl Fleet {
    /// A fleet on the Redis at `url`: `redis://[:password@]host[:port][/db]`, or `rediss://…`
    /// for TLS (verified against the system's roots). Nothing is connected until the first
    /// call. The password never appears in `Debug`, logs or errors.
    pub fn new(url: &str) -> Result<Self> {
        let address = redact_url(url);
        let parsed = url::Url::parse(url).map_err(|_| {
            Error::invalid_input(
                "the Redis URL is not a URL; write redis://host:port or rediss://host:port",
            )
        })?;
        if !matches!(parsed.scheme(), "redis" | "rediss") {
            return Err(Error::invalid_input(format!(
                "the Redis URL {address} must start with redis:// or rediss:// (TLS)"
            )));
        }
        let client = redis::Client::open(url).map_err(|_| {
            Error::invalid_input(format!("the Redis URL {address} is not one Redis accepts"))
        })?;
        // The client's own reading of the URL: the password decoded.
        let password = Credential::new(
            (client.get_connection_info().redis_settings().password()).unwrap_or_default(),
        );
        Ok(Self {
            inner: Arc::new(Shared {
                client,
                connection: tokio::sync::OnceCell::new(),
                address,
                password,
                prefix: DEFAULT_PREFIX.to_owned(),
                processes: DEFAULT_PROCESSES,
                request_bound: DEFAULT_REQUEST_BOUND,
                status: Arc::new(Mutex::new(Standing {
                    status: FleetStatus::Shared,
                    tried: None,
                    rejoin: None,
                })),
                shares: Arc::default(),
            }),
        })
    }

    fn with(mut self, change: impl FnOnce(&mut Shared)) -> Self {
        change(Arc::make_mut(&mut self.inner));
        self
    }

    /// Names this fleet's keys `prefix:…` (default [`DEFAULT_PREFIX`]), so several
    /// applications or environments can share one Redis. 1 to 64 printable characters without
    /// braces (braces are Redis Cluster's hash tags, which this fleet places itself).
    pub fn prefix(self, prefix: &str) -> Result<Self> {
        let fits = (1..=64).contains(&prefix.chars().count())
            && !prefix
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '{' || c == '}');
        if !fits {
            return Err(Error::invalid_input(
                "a fleet's key prefix has 1 to 64 printable characters, without spaces or braces",
            ));
        }
        Ok(self.with(|shared| shared.prefix = prefix.to_owned()))
    }

    /// How many processes share each credential, at most: while Redis is unreachable each
    /// budget keeps to `1/processes` of every quota (default [`DEFAULT_PROCESSES`]; at least
    /// 2, so a fallback never takes the whole budget).
    pub fn processes(self, processes: u64) -> Self {
        self.with(|shared| shared.processes = processes.max(2))
    }

    /// How long a request taken from a shared budget counts as on its way at most when its
    /// worker never reports the answer, because it died (default [`DEFAULT_REQUEST_BOUND`]);
    /// keep it above the longest request a worker may make, retries of a request included.
    pub fn request_bound(self, bound: Duration) -> Self {
        self.with(|shared| shared.request_bound = bound)
    }

    /// The credential's budget, shared with every process of the fleet: `pacing`'s quotas
    /// and clock, counted in Redis.
    pub fn budget(
        &self,
        credential: &crate::http::Credential,
        pacing: &crate::pacing::Pacing,
    ) -> RedisBudget {
        RedisBudget::new(self.clone(), credential, pacing)
    }

    /// The fleet's journal of writes.
    pub fn journal(&self) -> RedisJournal {
        RedisJournal::new(self.clone())
    }

    /// Where budgets count now: in Redis, or on their local share since when and why.
    pub fn status(&self) -> FleetStatus {
        self.lock_status().status.clone()
    }

    /// The Redis URL, its password replaced by `***`.
    pub fn address(&self) -> &str {
        &self.inner.address
    }

    fn lock_status(&self) -> std::sync::MutexGuard<'_, Standing> {
        self.inner
            .status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The local share of the credential whose budget is kept at `key`: the one its other
    /// budgets in this fleet use, or a new one of `pacing`'s quotas.
    pub(crate) fn local_share(&self, key: &str, pacing: &Pacing) -> Arc<LocalBudget> {
        let mut shares = self
            .inner
            .shares
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(share) = shares.get(key).and_then(Weak::upgrade) {
            return share;
        }
        // Forgets the shares no budget holds any more, so the map stays as small as the
        // credentials in use.
        shares.retain(|_, share| share.strong_count() > 0);
        let share = Arc::new(LocalBudget::share(pacing, self.inner.processes));
        shares.insert(key.to_owned(), Arc::downgrade(&share));
        share
    }

    /// The key `prefix:part`.
    pub(crate) fn key(&self, part: &str) -> String {
        format!("{}:{part}", self.inner.prefix)
    }

    pub(crate) fn prefix_name(&self) -> &str {
        &self.inner.prefix
    }

    pub(crate) fn bound(&self) -> Duration {
        self.inner.request_bound
    }

    /// The connection, made on first use and reconnecting by itself after.
    pub(crate) async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        self.inner
            .connection
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(COMMAND_TIMEOUT))
                    .set_response_timeout(Some(COMMAND_TIMEOUT))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                ConnectionManager::new_lazy_with_config(self.inner.client.clone(), config)
            })
            .await
            .cloned()
    }

    /// A Redis failure as a journal error, its text free of the URL's password.
    pub(crate) fn failure(&self, what: &str, error: &redis::RedisError) -> Error {
        Error::journal(
            format!(
                "Redis ({}) {what}: {}",
                self.inner.address,
                self.scrub(error)
            ),
            None,
        )
    }

    /// The error's text without the URL's password.
    fn scrub(&self, error: &redis::RedisError) -> String {
        self.inner.password.redact(&error.to_string())
    }

    /// Whether budgets should ask Redis now: always while it answers; once a second while
    /// they are on their local share (to see whether it answers again); not while they rejoin
    /// it, until that ends.
    pub(crate) fn try_shared(&self) -> bool {
        let mut standing = self.lock_status();
        if standing.status == FleetStatus::Shared {
            return true;
        }
        let now = std::time::Instant::now();
        match (standing.rejoin, standing.tried) {
            (Some(at), _) if now >= at => {
                tracing::warn!(redis = %self.inner.address, "rate budgets count in Redis again");
                *standing = Standing {
                    status: FleetStatus::Shared,
                    tried: None,
                    rejoin: None,
                };
                true
            }
            (Some(_), _) => false,
            (None, Some(tried)) if now.duration_since(tried) < RETRY_SHARED => false,
            (None, _) => {
                standing.tried = Some(now);
                true
            }
        }
    }

    /// Whether budgets are on their local share (or rejoining Redis).
    pub(crate) fn is_local(&self) -> bool {
        self.lock_status().status != FleetStatus::Shared
    }

    /// Redis failed: budgets keep to their local share until it answers again. Logged once.
    pub(crate) fn fall_back(&self, error: &redis::RedisError) {
        let mut standing = self.lock_status();
        standing.rejoin = None;
        if standing.status == FleetStatus::Shared {
            let reason = self.scrub(error);
            tracing::warn!(
                redis = %self.inner.address,
                processes = self.inner.processes,
                %reason,
                "Redis is unreachable: each rate budget keeps to 1/{} of its quotas in this process until it answers again",
                self.inner.processes
            );
            *standing = Standing {
                status: FleetStatus::LocalShare {
                    since: SystemTime::now(),
                    processes: self.inner.processes,
                    reason,
                },
                tried: Some(std::time::Instant::now()),
                rejoin: None,
            };
        }
    }

    /// Redis answered a budget on its local share, which told it what it sent meanwhile:
    /// budgets count there again once every other busy process had the time to do the same
    /// ([`REJOIN`]). Logged once.
    pub(crate) fn rejoin(&self) {
        let mut standing = self.lock_status();
        if standing.status != FleetStatus::Shared && standing.rejoin.is_none() {
            tracing::warn!(
                redis = %self.inner.address,
                "Redis answers again: rate budgets count there again in {} s",
                REJOIN.as_secs()
            );
            standing.rejoin = Some(std::time::Instant::now() + REJOIN);
        }
    }
}

/// Where a fleet's budgets count, and since when they try Redis again.
struct Standing {
    status: FleetStatus,
    /// When Redis was last tried while budgets count locally.
    tried: Option<std::time::Instant>,
    /// When budgets count in Redis again, once it answered.
    rejoin: Option<std::time::Instant>,
}

/// Redis's time in a script's answer, microseconds since the epoch, as a tokio instant's
/// offset: how far `at` is from `now`, both Redis's.
pub(crate) fn micros_between(now: i64, at: i64) -> Duration {
    Duration::from_micros(u64::try_from(at.saturating_sub(now)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_redacted_everywhere() {
        let fleet = Fleet::new("rediss://user:s3cr%2Ft@redis.example:6380/2").unwrap();
        let shown = format!("{fleet:?} {}", fleet.address());
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(shown.contains("redis.example:6380"), "{shown}");
        let error = Fleet::new("https://:hunter2@x").unwrap_err().to_string();
        assert!(!error.contains("hunter2"), "{error}");
        let error = Fleet::new("hunter2").unwrap_err().to_string();
        assert!(!error.contains("hunter2"), "{error}");
        let io = redis::RedisError::from(std::io::Error::other("AUTH s3cr/t failed"));
        assert!(!fleet.failure("x", &io).to_string().contains("s3cr/t"));
    }

    #[test]
    fn a_prefix_holds_no_hash_tag_and_processes_are_at_least_two() {
        let fleet = Fleet::new("redis://127.0.0.1:1").unwrap();
        assert!(fleet.clone().prefix("app{1}").is_err());
        assert!(fleet.clone().prefix("").is_err());
        let fleet = fleet.prefix("staging").unwrap().processes(1);
        assert_eq!(fleet.key("x"), "staging:x");
        assert_eq!(fleet.inner.processes, 2);
    }
}
