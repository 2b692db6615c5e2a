//! What the GraphQL wire tests share: a backend pointed at a wiremock server, the documents
//! as files, the bodies the server received, and response data shaped like Buffer's.

#![allow(dead_code)]

use buffer_bridge::graphql::GraphQl;
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The API key the tests use; no error or log may show it.
pub const KEY: &str = "key-canary-7f3a";

/// A backend on `server`, working in organization `org1` (so no organization lookup is sent).
pub fn backend(server: &MockServer) -> GraphQl {
    GraphQl::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .organization_id("org1")
        .build()
        .unwrap()
}

/// A backend on `server` that looks the account's organizations up itself.
pub fn backend_without_organization(server: &MockServer) -> GraphQl {
    GraphQl::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .build()
        .unwrap()
}

/// Answers every POST with `template`.
pub async fn answer(server: &MockServer, template: ResponseTemplate) {
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(server)
        .await;
}

/// Answers every POST with HTTP 200 and this JSON body.
pub async fn answer_json(server: &MockServer, body: Value) {
    answer(server, ResponseTemplate::new(200).set_body_json(body)).await;
}

/// The JSON bodies the server received, in order.
pub async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| r.body_json::<Value>().unwrap())
        .collect()
}

/// A document of `graphql/`, as it must go on the wire.
pub fn document(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/graphql/{name}.graphql",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A recorded body from `tests/fixtures/graphql/`.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/graphql/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A post as the `PostFields` fragment selects it.
pub fn post_json(id: &str, channel: &str) -> Value {
    json!({
        "id": id,
        "channelId": channel,
        "channelService": "twitter",
        "text": "Hello",
        "status": "scheduled",
        "createdAt": "2026-11-01T10:00:00Z",
        "updatedAt": "2026-11-01T10:05:00Z",
        "dueAt": "2026-11-02T09:00:00.000Z",
        "sentAt": null,
        "sharedNow": false,
        "externalLink": null,
        "error": null,
        "assets": [{
            "__typename": "ImageAsset",
            "type": "image",
            "source": "https://cdn.example.com/a.png",
            "thumbnail": "https://cdn.example.com/a-thumb.png",
            "image": {"altText": "a cat"}
        }],
        "metadata": {"__typename": "TwitterPostMetadata"},
        "metrics": null
    })
}

/// A channel as the `ChannelFields` fragment selects it.
pub fn channel_json(id: &str, service: &str, organization: &str) -> Value {
    json!({
        "id": id,
        "name": format!("{id}-handle"),
        "displayName": "Display",
        "service": service,
        "type": "profile",
        "serviceId": "123",
        "avatar": "https://cdn.example.com/avatar.png",
        "timezone": "Europe/London",
        "organizationId": organization,
        "isDisconnected": false,
        "createdAt": "2025-01-01T00:00:00Z",
        "postingSchedule": [
            {"day": "sun", "times": ["10:00"], "paused": false},
            {"day": "mon", "times": ["09:00", "17:30"], "paused": true}
        ]
    })
}

/// A `PostActionSuccess` member carrying a post.
pub fn success(id: &str, channel: &str) -> Value {
    json!({"__typename": "PostActionSuccess", "post": post_json(id, channel)})
}
