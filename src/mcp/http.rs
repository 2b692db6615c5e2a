//! The MCP server over streamable HTTP, one set of tools per agent, chosen by the agent's own
//! bearer key.

use super::BufferTools;
use crate::access::Agents;
use crate::{Error, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_service::Service;

type Tools = StreamableHttpService<BufferTools, LocalSessionManager>;
type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, Infallible>;

/// At most this many connections at once: one agent's runaway client must not exhaust the
/// process.
const MAX_CONNECTIONS: usize = 256;

/// Serves MCP at `/mcp` on `listener` until the task is dropped. Each request must carry
/// `Authorization: Bearer <agent key>`; the key picks the agent (by its SHA-256 in the
/// policy), and `tools_for` gives that agent's tools (its [`Access`](crate::access::Access)
/// layer). A request without a known key is refused with 401 before any tool runs.
///
/// Only requests whose `Host` is a loopback name are served (a guard against DNS rebinding
/// of a server on a developer's machine); a server for other machines names its hosts with
/// [`serve_http_for_hosts`].
pub async fn serve_http(
    listener: TcpListener,
    agents: Agents,
    tools_for: impl Fn(&crate::access::Agent) -> BufferTools,
) -> Result<()> {
    serve_http_for_hosts(listener, agents, tools_for, Vec::new()).await
}

/// [`serve_http`], answering requests addressed to `hosts` (`mcp.example.com`, or with a
/// port, `mcp.example.com:8787`) besides loopback ones.
pub async fn serve_http_for_hosts(
    listener: TcpListener,
    agents: Agents,
    tools_for: impl Fn(&crate::access::Agent) -> BufferTools,
    hosts: Vec<String>,
) -> Result<()> {
    let mut config = StreamableHttpServerConfig::default()
        .with_sse_keep_alive(None)
        .with_json_response(true);
    if !hosts.is_empty() {
        let mut allowed = config.allowed_hosts.clone();
        allowed.extend(hosts);
        config = config.with_allowed_hosts(allowed);
    }
    let mut services = BTreeMap::new();
    for agent in agents.iter() {
        let tools = tools_for(agent);
        let service: Tools = StreamableHttpService::new(
            move || Ok(tools.clone()),
            Arc::new(LocalSessionManager::default()),
            config.clone(),
        );
        services.insert(agent.name().to_owned(), service);
    }
    let router = Arc::new(Router { agents, services });
    let permits = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::transport("the MCP server stopped", None))?;
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "could not accept an MCP connection");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let router = router.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let router = router.clone();
                async move { Ok::<_, Infallible>(router.handle(request).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .header_read_timeout(std::time::Duration::from_secs(10))
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(io, service)
                .await;
            drop(permit);
        });
    }
}

struct Router {
    agents: Agents,
    services: BTreeMap<String, Tools>,
}

impl Router {
    async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        if request.uri().path() != "/mcp" {
            return refusal(StatusCode::NOT_FOUND, "MCP is served at /mcp");
        }
        let key = request
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(agent) = key.and_then(|key| self.agents.by_key(key)) else {
            return refusal(
                StatusCode::UNAUTHORIZED,
                "an agent key is needed (Authorization: Bearer <key>)",
            );
        };
        let Some(mut service) = self.services.get(agent.name()).cloned() else {
            return refusal(StatusCode::UNAUTHORIZED, "unknown agent");
        };
        match service.call(request).await {
            Ok(response) => response.map(|body| body.boxed_unsync()),
            Err(never) => match never {},
        }
    }
}

fn refusal(status: StatusCode, message: &'static str) -> Response<Body> {
    let mut response =
        Response::new(Full::new(Bytes::from_static(message.as_bytes())).boxed_unsync());
    *response.status_mut() = status;
    response
}
