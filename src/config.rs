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
//! | `rest.url` | `BUFFER_REST_URL` | classic base URL |
//! | `graphql.api_key` | `BUFFER_API_KEY` | GraphQL API key |
//! | `graphql.url` | `BUFFER_GRAPHQL_URL` | GraphQL endpoint |
//! | `graphql.organization_id` | `BUFFER_ORGANIZATION_ID` | the organization to work in |
//! | `shadow.primary` | `BUFFER_SHADOW_PRIMARY` | the backend that answers (default `rest`) |
//! | `shadow.candidate` | `BUFFER_SHADOW_CANDIDATE` | the backend compared (default: the other one) |
//! | `shadow.sandbox` | `BUFFER_SHADOW_SANDBOX` | `true` when the candidate may receive writes |
//! | `shadow.sample_rate` | `BUFFER_SHADOW_SAMPLE_RATE` | share of calls compared, 0.0–1.0 (default 1.0) |
//! | `shadow.sample_seed` | `BUFFER_SHADOW_SAMPLE_SEED` | seed of the sampling (default 0) |
//! | `shadow.candidate_timeout_secs` | `BUFFER_SHADOW_TIMEOUT_SECS` | candidate timeout (default 10) |
//! | `router.default` | `BUFFER_ROUTE_DEFAULT` | where unrouted operations go (default `rest`) |
//! | `router.routes` | `BUFFER_ROUTES` | `posts=graphql,create_post=rest`; `reads` and `writes` name groups |
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

use crate::backend::{Backend, BackendKind, Operation};
use crate::graphql::GraphQl;
use crate::http::Credential;
use crate::rest::ClassicRest;
use crate::router::Router;
use crate::shadow::{Sample, Shadow};
use crate::{Error, Result};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Which backend to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// The classic REST API.
    Rest,
    /// The GraphQL API.
    Graphql,
    /// A [`Shadow`]: answers from the primary, compares the candidate.
    Shadow,
    /// A [`Router`]: one backend per operation.
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

