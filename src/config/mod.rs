//! Choosing and building a backend from configuration: a TOML file or the environment.
//!
//! The same settings exist in both forms; every error names the key or the variable to set.
//!
//! | TOML key | environment variable | meaning |
//! |---|---|---|
//! | `backend` | `BUFFER_BACKEND` | `rest`, `graphql`, `shadow` or `router` (required) |
//! | `timeout_secs` | `BUFFER_TIMEOUT_SECS` | request timeout of both backends |
//! | `user_agent` | `BUFFER_USER_AGENT` | `User-Agent` of both backends |
//! | `rest.access_token` | `BUFFER_ACCESS_TOKEN` | classic OAuth access token |
//! | `rest.url` | `BUFFER_REST_URL` | classic base URL (ends in `/1/`) |
//! | `graphql.api_key` | `BUFFER_API_KEY` | GraphQL API key |
//! | `graphql.url` | `BUFFER_GRAPHQL_URL` | GraphQL endpoint |
//! | `graphql.organization_id` | `BUFFER_ORGANIZATION_ID` | the organization to work in |
//! | `retry.enabled` | `BUFFER_RETRY` | retry transient failures, writes exactly once (default `true`) |
//! | `retry.max_attempts` | `BUFFER_RETRY_MAX_ATTEMPTS` | attempts per call (default 4) |
//! | `pacing.enabled` | `BUFFER_PACING` | stay inside each API's rate limit (default `true`) |
//! | `pacing.max_wait_secs` | `BUFFER_PACING_MAX_WAIT_SECS` | longest wait for room before `RateLimited` (default 60) |
//! | `journal.path` | `BUFFER_JOURNAL` | SQLite file of write outcomes, kept across restarts (default: in memory) |
//! | `fleet.redis_url` | `BUFFER_REDIS_URL` | `redis://…` or `rediss://…` (TLS): rate budgets and the journal shared by a fleet of processes (feature `redis`) |
//! | `fleet.prefix` | `BUFFER_FLEET_PREFIX` | the fleet's Redis key prefix (default `buffer-bridge`) |
//! | `fleet.processes` | `BUFFER_FLEET_PROCESSES` | processes sharing a credential: each keeps to this share of a quota while Redis is down (default 4) |
//! | `shadow.primary` | `BUFFER_SHADOW_PRIMARY` | the backend that answers (default `rest`) |
//! | `shadow.candidate` | `BUFFER_SHADOW_CANDIDATE` | the backend compared (default: the other one) |
//! | `shadow.sample_rate` | `BUFFER_SHADOW_SAMPLE_RATE` | share of calls compared, 0.0–1.0 (default 1.0) |
//! | `shadow.sample_seed` | `BUFFER_SHADOW_SAMPLE_SEED` | seed of the sampling (default 0) |
//! | `shadow.candidate_timeout_secs` | `BUFFER_SHADOW_TIMEOUT_SECS` | candidate timeout (default 10) |
//! | `shadow.report` | `BUFFER_SHADOW_REPORT` | `tracing` (default), `memory` ([`Client::comparisons`]) or `jsonl` |
//! | `shadow.report_file` | `BUFFER_SHADOW_REPORT_FILE` | the JSON-lines file comparisons are appended to |
//! | `shadow.sandbox.token` | `BUFFER_SHADOW_SANDBOX_TOKEN` | the sandbox account's own credential: the candidate then receives writes too |
//! | `shadow.sandbox.url` | `BUFFER_SHADOW_SANDBOX_URL` | the sandbox's base URL (default Buffer's) |
//! | `shadow.sandbox.organization_id` | `BUFFER_SHADOW_SANDBOX_ORGANIZATION_ID` | the sandbox's organization (GraphQL) |
//! | `router.default` | `BUFFER_ROUTE_DEFAULT` | where unrouted operations go (default `rest`) |
//! | `router.routes` | `BUFFER_ROUTES` | `posts=graphql,create_post=rest`; `reads` and `writes` name groups |
//!
//! # What gets built
//!
//! [`BackendConfig::build`] returns a [`Client`]: a [`Backend`](crate::Backend) whose every API backend is
//! wrapped as `retrying(paced(api))` (each API with its own budget, one journal for all of
//! them), under the shadow or the router if one is configured. The client keeps handles on
//! what a program needs after building: [`Client::settled`] and [`Client::comparisons`] for
//! a shadow, [`Backend::describe`](crate::Backend::describe) to log what was built.
//!
//! A sandbox candidate receives the primary's writes, so it takes credentials of its own
//! (`[shadow.sandbox]`), and the configuration refuses one that would reach the primary's
//! account with the primary's credential: a shadow must never post twice.
//!
//! ```
//! use buffer_bridge::config::BackendConfig;
//!
//! let config = BackendConfig::from_toml_str(r#"
//!     backend = "router"
//!     [rest]
//!     access_token = "…"
//!     [graphql]
//!     api_key = "…"
//!     [router]
//!     default = "rest"
//!     routes = { reads = "graphql", create_post = "graphql" }
//! "#)?;
//! let router = config.build()?;
//!
//! let env = BackendConfig::from_vars([("BUFFER_BACKEND", "graphql")])?;
//! let error = env.build().err().map(|e| e.to_string()).unwrap_or_default();
//! assert!(error.contains("BUFFER_API_KEY is not set; the graphql backend needs it"));
//! # Ok::<(), buffer_bridge::Error>(())
//! ```

