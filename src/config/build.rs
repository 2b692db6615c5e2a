//! Building what a [`BackendConfig`] describes: each API backend in its layers, then the
//! shadow or the router over them.

use super::{
    BackendChoice, BackendConfig, Client, ReportChoice, RouteTarget, SandboxConfig, Source,
    invalid, route_target,
};
use crate::backend::{Backend, BackendKind, Operation};
use crate::graphql::GraphQl;
use crate::http::Credential;
use crate::journal::{Journal, MemoryJournal, SqliteJournal};
use crate::pacing::{Paced, Pacing};
use crate::rest::ClassicRest;
use crate::retry::{RetryPolicy, Retrying};
use crate::router::Router;
use crate::shadow::{JsonLinesReporter, MemoryReporter, Sample, Shadow};
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// What every API backend of one build shares: the journal, and the fleet when configured.
#[derive(Clone)]
struct Shared {
    journal: Arc<dyn Journal>,
    #[cfg(feature = "redis")]
    fleet: Option<crate::fleet::Fleet>,
}

/// Where one API backend reaches: its credential, URL and organization.
struct Account<'a> {
    credential: Credential,
    url: Option<&'a str>,
    organization_id: Option<&'a str>,
}

impl BackendConfig {
    /// Builds the configured backend, in its layers: see the [module documentation](super).
    pub fn build(&self) -> Result<Client> {
        let choice = self.backend.ok_or_else(|| {
            self.missing(
                "backend",
                "configuration",
                "rest, graphql, shadow or router",
            )
        })?;
        let shared = self.shared()?;
        let client = match choice {
            BackendChoice::Rest => Client::of(self.layered(BackendKind::ClassicRest, &shared)?),
            BackendChoice::Graphql => Client::of(self.layered(BackendKind::GraphQl, &shared)?),
            BackendChoice::Shadow => self.build_shadow(&shared)?,
            BackendChoice::Router => Client::of(self.build_router(&shared)?),
        };
        #[cfg(feature = "redis")]
        let client = client.with_fleet(shared.fleet);
        Ok(client)
    }

    /// Builds one of the two API backends from its settings, in its layers (retries and pacing
    /// as configured, a journal of its own), whatever `backend` says: the `compare` command
    /// builds both this way.
    pub fn backend_of(&self, kind: BackendKind) -> Result<Arc<dyn Backend>> {
        self.layered(kind, &self.shared()?)
    }

    /// The journal and fleet the configuration names.
    fn shared(&self) -> Result<Shared> {
        #[cfg(feature = "redis")]
        {
            let fleet = self.fleet()?;
            let journal = match &fleet {
                Some(fleet) => Arc::new(fleet.journal()) as Arc<dyn Journal>,
                None => self.journal()?,
            };
            Ok(Shared { journal, fleet })
        }
        #[cfg(not(feature = "redis"))]
        {
            if self.fleet.redis_url.is_some() {
                return Err(invalid(format!(
                    "{} is set, but this buffer-bridge was built without its `redis` feature",
                    self.name("fleet.redis_url")
                )));
            }
            Ok(Shared {
                journal: self.journal()?,
            })
        }
    }

    /// The fleet on Redis, when `fleet.redis_url` is set. Its journal replaces a file's, so
    /// naming both is refused.
    #[cfg(feature = "redis")]
    fn fleet(&self) -> Result<Option<crate::fleet::Fleet>> {
        let Some(url) = &self.fleet.redis_url else {
            return Ok(None);
        };
        if self.journal.path.is_some() {
            return Err(invalid(format!(
                "{} and {} both name the journal; a fleet keeps it in Redis, so set only one",
                self.name("journal.path"),
                self.name("fleet.redis_url")
            )));
        }
        let context = |error: Error| {
            invalid(format!(
                "{} cannot be used: {}",
                self.name("fleet.redis_url"),
                error.message()
            ))
        };
        let mut fleet = crate::fleet::Fleet::new(url.expose()).map_err(context)?;
        if let Some(prefix) = &self.fleet.prefix {
            fleet = fleet.prefix(prefix).map_err(|error| {
                invalid(format!(
                    "{}: {}",
                    self.name("fleet.prefix"),
                    error.message()
                ))
            })?;
        }
        if let Some(processes) = self.fleet.processes {
            fleet = fleet.processes(processes);
        }
        Ok(Some(fleet))
    }

