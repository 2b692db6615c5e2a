//! The HTTP server and the [`Simulator`] handle: one loopback address serving both APIs,
//! with faults applied and every request logged.
//!
//! Built on hyper's connection API rather than a framework so that a fault can close a
//! connection without answering: hyper drops the connection when the service fails.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::clock::SimClock;
use crate::demo::{self, Demo};
use crate::faults::{Fault, FaultState, Faults};
use crate::graphql::{self, GraphQlRequest};
use crate::limits::{Limiter, RateLimits};
use crate::log::{Api, RequestEntry, RequestLog};
use crate::reply::Reply;
use crate::rest::{self, RestRequest};
use crate::store::{Store, StoreConfig};

/// Everything a request handler needs.
struct App {
    store: Store,
    limiter: Limiter,
    faults: FaultState,
    log: RequestLog,
}

/// The error that makes hyper close a connection without an answer.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose by a simulator fault")
    }
}

impl std::error::Error for DropConnection {}

/// Options for a simulator; start it with [`SimulatorBuilder::start`].
#[derive(Clone, Debug)]
pub struct SimulatorBuilder {
    addr: SocketAddr,
    access_token: String,
    api_key: String,
    seed: u64,
    demo: bool,
    start_time: Option<DateTime<Utc>>,
    clock_scale: f64,
    store: StoreConfig,
    rate_limits: RateLimits,
    faults: Option<Faults>,
}

impl Default for SimulatorBuilder {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            access_token: "sim-access-token".to_owned(),
            api_key: "sim-api-key".to_owned(),
            seed: 0,
            demo: true,
            start_time: None,
            clock_scale: 1.0,
            store: StoreConfig::default(),
            rate_limits: RateLimits::default(),
            faults: None,
        }
    }
}

impl SimulatorBuilder {
    /// Where to listen (default `127.0.0.1:0`, a free port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// The classic REST access token the seeded account accepts.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.access_token = token.into();
        self
    }

    /// The GraphQL API key the seeded account accepts.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = key.into();
        self
    }

    /// Seed for ids and shuffles (faults carry their own seed).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// With `false`, the account and organization exist but have no channels or posts.
    pub fn demo(mut self, demo: bool) -> Self {
        self.demo = demo;
        self
    }

    /// Starts the simulated clock at this time instead of now.
    pub fn start_time(mut self, at: DateTime<Utc>) -> Self {
        self.start_time = Some(at);
        self
    }

    /// Simulated seconds per real second (0 freezes time until the test advances it).
    pub fn clock_scale(mut self, scale: f64) -> Self {
        self.clock_scale = scale;
        self
    }

    /// How many scheduled posts a channel may hold.
    pub fn queue_limit(mut self, limit: usize) -> Self {
        self.store.queue_limit = limit;
        self
    }

    /// How long the same text counts as a duplicate on a channel.
    pub fn duplicate_window(mut self, window: Duration) -> Self {
        self.store.duplicate_window = window;
        self
    }

    /// Every store rule at once.
    pub fn store_config(mut self, config: StoreConfig) -> Self {
        self.store = config;
        self
    }

    /// Rate-limit quotas (default: Buffer's).
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Faults from the first request on.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = Some(faults);
        self
    }

    /// Binds and starts serving.
    ///
    /// # Panics
    /// When the address cannot be bound; use [`SimulatorBuilder::try_start`] to handle that.
    pub async fn start(self) -> Simulator {
        match self.try_start().await {
            Ok(sim) => sim,
            Err(e) => panic!("buffer-sim could not listen: {e}"),
        }
    }

    /// Binds and starts serving, or says why it could not bind.
    pub async fn try_start(self) -> std::io::Result<Simulator> {
        let clock = SimClock::new(self.start_time.unwrap_or_else(Utc::now), self.clock_scale);
        let store = Store::new(clock.clone(), self.store, self.seed);
        let demo = demo::seed(&store, &self.access_token, &self.api_key, self.demo);
        let app = Arc::new(App {
            store,
            limiter: Limiter::new(self.rate_limits, clock),
            faults: FaultState::default(),
            log: RequestLog::default(),
        });
        if let Some(faults) = self.faults {
            app.faults.set(faults);
        }
        let listener = TcpListener::bind(self.addr).await?;
        let addr = listener.local_addr()?;
        let (shutdown, stop) = oneshot::channel();
        let task = tokio::spawn(serve(listener, Arc::clone(&app), stop));
        Ok(Simulator {
            addr,
            app,
            demo,
            access_token: self.access_token,
            api_key: self.api_key,
            shutdown: Some(shutdown),
            task,
        })
    }
}

/// A running fake Buffer. Dropping it stops the server.
pub struct Simulator {
    addr: SocketAddr,
    app: Arc<App>,
    demo: Demo,
    access_token: String,
    api_key: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// A simulator with the demo account on a free loopback port.
    pub async fn start() -> Simulator {
        Self::builder().start().await
    }

    /// Options before starting.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL of the classic API, e.g. `http://127.0.0.1:PORT/1/`.
    pub fn rest_url(&self) -> String {
        format!("http://{}/1/", self.addr)
    }

    /// URL of the GraphQL API, e.g. `http://127.0.0.1:PORT/`.
    pub fn graphql_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The classic access token of the seeded account.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The GraphQL API key of the seeded account.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// What was seeded: account, organization, channels.
    pub fn demo(&self) -> &Demo {
        &self.demo
    }

    /// The seeded organization's id.
    pub fn organization_id(&self) -> &str {
        &self.demo.organization.id
    }

    /// The store, to seed or inspect.
    pub fn store(&self) -> &Store {
        &self.app.store
    }