mod build;
mod client;

pub use client::Client;

use crate::backend::{BackendKind, Operation};
use crate::http::Credential;
use crate::{Error, Result};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
#[cfg(feature = "toml")]
use std::path::Path;
use std::path::PathBuf;

/// Which backend to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// The classic REST API.
    Rest,
    /// The GraphQL API.
    Graphql,
    /// A [`Shadow`](crate::shadow::Shadow): answers from the primary, compares the candidate.
    Shadow,
    /// A [`Router`](crate::router::Router): one backend per operation.
    Router,
}

impl BackendChoice {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "rest" => Some(Self::Rest),
            "graphql" => Some(Self::Graphql),
            "shadow" => Some(Self::Shadow),
            "router" => Some(Self::Router),
            _ => None,
        }
    }
}

/// Settings of the classic backend.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RestConfig {
    /// The OAuth access token.
    #[serde(default, deserialize_with = "credential")]
    pub access_token: Option<Credential>,
    /// The base URL, when not Buffer's.
    pub url: Option<String>,
}

/// Settings of the GraphQL backend.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GraphQlConfig {
    /// The API key.
    #[serde(default, deserialize_with = "credential")]
    pub api_key: Option<Credential>,
    /// The endpoint, when not Buffer's.
    pub url: Option<String>,
    /// The organization to work in, when the account has several.
    pub organization_id: Option<String>,
}

/// Retries of transient failures, and writes made exactly once
/// ([`Retrying`](crate::retry::Retrying)). On unless turned off.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Whether to retry (default `true`). Off, a write's outcome is still never guessed, but
    /// nothing is journaled, retried or reconciled.
    pub enabled: Option<bool>,
    /// Attempts per call, the first included (default 4).
    pub max_attempts: Option<u32>,
}

/// Pacing inside each API's rate limit ([`Paced`](crate::pacing::Paced)). On unless turned off.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PacingConfig {
    /// Whether to pace (default `true`).
    pub enabled: Option<bool>,
    /// The longest a call waits for room before failing with `RateLimited` (default 60).
    pub max_wait_secs: Option<u64>,
}

/// Where write outcomes are journaled.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct JournalConfig {
    /// A SQLite file ([`SqliteJournal`](crate::journal::SqliteJournal)), so that a restarted
    /// process neither repeats nor loses a write; in memory when unset.
    pub path: Option<PathBuf>,
}