/// Settings of a shadow run.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ShadowConfig {
    /// The backend whose answers the caller gets (default `rest`).
    pub primary: Option<BackendKind>,
    /// The backend compared (default: the other one).
    pub candidate: Option<BackendKind>,
    /// Whether the candidate is a sandbox account that may receive writes.
    #[serde(default)]
    pub sandbox: bool,
    /// The share of calls compared, 0.0 to 1.0 (default 1.0).
    pub sample_rate: Option<f64>,
    /// The seed that picks the sampled calls.
    pub sample_seed: Option<u64>,
    /// The candidate's timeout in seconds.
    pub candidate_timeout_secs: Option<u64>,
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
/// the token or the key.
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
    ("shadow.primary", "BUFFER_SHADOW_PRIMARY"),
    ("shadow.candidate", "BUFFER_SHADOW_CANDIDATE"),
    ("shadow.sandbox", "BUFFER_SHADOW_SANDBOX"),
    ("shadow.sample_rate", "BUFFER_SHADOW_SAMPLE_RATE"),
    ("shadow.sample_seed", "BUFFER_SHADOW_SAMPLE_SEED"),
    (
        "shadow.candidate_timeout_secs",
        "BUFFER_SHADOW_TIMEOUT_SECS",
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
                "BUFFER_SHADOW_PRIMARY" => config.shadow.primary = Some(kind(name, value)?),
                "BUFFER_SHADOW_CANDIDATE" => config.shadow.candidate = Some(kind(name, value)?),
                "BUFFER_SHADOW_SANDBOX" => config.shadow.sandbox = flag(name, value)?,
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

    /// Builds the configured backend.
    pub fn build(&self) -> Result<Arc<dyn Backend>> {
        let choice = self.backend.ok_or_else(|| {
            self.missing(
                "backend",
                "configuration",
                "rest, graphql, shadow or router",
            )
        })?;
        match choice {
            BackendChoice::Rest => self.backend_of(BackendKind::ClassicRest),
            BackendChoice::Graphql => self.backend_of(BackendKind::GraphQl),
            BackendChoice::Shadow => self.build_shadow(),
            BackendChoice::Router => self.build_router(),
        }
    }

    /// Builds one of the two API backends from its settings, whatever `backend` says (the
    /// `compare` command builds both this way).
    pub fn backend_of(&self, kind: BackendKind) -> Result<Arc<dyn Backend>> {
        let timeout = self.timeout_secs.map(Duration::from_secs);
        match kind {
            BackendKind::ClassicRest => {
                let token = self.rest.access_token.clone().ok_or_else(|| {
                    self.missing(
                        "rest.access_token",
                        "rest backend",
                        "a classic OAuth access token",
                    )
                })?;
                let mut builder = ClassicRest::builder().access_token(token);
                if let Some(url) = &self.rest.url {
                    builder = builder.base_url(url.clone());
                }
                if let Some(timeout) = timeout {
                    builder = builder.timeout(timeout);
                }
                if let Some(agent) = &self.user_agent {
                    builder = builder.user_agent(agent.clone());
                }
                Ok(Arc::new(
                    builder.build().map_err(|e| self.context("rest", e))?,
                ))
            }
            BackendKind::GraphQl => {
                let key = self.graphql.api_key.clone().ok_or_else(|| {
                    self.missing(
                        "graphql.api_key",
                        "graphql backend",
                        "an API key from publish.buffer.com/settings/api",
                    )
                })?;
                let mut builder = GraphQl::builder().api_key(key);
                if let Some(url) = &self.graphql.url {
                    builder = builder.base_url(url.clone());
                }
                if let Some(organization) = &self.graphql.organization_id {
                    builder = builder.organization_id(organization.clone());
                }
                if let Some(timeout) = timeout {
                    builder = builder.timeout(timeout);
                }
                if let Some(agent) = &self.user_agent {
                    builder = builder.user_agent(agent.clone());
                }
                Ok(Arc::new(
                    builder.build().map_err(|e| self.context("graphql", e))?,
                ))
            }
        }
    }

    /// Says which settings a builder's error came from (a bad URL: `BUFFER_REST_URL`).
    fn context(&self, section: &str, error: Error) -> Error {
        match error {
            Error::InvalidInput { message, .. } => invalid(format!(
                "the {section} backend cannot be built from {}: {message}",
                match self.source {
                    Source::Environment if section == "rest" =>
                        "BUFFER_ACCESS_TOKEN/BUFFER_REST_URL",
                    Source::Environment => "BUFFER_API_KEY/BUFFER_GRAPHQL_URL",
                    Source::File => section,
                }
            )),
            other => other,
        }
    }

    fn build_shadow(&self) -> Result<Arc<dyn Backend>> {
        let settings = &self.shadow;
        let primary = settings.primary.unwrap_or_else(|| {
            settings
                .candidate
                .map_or(BackendKind::ClassicRest, BackendKind::other)
        });
        let candidate = settings.candidate.unwrap_or(primary.other());
        if primary == candidate {
            return Err(invalid(format!(
                "{} and {} are both {primary}; a shadow compares two different backends",
                self.name("shadow.primary"),
                self.name("shadow.candidate")
            )));
        }
        let sample = match settings.sample_rate {
            None => Sample::All,
            Some(rate) if !(0.0..=1.0).contains(&rate) => {
                return Err(invalid(format!(
                    "{} must be from 0.0 to 1.0, not {rate}",
                    self.name("shadow.sample_rate")
                )));
            }
            Some(rate) if rate >= 1.0 => Sample::All,
            Some(share) => Sample::Share {
                share,
                seed: settings.sample_seed.unwrap_or(0),
            },
        };
        let mut builder =
            Shadow::builder(self.backend_of(primary)?, self.backend_of(candidate)?).sample(sample);
        if let Some(secs) = settings.candidate_timeout_secs {
            builder = builder.candidate_timeout(Duration::from_secs(secs));
        }
        if settings.sandbox {
            builder = builder.sandbox_candidate();
        }
        Ok(Arc::new(builder.build()))
    }

    fn build_router(&self) -> Result<Arc<dyn Backend>> {
        let default = self.router.default.unwrap_or(BackendKind::ClassicRest);
        let mut needed = vec![default];
        let mut routes = Vec::new();
        for (name, kind) in &self.router.routes {
            let target = route_target(name).ok_or_else(|| {
                invalid(format!(
                    "{} names {name:?}, which is not an operation; use reads, writes or one of: {}",
                    self.name("router.routes"),
                    Operation::ALL
                        .iter()
                        .map(|op| op.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            if let RouteTarget::One(operation) = target {
                if let Some(hint) = operation.unsupported_hint(*kind) {
                    return Err(invalid(format!(
                        "{} sends {operation} to {kind}, which lacks it: {hint}",
                        self.name("router.routes")
                    )));
                }
            }
            if !needed.contains(kind) {
                needed.push(*kind);
            }
            routes.push((target, *kind));
        }
        let mut built = BTreeMap::new();
        for kind in needed {
            built.insert(kind, self.backend_of(kind)?);
        }
        let backend = |kind: BackendKind| Arc::clone(&built[&kind]);
        let mut router = Router::new(backend(default));
        for (target, kind) in routes {
            router = match target {
                RouteTarget::Reads => router.route_reads_to(backend(kind)),
                RouteTarget::Writes => router.route_writes_to(backend(kind)),
                RouteTarget::One(operation) => router.route(operation, backend(kind)),
            };
        }
        Ok(Arc::new(router))
    }
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
