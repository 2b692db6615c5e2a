//! Shared pieces of the classic REST tests: fixtures, a wiremock server that answers every
//! request the same way, and what a request looked like on the wire.
#![allow(dead_code)] // each test file uses a different part

use buffer_bridge::rest::ClassicRest;
use buffer_bridge::{Backend, Request, Response, Result};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The token every test backend sends.
pub const TOKEN: &str = "test-token-0123456789";

/// A recorded body from `tests/fixtures/rest/`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/rest/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A recorded body with some of its fields replaced, for answers no recording shows.
pub fn edited(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut value: serde_json::Value =
        serde_json::from_str(&fixture(name)).expect("fixtures are JSON");
    edit(&mut value);
    value.to_string()
}

/// A backend pointed at `server`'s `/1/`.
pub fn backend(server: &MockServer) -> ClassicRest {
    ClassicRest::builder()
        .access_token(TOKEN)
        .base_url(format!("{}/1/", server.uri()))
        .build()
        .expect("a loopback backend builds")
}

/// A JSON answer.
pub fn json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/json;charset=UTF-8")
        .set_body_string(body)
}

/// A server answering every request with `response`.
pub async fn server_answering(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

/// One request as it went out.
#[derive(Debug)]
pub struct Sent {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub body: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
}

impl From<&wiremock::Request> for Sent {
    fn from(request: &wiremock::Request) -> Self {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Self {
            method: request.method.to_string(),
            path: request.url.path().to_owned(),
            query: request.url.query().map(str::to_owned),
            body: String::from_utf8_lossy(&request.body).into_owned(),
            authorization: header("authorization"),
            content_type: header("content-type"),
        }
    }
}

/// Every request the server received.
pub async fn sent(server: &MockServer) -> Vec<Sent> {
    server
        .received_requests()
        .await
        .expect("request recording is on")
        .iter()
        .map(Sent::from)
        .collect()
}

/// Runs `request` against a server answering `response`; returns the result and what went out.
pub async fn exchange(
    request: Request,
    response: ResponseTemplate,
) -> (Result<Response>, Vec<Sent>) {
    let server = server_answering(response).await;
    let result = backend(&server).execute(request).await;
    (result, sent(&server).await)
}