/// A fleet of processes sharing each credential's rate budget and the journal of writes on
/// Redis ([`Fleet`](crate::fleet::Fleet), feature `redis`). Off unless `redis_url` is set.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FleetConfig {
    /// `redis://[:password@]host[:port][/db]`, or `rediss://…` for TLS. Its password is never
    /// shown.
    #[serde(default, deserialize_with = "redis_url")]
    pub redis_url: Option<RedisUrl>,
    /// The key prefix, so environments can share one Redis (default `buffer-bridge`).
    pub prefix: Option<String>,
    /// How many processes share a credential: while Redis is unreachable each keeps to this
    /// share of every quota (default 4, at least 2).
    pub processes: Option<u64>,
}

/// A Redis URL, which may hold a password: its `Debug` shows it with the password replaced.
#[derive(Clone)]
pub struct RedisUrl(secrecy::SecretString);

impl RedisUrl {
    /// Wraps a URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self(secrecy::SecretString::from(url.into()))
    }

    /// The URL, password included, for the connection only.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn expose(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(&self.0)
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(self.expose()))
    }
}

/// The URL with any password replaced by `***`, or a placeholder when it is not a URL (it
/// could be a password pasted in the wrong place).
pub(crate) fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}

fn redis_url<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<RedisUrl>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.map(RedisUrl::new))
}

/// Where a shadow's comparisons go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportChoice {
    /// Through `tracing` ([`TracingReporter`](crate::shadow::TracingReporter)).
    #[default]
    Tracing,
    /// Kept in memory, read with [`Client::comparisons`].
    Memory,
    /// One JSON line each, appended to `shadow.report_file`.
    Jsonl,
}

impl ReportChoice {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "tracing" => Some(Self::Tracing),
            "memory" => Some(Self::Memory),
            "jsonl" => Some(Self::Jsonl),
            _ => None,
        }
    }
}

/// A sandbox account for a shadow's candidate: with it, the candidate receives writes too.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SandboxConfig {
    /// The sandbox's own access token or API key (for the candidate's API). Never the
    /// primary's: the configuration refuses it.
    #[serde(default, deserialize_with = "credential")]
    pub token: Option<Credential>,
    /// The sandbox's base URL or endpoint (a simulator, say), when not Buffer's.
    pub url: Option<String>,
    /// The sandbox's organization (GraphQL), when its account has several.
    pub organization_id: Option<String>,
}

/// Settings of a shadow run.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ShadowConfig {
    /// The backend whose answers the caller gets (default `rest`).
    pub primary: Option<BackendKind>,
    /// The backend compared (default: the other one).
    pub candidate: Option<BackendKind>,
    /// A sandbox account for the candidate, which then receives writes too.
    #[serde(default, deserialize_with = "sandbox")]
    pub sandbox: Option<SandboxConfig>,
    /// The share of calls compared, 0.0 to 1.0 (default 1.0).
    pub sample_rate: Option<f64>,
    /// The seed that picks the sampled calls.
    pub sample_seed: Option<u64>,
    /// The candidate's timeout in seconds.
    pub candidate_timeout_secs: Option<u64>,
    /// Where comparisons go (default `tracing`; `jsonl` when only `report_file` is set).
    pub report: Option<ReportChoice>,
    /// The JSON-lines file comparisons are appended to.
    pub report_file: Option<PathBuf>,
}

/// Settings of a router.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RouterConfig {
    /// Where operations without a route go (default `rest`).
    pub default: Option<BackendKind>,
    /// Operation name (or `reads`, `writes`) to backend.
    #[serde(default)]
    pub routes: BTreeMap<String, BackendKind>,
}

/// Where a configuration came from, so errors can name the key or the variable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Source {
    #[default]
    File,
    Environment,
}

