//! What the criterion benches and `examples/bench.rs` share: answer bodies recorded from the
//! simulator, and the plain-struct baseline the library's decoders are measured against.
#![allow(dead_code)]

use serde::Deserialize;

/// A `pending.json` and a GraphQL `posts` answer of `count` queued posts, as the simulator
/// serves them.
pub async fn page_bodies(count: usize) -> (Vec<u8>, Vec<u8>) {
    let sim = buffer_sim::Simulator::builder()
        .queue_limit(count + 100)
        .start()
        .await;
    let channel = sim.demo().channels[0].id.clone();
    for i in 0..count {
        let text =
            format!("Post {i}: what we shipped this week, and why https://example.com/notes/{i}");
        sim.store()
            .add_post(buffer_sim::NewPost::new(
                &channel,
                &text,
                buffer_sim::When::Queue,
            ))
            .expect("the simulator accepts the post");
    }
    let client = reqwest::Client::new();
    let rest = client
        .get(format!(
            "{}profiles/{channel}/updates/pending.json?count={count}",
            sim.rest_url()
        ))
        .bearer_auth(sim.access_token())
        .send()
        .await
        .expect("the simulator answers")
        .bytes()
        .await
        .expect("a body");
    let query = serde_json::json!({
        "query": include_str!("../../graphql/post_operations.graphql"),
        "operationName": "Posts",
        "variables": {
            "input": {
                "organizationId": sim.organization_id(),
                "filter": {"channelIds": [channel], "status": ["scheduled"]},
                "sort": [{"field": "dueAt", "direction": "asc"}],
            },
            "first": count,
        },
    });
    let graphql = client
        .post(sim.graphql_url())
        .bearer_auth(sim.api_key())
        .json(&query)
        .send()
        .await
        .expect("the simulator answers")
        .bytes()
        .await
        .expect("a body");
    (rest.to_vec(), graphql.to_vec())
}

/// The classic page as plain structs: the fields the library reads, no leniency, no model.
#[derive(Deserialize)]
pub struct RawRestPage {
    pub total: Option<u64>,
    pub updates: Vec<RawUpdate>,
}

/// One classic update as a plain struct.
#[derive(Deserialize)]
pub struct RawUpdate {
    pub id: String,
    pub profile_id: String,
    pub profile_service: String,
    pub text: String,
    pub status: String,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
    pub due_at: Option<i64>,
    pub sent_at: Option<i64>,
    pub shared_now: Option<bool>,
    pub media: Option<serde_json::Value>,
    pub service_update_id: Option<String>,
    pub service_link: Option<String>,
}

/// The GraphQL page as plain structs.
#[derive(Deserialize)]
pub struct RawGraphQlPage {
    pub data: RawData,
}

/// `data`.
#[derive(Deserialize)]
pub struct RawData {
    pub posts: RawPosts,
}

/// `posts`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawPosts {
    pub edges: Vec<RawEdge>,
    pub page_info: RawPageInfo,
}

/// One edge.
#[derive(Deserialize)]
pub struct RawEdge {
    pub cursor: String,
    pub node: RawNode,
}

/// `pageInfo`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawPageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// One post.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawNode {
    pub id: String,
    pub channel_id: String,
    pub channel_service: String,
    pub text: String,
    pub status: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub due_at: Option<String>,
    pub sent_at: Option<String>,
    pub shared_now: Option<bool>,
    pub external_link: Option<String>,
    pub error: Option<serde_json::Value>,
    pub assets: Vec<serde_json::Value>,
    pub metadata: Option<serde_json::Value>,
    pub metrics: Option<serde_json::Value>,
}

/// Decodes the classic page with plain serde; how many posts.
pub fn raw_rest(body: &[u8]) -> usize {
    serde_json::from_slice::<RawRestPage>(body)
        .map(|page| page.updates.len())
        .unwrap_or(0)
}

/// Decodes the GraphQL page with plain serde; how many posts.
pub fn raw_graphql(body: &[u8]) -> usize {
    serde_json::from_slice::<RawGraphQlPage>(body)
        .map(|page| page.data.posts.edges.len())
        .unwrap_or(0)
}
