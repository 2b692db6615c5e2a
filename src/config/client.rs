//! [`Client`]: what a configuration built, with handles on its layers.

use crate::Result;
use crate::backend::{Backend, BackendKind, Capabilities, Request, Response};
use crate::http::rate_limit::RateLimits;
use crate::shadow::{Comparison, MemoryReporter, Shadow};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::fmt;
use std::sync::Arc;

/// The backend [`BackendConfig::build`](super::BackendConfig::build) made, used as any other
/// [`Backend`] (with [`BackendExt`](crate::BackendExt)'s methods), plus what a program needs
/// from its layers after building: a shadow's [`settled`](Self::settled) and its
/// [`comparisons`](Self::comparisons). Clones share everything.
#[derive(Clone)]
pub struct Client {
    backend: Arc<dyn Backend>,
    shadow: Option<Arc<Shadow>>,
    reports: Option<MemoryReporter>,
    #[cfg(feature = "redis")]
    fleet: Option<crate::fleet::Fleet>,
}

impl Client {
    /// A client of a backend without a shadow.
    pub(super) fn of(backend: Arc<dyn Backend>) -> Self {
        Self {
            backend,
            shadow: None,
            reports: None,
            #[cfg(feature = "redis")]
            fleet: None,
        }
    }

    /// A client of a shadow; `reports` when its comparisons are kept in memory.
    pub(super) fn with_shadow(shadow: Arc<Shadow>, reports: Option<MemoryReporter>) -> Self {
        Self {
            backend: Arc::clone(&shadow) as Arc<dyn Backend>,
            shadow: Some(shadow),
            reports,
            #[cfg(feature = "redis")]
            fleet: None,
        }
    }

    /// The client with the fleet its budgets and journal are shared through.
    #[cfg(feature = "redis")]
    pub(super) fn with_fleet(self, fleet: Option<crate::fleet::Fleet>) -> Self {
        Self { fleet, ..self }
    }

    /// The fleet, when `fleet.redis_url` is set: its [`status`](crate::fleet::Fleet::status)
    /// says whether budgets count in Redis or, Redis being unreachable, on their local share.
    #[cfg(feature = "redis")]
    pub fn fleet(&self) -> Option<&crate::fleet::Fleet> {
        self.fleet.as_ref()
    }

    /// The whole stack as a shareable backend, for code that takes an `Arc<dyn Backend>`.
    pub fn backend(&self) -> Arc<dyn Backend> {
        Arc::clone(&self.backend)
    }

    /// The shadow, when `backend = "shadow"`: its [`dropped`](Shadow::dropped) count, its
    /// primary and candidate.
    pub fn shadow(&self) -> Option<&Shadow> {
        self.shadow.as_deref()
    }

    /// Waits until the shadow's comparisons in flight are reported (before reading
    /// [`comparisons`](Self::comparisons) or the report file, and before a short program
    /// exits). Returns at once without a shadow.
    pub async fn settled(&self) {
        if let Some(shadow) = &self.shadow {
            shadow.settled().await;
        }
    }

    /// The comparisons reported so far, oldest first, when `shadow.report = "memory"`; empty
    /// otherwise.
    pub fn comparisons(&self) -> Vec<Comparison> {
        self.reports
            .as_ref()
            .map(MemoryReporter::comparisons)
            .unwrap_or_default()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Client")
            .field(&format_args!("{}", self.backend.describe()))
            .finish()
    }
}

#[async_trait]
impl Backend for Client {
    fn kind(&self) -> BackendKind {
        self.backend.kind()
    }

    fn capabilities(&self) -> Capabilities {
        self.backend.capabilities()
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        self.backend.execute(request).await
    }

    fn rate_limits(&self) -> Option<RateLimits> {
        self.backend.rate_limits()
    }

    fn server_time(&self) -> Option<DateTime<Utc>> {
        self.backend.server_time()
    }

    fn describe(&self) -> String {
        self.backend.describe()
    }
}