/// A backend's configuration, from a TOML file or the environment. Its `Debug` never shows
/// a token or a key.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BackendConfig {
    /// Which backend to build.
    pub backend: Option<BackendChoice>,
    /// The request timeout of both backends, in seconds.
    pub timeout_secs: Option<u64>,
    /// The `User-Agent` of both backends.
    pub user_agent: Option<String>,
    /// The classic backend.
    #[serde(default)]
    pub rest: RestConfig,
    /// The GraphQL backend.
    #[serde(default)]
    pub graphql: GraphQlConfig,
    /// Retries and exactly-once writes.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Pacing inside the rate limits.
    #[serde(default)]
    pub pacing: PacingConfig,
    /// The journal of write outcomes.
    #[serde(default)]
    pub journal: JournalConfig,
    /// A fleet sharing budgets and the journal on Redis.
    #[serde(default)]
    pub fleet: FleetConfig,
    /// The shadow, when `backend = "shadow"`.
    #[serde(default)]
    pub shadow: ShadowConfig,
    /// The router, when `backend = "router"`.
    #[serde(default)]
    pub router: RouterConfig,
    #[serde(skip)]
    source: Source,
}

fn credential<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Credential>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.map(Credential::new))
}

/// Why `sandbox = true` is no longer enough, for the configurations written before.
const SANDBOX_NEEDS_CREDENTIALS: &str = "a sandbox takes its own credentials, never the \
     primary's: write [shadow.sandbox] with token = \"…\" (and url = \"…\") instead of \
     sandbox = true";

fn sandbox<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<SandboxConfig>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        Flag(bool),
        Table(SandboxConfig),
    }
    match Form::deserialize(deserializer)? {
        Form::Flag(false) => Ok(None),
        Form::Flag(true) => Err(serde::de::Error::custom(SANDBOX_NEEDS_CREDENTIALS)),
        Form::Table(table) => Ok(Some(table)),
    }
}

/// Every setting: its TOML key and its environment variable.
const SETTINGS: &[(&str, &str)] = &[
    ("backend", "BUFFER_BACKEND"),
    ("timeout_secs", "BUFFER_TIMEOUT_SECS"),
    ("user_agent", "BUFFER_USER_AGENT"),
    ("rest.access_token", "BUFFER_ACCESS_TOKEN"),
    ("rest.url", "BUFFER_REST_URL"),
    ("graphql.api_key", "BUFFER_API_KEY"),
    ("graphql.url", "BUFFER_GRAPHQL_URL"),
    ("graphql.organization_id", "BUFFER_ORGANIZATION_ID"),
    ("retry.enabled", "BUFFER_RETRY"),
    ("retry.max_attempts", "BUFFER_RETRY_MAX_ATTEMPTS"),
    ("pacing.enabled", "BUFFER_PACING"),
    ("pacing.max_wait_secs", "BUFFER_PACING_MAX_WAIT_SECS"),
    ("journal.path", "BUFFER_JOURNAL"),
    ("fleet.redis_url", "BUFFER_REDIS_URL"),
    ("fleet.prefix", "BUFFER_FLEET_PREFIX"),
    ("fleet.processes", "BUFFER_FLEET_PROCESSES"),
    ("shadow.primary", "BUFFER_SHADOW_PRIMARY"),
    ("shadow.candidate", "BUFFER_SHADOW_CANDIDATE"),
    ("shadow.sample_rate", "BUFFER_SHADOW_SAMPLE_RATE"),
    ("shadow.sample_seed", "BUFFER_SHADOW_SAMPLE_SEED"),
    (
        "shadow.candidate_timeout_secs",
        "BUFFER_SHADOW_TIMEOUT_SECS",
    ),
    ("shadow.report", "BUFFER_SHADOW_REPORT"),
    ("shadow.report_file", "BUFFER_SHADOW_REPORT_FILE"),
    ("shadow.sandbox.token", "BUFFER_SHADOW_SANDBOX_TOKEN"),
    ("shadow.sandbox.url", "BUFFER_SHADOW_SANDBOX_URL"),
    (
        "shadow.sandbox.organization_id",
        "BUFFER_SHADOW_SANDBOX_ORGANIZATION_ID",
    ),
    ("router.default", "BUFFER_ROUTE_DEFAULT"),
    ("router.routes", "BUFFER_ROUTES"),
];

