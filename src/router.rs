//! Incremental migration: send each operation to the backend chosen for it.
//!
//! A [`Router`] is a [`Backend`] over several backends: a default, plus overrides for reads,
//! for writes and for single operations. An application moves from the classic API to GraphQL
//! one step at a time by changing its router, not its calls: reads first, then writes, one
//! operation at a time, and finally the default.
//!
//! When the chosen backend lacks the operation ([`Error::Unsupported`], which is raised before
//! anything is sent), the router asks its other backends in the order they were added. It never
//! falls back on any other error: a timeout or a server error on a write may mean the write
//! happened, and sending it again elsewhere could post twice.
//!
//! Retries and pacing go *under* the router, one layer per backend: the two APIs have budgets
//! of their own (60 a minute against 100 per 15 minutes), so no single budget describes a router,
//! and [`Backend::rate_limits`] of a router is `None`.
//!
//! ```no_run
//! use buffer_bridge::{Backend, Operation};
//! use buffer_bridge::router::Router;
//! use std::sync::Arc;
//!
//! # fn build(rest: Arc<dyn Backend>, graphql: Arc<dyn Backend>) {
//! let router = Router::new(rest.clone())
//!     .route_reads_to(graphql.clone())
//!     .route(Operation::CreatePost, graphql.clone());
//! // Reads and creates go to GraphQL; schedule updates, which GraphQL lacks, fall back to REST.
//! # let _ = router;
//! # }
//! ```

use crate::backend::{Backend, BackendKind, Capabilities, Operation, Request, Response};
use crate::{Error, Result};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A [`Backend`] that routes each operation to a backend of its own; see the
/// [module documentation](self).
#[derive(Clone)]
pub struct Router {
    default: Arc<dyn Backend>,
    reads: Option<Arc<dyn Backend>>,
    writes: Option<Arc<dyn Backend>>,
    routes: BTreeMap<Operation, Arc<dyn Backend>>,
    /// Every distinct backend, default first, in the order added: the fallback order.
    backends: Vec<Arc<dyn Backend>>,
}

impl Router {
    /// A router that sends everything to `default` until told otherwise.
    pub fn new(default: Arc<dyn Backend>) -> Self {
        Self {
            backends: vec![Arc::clone(&default)],
            default,
            reads: None,
            writes: None,
            routes: BTreeMap::new(),
        }
    }

    /// Sends `operation` to `backend`. A route for one operation wins over
    /// [`route_reads_to`](Self::route_reads_to) and [`route_writes_to`](Self::route_writes_to).
    pub fn route(mut self, operation: Operation, backend: Arc<dyn Backend>) -> Self {
        self.remember(&backend);
        self.routes.insert(operation, backend);
        self
    }

    /// Sends every operation that does not change anything to `backend`, unless an operation
    /// has a route of its own.
    pub fn route_reads_to(mut self, backend: Arc<dyn Backend>) -> Self {
        self.remember(&backend);
        self.reads = Some(backend);
        self
    }

    /// Sends every operation that changes something to `backend`, unless an operation has a
    /// route of its own.
    pub fn route_writes_to(mut self, backend: Arc<dyn Backend>) -> Self {
        self.remember(&backend);
        self.writes = Some(backend);
        self
    }

    /// The backend chosen for `operation`, before any fallback. An operation without a route of
    /// its own takes the route of [`Operation::route_as`]: reconciling a write asks the backend
    /// that made it.
    pub fn backend_for(&self, operation: Operation) -> &Arc<dyn Backend> {
        if let Some(backend) = self.routes.get(&operation) {
            return backend;
        }
        let operation = operation.route_as();
        let group = if operation.writes() {
            &self.writes
        } else {
            &self.reads
        };
        self.routes
            .get(&operation)
            .or(group.as_ref())
            .unwrap_or(&self.default)
    }

    fn remember(&mut self, backend: &Arc<dyn Backend>) {
        if !self
            .backends
            .iter()
            .any(|known| Arc::ptr_eq(known, backend))
        {
            self.backends.push(Arc::clone(backend));
        }
    }
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let routes: BTreeMap<&str, BackendKind> = Operation::ALL
            .iter()
            .map(|op| (op.as_str(), self.backend_for(*op).kind()))
            .collect();
        f.debug_struct("Router")
            .field("default", &self.default.kind())
            .field("routes", &routes)
            .finish()
    }
}

#[async_trait]
impl Backend for Router {
    /// The default backend's kind.
    fn kind(&self) -> BackendKind {
        self.default.kind()
    }

    /// What any of its backends supports: an operation the chosen backend lacks falls back.
    fn capabilities(&self) -> Capabilities {
        self.backends
            .iter()
            .map(|backend| backend.capabilities())
            .fold(self.default.capabilities(), Capabilities::union)
    }

    /// The clock of the backend creates go to: the clock that fences their reconciliation.
    fn server_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.backend_for(Operation::CreatePost).server_time()
    }

    fn describe(&self) -> String {
        let mut routes: Vec<String> = Vec::new();
        for operation in Operation::ALL {
            // The backend that serves it: the chosen one, or the fallback when it lacks it.
            let chosen = self.backend_for(*operation);
            let chosen = std::iter::once(chosen)
                .chain(&self.backends)
                .find(|backend| backend.capabilities().supports(*operation))
                .unwrap_or(chosen);
            if !Arc::ptr_eq(chosen, &self.default) {
                routes.push(format!("{operation} → {}", chosen.describe()));
            }
        }
        let routes = if routes.is_empty() {
            String::new()
        } else {
            format!("; {}", routes.join(", "))
        };
        format!("router(default {}{routes})", self.default.describe())
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        let operation = request.operation();
        let chosen = self.backend_for(operation);
        let others = self.backends.iter().filter(|b| !Arc::ptr_eq(b, chosen));
        let mut refusal: Option<Error> = None;
        for backend in std::iter::once(chosen).chain(others) {
            if let Err(unsupported) = backend.capabilities().check(operation) {
                refusal.get_or_insert(unsupported);
                continue;
            }
            match backend.execute(request.clone()).await {
                // Nothing was sent: asking another backend cannot do anything twice.
                Err(unsupported @ Error::Unsupported { .. }) => {
                    refusal.get_or_insert(unsupported);
                }
                answer => return answer,
            }
            tracing::debug!(
                target: "buffer_bridge::router",
                operation = operation.as_str(),
                from = %backend.kind(),
                "unsupported; trying the next backend"
            );
        }
        Err(refusal.unwrap_or_else(|| Error::Unsupported {
            operation,
            backend: chosen.kind(),
            hint: "no backend of this router supports it".to_owned(),
        }))
    }
}