    /// The simulated clock, to advance or speed up.
    pub fn clock(&self) -> &SimClock {
        self.app.store.clock()
    }

    /// The requests so far, oldest first: the latest [`REQUEST_LOG_CAPACITY`] of them, so a
    /// long-running simulator keeps a bounded log (counts below read the same window).
    ///
    /// [`REQUEST_LOG_CAPACITY`]: crate::REQUEST_LOG_CAPACITY
    pub fn requests(&self) -> Vec<RequestEntry> {
        self.app.log.entries()
    }

    /// How many of the logged requests went to `api`.
    pub fn request_count(&self, api: Api) -> usize {
        self.app
            .log
            .entries()
            .iter()
            .filter(|e| e.api == api)
            .count()
    }

    /// How many of the logged requests named `route`: a REST path (`/1/profiles.json`) or a GraphQL
    /// operation name or root field (`createPost`).
    pub fn requests_to(&self, route: &str) -> usize {
        self.app
            .log
            .entries()
            .iter()
            .filter(|e| {
                e.path == route
                    || e.operation.as_deref() == Some(route)
                    || e.root_fields.iter().any(|f| f == route)
            })
            .count()
    }

    /// Forgets the logged requests.
    pub fn clear_requests(&self) {
        self.app.log.clear();
    }

    /// Replaces the fault rules (and restarts their generator from the seed).
    pub fn set_faults(&self, faults: Faults) {
        self.app.faults.set(faults);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.app.faults.set(Faults::default());
    }

    /// Replaces the rate-limit quotas and forgets what was counted.
    pub fn set_rate_limits(&self, limits: RateLimits) {
        self.app.limiter.set_limits(limits);
    }

    /// Forgets what was counted against the rate limits.
    pub fn reset_rate_limits(&self) {
        self.app.limiter.reset();
    }

    /// Serves until the future returned by `stop` completes (for the binary).
    pub async fn run_until(mut self, stop: impl std::future::Future<Output = ()>) {
        stop.await;
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, app: Arc<App>, mut stop: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let app = Arc::clone(&app);
                connections.spawn(async move {
                    let service = service_fn(move |request| respond(Arc::clone(&app), request));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
}

async fn respond(
    app: Arc<App>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let bearer = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .map(str::to_owned);
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let api = if path == "/1" || path.starts_with("/1/") {
        Api::Rest
    } else {
        Api::GraphQl
    };
    let label = if api == Api::GraphQl {
        graphql::label(&body)
    } else {
        graphql::Label::default()
    };
    let mut routes = vec![path.clone()];
    routes.extend(label.operation.iter().cloned());
    routes.extend(label.root_fields.iter().cloned());
    let decision = app.faults.decide(api, &routes);
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    let mut entry = RequestEntry {
        api,
        method: method.clone(),
        path: path.clone(),
        operation: label.operation,
        root_fields: label.root_fields,
        status: None,
        fault: decision
            .fault
            .map(Fault::name)
            .or((!decision.latency.is_zero()).then_some("latency")),
    };
    let reply = match decision.fault {
        Some(Fault::Drop) => {
            app.log.push(entry);
            return Err(DropConnection);
        }
        Some(Fault::ServerError(status)) => Reply::html(status, "Service Unavailable"),
        Some(Fault::Html) => Reply::html(200, "Buffer is down for maintenance"),
        Some(Fault::RateLimitBurst(_)) => rate_limited(api),
        Some(Fault::Truncate | Fault::LoseResponse | Fault::Latency(_)) | None => {
            let answer = || answer(&app, api, &method, &path, &query, bearer.as_deref(), &body);
            let mut reply = answer();
            match decision.fault {
                Some(Fault::Truncate) => {
                    let half = reply.body.len() / 2;
                    reply.body.truncate(half);
                }
                Some(Fault::LoseResponse) => {
                    entry.status = Some(reply.status);
                    app.log.push(entry);
                    return Err(DropConnection);
                }
                _ => {}
            }
            reply
        }
    };
    entry.status = Some(reply.status);
    app.log.push(entry);
    Ok(to_response(reply))
}

fn answer(
    app: &App,
    api: Api,
    method: &str,
    path: &str,
    query: &str,
    bearer: Option<&str>,
    body: &[u8],
) -> Reply {
    match api {
        Api::Rest => rest::handle(
            &app.store,
            &app.limiter,
            &RestRequest {
                method,
                path,
                query,
                bearer,
                body,
            },
        ),
        Api::GraphQl if path == "/" || path == "/graphql" => graphql::handle(
            &app.store,
            &app.limiter,
            &GraphQlRequest {
                method,
                bearer,
                body,
            },
        ),
        Api::GraphQl => Reply::json(
            404,
            &serde_json::json!({ "errors": [{ "message": format!("Cannot {method} {path}") }] }),
        ),
    }
}

/// The credential of an `Authorization: Bearer …` header (the scheme is case-insensitive).
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A 429 in the API's own shape (used by rate-limit burst faults).
fn rate_limited(api: Api) -> Reply {
    match api {
        Api::Rest => Reply::json(
            429,
            &serde_json::json!({ "success": false, "code": 429, "error": "Too Many Requests." }),
        ),
        Api::GraphQl => Reply::json(
            429,
            &serde_json::json!({ "errors": [{
                "message": "Too many requests from this client. Please try again later.",
                "extensions": { "code": "RATE_LIMIT_EXCEEDED", "window": "15m" },
            }]}),
        )
        .header("retry-after", "1"),
    }
}

fn to_response(reply: Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
            headers.append(name, value);
        }
    }
    response
}