fn variable(key: &str) -> &'static str {
    SETTINGS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, var)| var)
}

fn invalid(message: String) -> Error {
    Error::invalid_input(message)
}

impl BackendConfig {
    /// Reads a TOML configuration.
    #[cfg(feature = "toml")]
    pub fn from_toml_str(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|error| {
            // The error's own rendering quotes the offending line, which may hold a secret:
            // report its line and message only.
            let line = error
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
            invalid(format!(
                "the configuration{at} is not valid: {}",
                error.message().trim()
            ))
        })
    }

    /// Reads a TOML configuration file.
    #[cfg(feature = "toml")]
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| {
            invalid(format!(
                "could not read the configuration file {}: {error}",
                path.display()
            ))
        })?;
        Self::from_toml_str(&text)
            .map_err(|error| invalid(format!("{}: {}", path.display(), error.message())))
    }

    /// Reads the `BUFFER_*` variables of the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(std::env::vars())
    }

    /// Reads `BUFFER_*` variables from any list of pairs, so a test or an application with its
    /// own settings store need not touch the process environment. Other names are ignored;
    /// empty values count as unset.
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Result<Self>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut config = Self {
            source: Source::Environment,
            ..Self::default()
        };
        for (name, value) in vars {
            let (name, value) = (name.as_ref(), value.as_ref().trim());
            if value.is_empty() {
                continue;
            }
            let owned = || Some(value.to_owned());
            match name {
                "BUFFER_BACKEND" => {
                    config.backend = Some(BackendChoice::parse(value).ok_or_else(|| {
                        invalid(format!(
                            "BUFFER_BACKEND must be rest, graphql, shadow or router, not {value:?}"
                        ))
                    })?);
                }
                "BUFFER_TIMEOUT_SECS" => config.timeout_secs = Some(number(name, value)?),
                "BUFFER_USER_AGENT" => config.user_agent = owned(),
                "BUFFER_ACCESS_TOKEN" => config.rest.access_token = Some(Credential::new(value)),
                "BUFFER_REST_URL" => config.rest.url = owned(),
                "BUFFER_API_KEY" => config.graphql.api_key = Some(Credential::new(value)),
                "BUFFER_GRAPHQL_URL" => config.graphql.url = owned(),
                "BUFFER_ORGANIZATION_ID" => config.graphql.organization_id = owned(),
                "BUFFER_RETRY" => config.retry.enabled = Some(flag(name, value)?),
                "BUFFER_RETRY_MAX_ATTEMPTS" => {
                    config.retry.max_attempts = Some(
                        number(name, value)?
                            .try_into()
                            .map_err(|_| invalid(format!("{name} is too large: {value}")))?,
                    );
                }
                "BUFFER_PACING" => config.pacing.enabled = Some(flag(name, value)?),
                "BUFFER_PACING_MAX_WAIT_SECS" => {
                    config.pacing.max_wait_secs = Some(number(name, value)?);
                }
                "BUFFER_JOURNAL" => config.journal.path = Some(PathBuf::from(value)),
                "BUFFER_REDIS_URL" => config.fleet.redis_url = Some(RedisUrl::new(value)),
                "BUFFER_FLEET_PREFIX" => config.fleet.prefix = owned(),
                "BUFFER_FLEET_PROCESSES" => config.fleet.processes = Some(number(name, value)?),
                "BUFFER_SHADOW_PRIMARY" => config.shadow.primary = Some(kind(name, value)?),
                "BUFFER_SHADOW_CANDIDATE" => config.shadow.candidate = Some(kind(name, value)?),
                "BUFFER_SHADOW_SANDBOX" => {
                    return Err(invalid(format!(
                        "{name} is no longer read: a sandbox takes its own credentials, never \
                         the primary's; set BUFFER_SHADOW_SANDBOX_TOKEN (and \
                         BUFFER_SHADOW_SANDBOX_URL) instead"
                    )));
                }
                "BUFFER_SHADOW_SANDBOX_TOKEN" => {
                    config_sandbox(&mut config.shadow).token = Some(Credential::new(value));
                }
                "BUFFER_SHADOW_SANDBOX_URL" => config_sandbox(&mut config.shadow).url = owned(),
                "BUFFER_SHADOW_SANDBOX_ORGANIZATION_ID" => {
                    config_sandbox(&mut config.shadow).organization_id = owned();
                }
                "BUFFER_SHADOW_SAMPLE_RATE" => {
                    config.shadow.sample_rate = Some(value.parse().map_err(|_| {
                        invalid(format!(
                            "{name} must be a number from 0.0 to 1.0, not {value:?}"
                        ))
                    })?);
                }
                "BUFFER_SHADOW_SAMPLE_SEED" => {
                    config.shadow.sample_seed = Some(number(name, value)?)
                }
                "BUFFER_SHADOW_TIMEOUT_SECS" => {
                    config.shadow.candidate_timeout_secs = Some(number(name, value)?);
                }
                "BUFFER_SHADOW_REPORT" => {
                    config.shadow.report = Some(ReportChoice::parse(value).ok_or_else(|| {
                        invalid(format!(
                            "{name} must be tracing, memory or jsonl, not {value:?}"
                        ))
                    })?);
                }
                "BUFFER_SHADOW_REPORT_FILE" => {
                    config.shadow.report_file = Some(PathBuf::from(value));
                }
                "BUFFER_ROUTE_DEFAULT" => config.router.default = Some(kind(name, value)?),
                "BUFFER_ROUTES" => config.router.routes = routes(value)?,
                _ => {}
            }
        }
        Ok(config)
    }

    /// How to name a setting in an error: its variable or its key, depending on the source.
    fn name(&self, key: &str) -> String {
        match self.source {
            Source::Environment => variable(key).to_owned(),
            Source::File => key.to_owned(),
        }
    }

    fn missing(&self, key: &str, needed_by: &str, what: &str) -> Error {
        invalid(format!(
            "{} is not set; the {needed_by} needs it ({what})",
            self.name(key)
        ))
    }
}