    /// The journal file the configuration names, or one in memory.
    fn journal(&self) -> Result<Arc<dyn Journal>> {
        match &self.journal.path {
            Some(path) => Ok(Arc::new(SqliteJournal::open(path).map_err(|error| {
                invalid(format!(
                    "{} ({}) cannot be opened: {}",
                    self.name("journal.path"),
                    path.display(),
                    error.message()
                ))
            })?)),
            None => Ok(Arc::new(MemoryJournal::new())),
        }
    }

    /// `kind`'s API backend on the configured account, in its layers.
    fn layered(&self, kind: BackendKind, shared: &Shared) -> Result<Arc<dyn Backend>> {
        let account = self.account(kind)?;
        let credential = account.credential.clone();
        Ok(self.layers(kind, self.api(kind, account)?, &credential, shared))
    }

    /// Retries over pacing over `api`, as configured: paced by a budget in this process, or
    /// in the fleet's Redis.
    fn layers(
        &self,
        kind: BackendKind,
        api: Arc<dyn Backend>,
        credential: &Credential,
        shared: &Shared,
    ) -> Arc<dyn Backend> {
        let journal = &shared.journal;
        let paced: Arc<dyn Backend> = if self.pacing.enabled.unwrap_or(true) {
            let mut pacing = Pacing::of(kind);
            if let Some(secs) = self.pacing.max_wait_secs {
                pacing = pacing.max_wait(Duration::from_secs(secs));
            }
            #[cfg(feature = "redis")]
            if let Some(fleet) = &shared.fleet {
                let budget = Arc::new(fleet.budget(credential, &pacing));
                return self.retried(
                    Arc::new(Paced::with_budget(api, budget, pacing.longest_wait())),
                    journal,
                );
            }
            #[cfg(not(feature = "redis"))]
            let _ = credential;
            Arc::new(Paced::with(api, pacing))
        } else {
            api
        };
        self.retried(paced, journal)
    }

    /// Retries over `paced`, as configured.
    fn retried(&self, paced: Arc<dyn Backend>, journal: &Arc<dyn Journal>) -> Arc<dyn Backend> {
        if !self.retry.enabled.unwrap_or(true) {
            return paced;
        }
        let mut policy = RetryPolicy::default();
        if let Some(attempts) = self.retry.max_attempts {
            policy = policy.max_attempts(attempts);
        }
        Arc::new(
            Retrying::new(paced)
                .policy(policy)
                .journal(Arc::clone(journal)),
        )
    }

