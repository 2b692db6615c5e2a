//! The HTTP server and the [`Simulator`] handle: one loopback address serving both APIs,
//! with faults applied and every request logged. Credentials are checked from the request head
//! before a body is read, and a body is read only up to a size limit and a deadline, so a
//! simulator left running survives hostile clients (connections are guarded in `listen`).
//!
//! Built on hyper's connection API rather than a framework so that a fault can close a
//! connection without answering: hyper drops the connection when the service fails.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::SimClock;
use crate::demo::{self, Demo};
use crate::faults::{Fault, FaultState, Faults, NullScope};
use crate::graphql::{self, GraphQlRequest};
use crate::limits::{Limiter, RateLimits};
use crate::listen::{self, ConnectionLimits};
use crate::log::{Api, RequestEntry, RequestLog};
use crate::oauth::{self, Bearer, OAuthServer};
use crate::reply::Reply;
use crate::rest::{self, RestRequest};
use crate::store::{Store, StoreConfig};

/// Default [`SimulatorBuilder::max_body_bytes`]: far above any request Buffer's APIs take.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Default [`SimulatorBuilder::read_timeout`].
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`SimulatorBuilder::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Everything a request handler needs.
struct App {
    store: Store,
    limiter: Limiter,
    faults: FaultState,
    log: RequestLog,
    oauth: OAuthServer,
    max_body_bytes: usize,
    read_timeout: Duration,
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
    max_body_bytes: usize,
    read_timeout: Duration,
    max_connections: usize,
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
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            read_timeout: DEFAULT_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
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

    /// Lets the same text be posted twice on a channel (`false`), so a test can tell a client
    /// that never posts twice from a server that refused the second copy. Default `true`: Buffer
    /// refuses recent duplicates (classic code 1025, GraphQL `InvalidInputError`).
    pub fn reject_duplicates(mut self, reject: bool) -> Self {
        self.store.reject_duplicates = reject;
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

    /// The largest request body read (default [`DEFAULT_MAX_BODY_BYTES`]); a larger one is
    /// refused with 413 in the API's error shape, without being read past the limit.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// How long a client may take to send a request head, and then its body (default
    /// [`DEFAULT_READ_TIMEOUT`]). A keep-alive connection that sends nothing for this long is
    /// closed too, since the server is waiting for the next head. Slow clients cannot hold
    /// connections forever.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// How many connections may be open at once (default [`DEFAULT_MAX_CONNECTIONS`]); more
    /// wait, unaccepted, until one closes.
    pub fn max_connections(mut self, limit: usize) -> Self {
        self.max_connections = limit;
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
        let listener = TcpListener::bind(self.addr).await?;
        let addr = listener.local_addr()?;
        let app = Arc::new(App {
            store,
            limiter: Limiter::new(self.rate_limits, clock),
            faults: FaultState::default(),
            log: RequestLog::default(),
            oauth: OAuthServer::new(format!("http://{addr}")),
            max_body_bytes: self.max_body_bytes,
            read_timeout: self.read_timeout,
        });
        if let Some(faults) = self.faults {
            app.faults.set(faults);
        }
        let (shutdown, stop) = oneshot::channel();
        let limits = ConnectionLimits {
            max_connections: self.max_connections,
            read_timeout: self.read_timeout,
        };
        let served = Arc::clone(&app);
        let task = tokio::spawn(listen::serve(listener, limits, stop, move |request| {
            respond(Arc::clone(&served), request)
        }));
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

    /// The authorization server's issuer, e.g. `http://127.0.0.1:PORT`: its discovery document
    /// is at `/.well-known/oauth-authorization-server` under it.
    pub fn issuer_url(&self) -> String {
        self.app.oauth.issuer().to_owned()
    }

    /// The authorization server: its counters, its consent switch, client registration.
    pub fn oauth(&self) -> &OAuthServer {
        &self.app.oauth
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

    /// Counts of every request since the start (or [`clear_requests`](Self::clear_requests)),
    /// however many the log has forgotten.
    pub fn totals(&self) -> crate::RequestTotals {
        self.app.log.totals()
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

/// Answers one request: credentials checked from the head, then the body read (bounded in
/// size and time), faults applied, the request logged, and the answer dated by the simulated
/// clock.
async fn respond(
    app: Arc<App>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let (head, body) = request.into_parts();
    let method = head.method.as_str().to_owned();
    let path = head.uri.path().to_owned();
    let query = head.uri.query().unwrap_or_default().to_owned();
    let mut bearer = head
        .headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .map(str::to_owned);
    let api = if path == "/1" || path.starts_with("/1/") {
        Api::Rest
    } else {
        Api::GraphQl
    };
    let authorization_server = OAuthServer::serves(&method, &path);
    // An OAuth access token speaks for its account, within its grant's scopes.
    let mut scopes = None;
    let mut entry = RequestEntry {
        api,
        method: method.clone(),
        path: path.clone(),
        operation: None,
        root_fields: Vec::new(),
        status: None,
        fault: None,
    };
    let early = match api {
        _ if authorization_server => None,
        Api::GraphQl if graphql::serves(&path) => {
            match app
                .oauth
                .bearer(&app.store, bearer.as_deref(), app.store.clock().now())
            {
                Bearer::NotOAuth => graphql::authenticate(&app.store, bearer.as_deref()).err(),
                Bearer::Granted {
                    api_key,
                    scopes: granted,
                } => {
                    bearer = Some(api_key);
                    scopes = Some(granted);
                    None
                }
                Bearer::Refused(refusal) => Some(refusal),
            }
        }
        Api::Rest => {
            rest::refusal_before_body(&app.store, &method, &path, &query, bearer.as_deref())
        }
        Api::GraphQl => None,
    };
    if let Some(refusal) = early {
        return Ok(app.finish(entry, refusal));
    }
    let body = match read_body(&app, body).await {
        Ok(body) => body,
        Err(BodyError::Broken) => return Err(DropConnection),
        Err(BodyError::TooLarge) => {
            // A classic token may sit in the form body: unread, it cannot vouch for the client.
            let refusal = if api == Api::Rest && !rest::token_in_head(&query, bearer.as_deref()) {
                rest::unauthenticated()
            } else {
                refusal(
                    api,
                    413,
                    "The request body is larger than the server accepts",
                )
            };
            return Ok(app.finish(entry, refusal));
        }
        Err(BodyError::TooSlow) => {
            let refusal = refusal(api, 408, "The request body did not arrive in time");
            return Ok(app.finish(entry, refusal));
        }
    };
    let label = if api == Api::GraphQl {
        graphql::label(&body)
    } else {
        graphql::Label::default()
    };
    let missing_scope = scopes.and_then(|granted| {
        label
            .root_fields
            .iter()
            .map(|field| oauth::scope_for(field, label.mutation))
            .find(|needed| !granted.iter().any(|g| g == needed))
    });
    let mut routes = vec![path.clone()];
    routes.extend(label.operation.iter().cloned());
    routes.extend(label.root_fields.iter().cloned());
    let decision = app.faults.decide(api, &routes);
    // Buffer finishes a request it has received even when the client has gone away (a
    // cancelled future, a timeout): handled on a task of its own, the request still runs, and
    // may still create a post, after its latency.
    let handled = tokio::spawn(async move {
        if !decision.latency.is_zero() {
            tokio::time::sleep(decision.latency).await;
        }
        entry.operation = label.operation;
        entry.root_fields = label.root_fields;
        entry.fault = decision
            .fault
            .map(Fault::name)
            .or((!decision.latency.is_zero()).then_some("latency"));
        if let Some(needed) = missing_scope {
            return Ok(app.finish(entry, oauth::forbidden(needed)));
        }
        let request = Received {
            authorization_server,
            api,
            method: &method,
            path: &path,
            query: &query,
            bearer: bearer.as_deref(),
            body: &body,
        };
        let reply = match decision.fault {
            Some(Fault::Drop) => {
                app.log.push(entry);
                return Err(DropConnection);
            }
            Some(Fault::ServerError(status)) => Reply::html(status, "Service Unavailable"),
            Some(Fault::Html) => Reply::html(200, "Buffer is down for maintenance"),
            Some(Fault::RateLimitBurst(_)) => rate_limited(api),
            Some(Fault::Truncate) => {
                let mut reply = answer(&app, &request, None);
                let half = reply.body.len() / 2;
                reply.body.truncate(half);
                reply
            }
            Some(Fault::LoseResponse) => {
                entry.status = Some(answer(&app, &request, None).status);
                app.log.push(entry);
                return Err(DropConnection);
            }
            Some(Fault::NullField(scope)) => answer(&app, &request, Some(scope)),
            Some(Fault::Latency(_)) | None => answer(&app, &request, None),
        };
        Ok(app.finish(entry, reply))
    });
    match handled.await {
        Ok(response) => response,
        Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
        Err(_) => Err(DropConnection),
    }
}

impl App {
    /// Logs the request with the answer's status, and dates the answer by the simulated clock,
    /// the clock every `createdAt` comes from, as Buffer's `Date` and its times share one clock.
    fn finish(&self, mut entry: RequestEntry, reply: Reply) -> Response<Full<Bytes>> {
        entry.status = Some(reply.status);
        self.log.push(entry);
        to_response(reply, self.store.clock().now())
    }
}

/// Why a request body was not read whole.
enum BodyError {
    /// Over [`SimulatorBuilder::max_body_bytes`], declared or while reading.
    TooLarge,
    /// Not whole within [`SimulatorBuilder::read_timeout`].
    TooSlow,
    /// The client broke the framing or went away: there is no one to answer.
    Broken,
}

/// The body, read only up to the size limit and within the read timeout.
async fn read_body(app: &App, body: Incoming) -> Result<Bytes, BodyError> {
    use hyper::body::Body as _;
    if body
        .size_hint()
        .exact()
        .is_some_and(|declared| declared > app.max_body_bytes as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let limited = Limited::new(body, app.max_body_bytes).collect();
    match tokio::time::timeout(app.read_timeout, limited).await {
        Err(_) => Err(BodyError::TooSlow),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(BodyError::TooLarge),
        Ok(Err(_)) => Err(BodyError::Broken),
    }
}

/// One request, read off the wire, for either API.
struct Received<'a> {
    /// Whether the request is for the authorization server rather than an API.
    authorization_server: bool,
    api: Api,
    method: &'a str,
    path: &'a str,
    query: &'a str,
    bearer: Option<&'a str>,
    body: &'a [u8],
}

fn answer(app: &App, request: &Received<'_>, null_field: Option<NullScope>) -> Reply {
    let Received {
        authorization_server,
        api,
        method,
        path,
        query,
        bearer,
        body,
    } = *request;
    match api {
        _ if authorization_server => app.oauth.handle(&app.store, path, query, body),
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
        Api::GraphQl if graphql::serves(path) => graphql::handle(
            &app.store,
            &app.limiter,
            &GraphQlRequest {
                method,
                bearer,
                body,
                null_field,
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

/// A refusal by the server itself (body too large, too slow) in the API's error shape.
fn refusal(api: Api, status: u16, message: &str) -> Reply {
    match api {
        Api::Rest => Reply::json(
            status,
            &serde_json::json!({ "success": false, "code": status, "error": message }),
        ),
        Api::GraphQl => Reply::json(
            status,
            &serde_json::json!({ "errors": [{
                "message": message,
                "extensions": { "code": "BAD_REQUEST" },
            }]}),
        ),
    }
    .header("connection", "close")
}

/// An HTTP date (RFC 7231 IMF-fixdate), e.g. `Mon, 02 Mar 2026 10:00:00 GMT`.
fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn to_response(reply: Reply, now: DateTime<Utc>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    if let Ok(date) = hyper::header::HeaderValue::from_str(&http_date(now)) {
        headers.insert(hyper::header::DATE, date);
    }
    for (name, value) in reply.headers {
        if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
            headers.append(name, value);
        }
    }
    response
}