/// The shadow's sandbox settings, made on first use.
fn config_sandbox(shadow: &mut ShadowConfig) -> &mut SandboxConfig {
    shadow.sandbox.get_or_insert_with(SandboxConfig::default)
}

/// What a route names: a group of operations or one.
#[derive(Clone, Copy)]
enum RouteTarget {
    Reads,
    Writes,
    One(Operation),
}

fn route_target(name: &str) -> Option<RouteTarget> {
    match name {
        "reads" => Some(RouteTarget::Reads),
        "writes" => Some(RouteTarget::Writes),
        _ => Operation::ALL
            .iter()
            .find(|op| op.as_str() == name)
            .map(|op| RouteTarget::One(*op)),
    }
}

fn number(name: &str, value: &str) -> Result<u64> {
    value
        .parse()
        .map_err(|_| invalid(format!("{name} must be a whole number, not {value:?}")))
}

fn kind(name: &str, value: &str) -> Result<BackendKind> {
    BackendKind::parse(value)
        .ok_or_else(|| invalid(format!("{name} must be rest or graphql, not {value:?}")))
}

fn flag(name: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(invalid(format!(
            "{name} must be true or false, not {value:?}"
        ))),
    }
}

/// Reads `posts=graphql,create_post=rest`.
fn routes(value: &str) -> Result<BTreeMap<String, BackendKind>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (operation, backend) = pair.split_once('=').ok_or_else(|| {
                invalid(format!(
                    "BUFFER_ROUTES entries look like operation=backend (posts=graphql), not {pair:?}"
                ))
            })?;
            Ok((operation.trim().to_owned(), kind("BUFFER_ROUTES", backend.trim())?))
        })
        .collect()
}