    /// The configured account of `kind`'s API.
    fn account(&self, kind: BackendKind) -> Result<Account<'_>> {
        match kind {
            BackendKind::ClassicRest => Ok(Account {
                credential: self.rest.access_token.clone().ok_or_else(|| {
                    self.missing(
                        "rest.access_token",
                        "rest backend",
                        "a classic OAuth access token",
                    )
                })?,
                url: self.rest.url.as_deref(),
                organization_id: None,
            }),
            BackendKind::GraphQl => Ok(Account {
                credential: self.graphql.api_key.clone().ok_or_else(|| {
                    self.missing(
                        "graphql.api_key",
                        "graphql backend",
                        "an API key from publish.buffer.com/settings/api",
                    )
                })?,
                url: self.graphql.url.as_deref(),
                organization_id: self.graphql.organization_id.as_deref(),
            }),
        }
    }

    /// `kind`'s API backend on `account`, without layers.
    fn api(&self, kind: BackendKind, account: Account<'_>) -> Result<Arc<dyn Backend>> {
        let timeout = self.timeout_secs.map(Duration::from_secs);
        match kind {
            BackendKind::ClassicRest => {
                let mut builder = ClassicRest::builder().access_token(account.credential);
                if let Some(url) = account.url {
                    builder = builder.base_url(url);
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
                let mut builder = GraphQl::builder().api_key(account.credential);
                if let Some(url) = account.url {
                    builder = builder.base_url(url);
                }
                if let Some(organization) = account.organization_id {
                    builder = builder.organization_id(organization);
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

    fn build_shadow(&self, shared: &Shared) -> Result<Client> {
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
        let candidate_backend = match &settings.sandbox {
            // The sandbox's writes are its own: they go in a journal of their own, or the
            // primary's entries would answer for them.
            Some(sandbox) => {
                let account = self.sandbox_account(candidate, sandbox)?;
                let credential = account.credential.clone();
                let mut own = shared.clone();
                own.journal = Arc::new(MemoryJournal::new());
                self.layers(candidate, self.api(candidate, account)?, &credential, &own)
            }
            None => self.layered(candidate, shared)?,
        };
        let mut builder =
            Shadow::builder(self.layered(primary, shared)?, candidate_backend).sample(sample);
        if let Some(secs) = settings.candidate_timeout_secs {
            builder = builder.candidate_timeout(Duration::from_secs(secs));
        }
        if settings.sandbox.is_some() {
            builder = builder.sandbox_candidate();
        }
        let mut reports = None;
        let report = match (settings.report, &settings.report_file) {
            (Some(report), _) => report,
            (None, Some(_)) => ReportChoice::Jsonl,
            (None, None) => ReportChoice::Tracing,
        };
        match report {
            ReportChoice::Tracing => {}
            ReportChoice::Memory => {
                let memory = MemoryReporter::new();
                builder = builder.reporter(memory.clone());
                reports = Some(memory);
            }
            ReportChoice::Jsonl => {
                let path = settings.report_file.as_ref().ok_or_else(|| {
                    self.missing(
                        "shadow.report_file",
                        "jsonl report",
                        "the file comparisons are appended to",
                    )
                })?;
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|error| {
                        invalid(format!(
                            "{} ({}) cannot be opened for appending: {error}",
                            self.name("shadow.report_file"),
                            path.display()
                        ))
                    })?;
                builder = builder.reporter(JsonLinesReporter::new(file));
            }
        }
        Ok(Client::with_shadow(Arc::new(builder.build()), reports))
    }

    /// The sandbox's own account, refused when its credential is one of the primary
    /// configuration's: the candidate would then write to the real account a second time.
    fn sandbox_account<'a>(
        &self,
        candidate: BackendKind,
        sandbox: &'a SandboxConfig,
    ) -> Result<Account<'a>> {
        let token = sandbox.token.clone().ok_or_else(|| {
            self.missing(
                "shadow.sandbox.token",
                "sandbox",
                "the sandbox account's own credential; a sandbox receives writes",
            )
        })?;
        for (key, primary) in [
            ("rest.access_token", &self.rest.access_token),
            ("graphql.api_key", &self.graphql.api_key),
        ] {
            if primary.as_ref().is_some_and(|p| p.same_secret(&token)) {
                return Err(invalid(format!(
                    "{} is the credential of {}: the sandbox would receive every write on the \
                     primary's own account, and post it twice; give the sandbox an account of \
                     its own",
                    self.name("shadow.sandbox.token"),
                    self.name(key)
                )));
            }
        }
        Ok(Account {
            credential: token,
            url: sandbox.url.as_deref(),
            organization_id: match candidate {
                BackendKind::GraphQl => sandbox.organization_id.as_deref(),
                BackendKind::ClassicRest => None,
            },
        })
    }

    fn build_router(&self, shared: &Shared) -> Result<Arc<dyn Backend>> {
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
            if let RouteTarget::One(operation) = target
                && let Some(hint) = operation.unsupported_hint(*kind)
            {
                return Err(invalid(format!(
                    "{} sends {operation} to {kind}, which lacks it: {hint}",
                    self.name("router.routes")
                )));
            }
            if !needed.contains(kind) {
                needed.push(*kind);
            }
            routes.push((target, *kind));
        }
        let mut built = BTreeMap::new();
        for kind in needed {
            built.insert(kind, self.layered(kind, shared)?);
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
