//! Faults on demand, the same for the same seed, and the request log.

mod common;

use std::time::Duration;

use buffer_sim::{Api, Fault, FaultRule, Faults, NullScope, Simulator};
use common::{frozen, gql_full, http, monday};
use serde_json::Value;

async fn statuses(seed: u64) -> Vec<u16> {
    let sim = Simulator::builder()
        .start_time(monday())
        .clock_scale(0.0)
        .faults(Faults::seeded(seed).server_errors(0.5))
        .start()
        .await;
    let mut out = Vec::new();
    for _ in 0..20 {
        let response = http()
            .get(format!("{}user.json", sim.rest_url()))
            .bearer_auth(sim.access_token())
            .send()
            .await
            .expect("request");
        out.push(response.status().as_u16());
    }
    out
}

#[tokio::test]
async fn same_seed_same_faults() {
    let first = statuses(42).await;
    assert_eq!(first, statuses(42).await);
    assert!(first.contains(&503) && first.contains(&200), "{first:?}");
    assert_ne!(first, statuses(43).await);
}

#[tokio::test]
async fn dropped_connections_are_connection_errors() {
    let sim = frozen().await;
    sim.set_faults(Faults::seeded(1).rule(FaultRule::new(Fault::Drop).api(Api::GraphQl).times(1)));
    let result = http()
        .post(sim.graphql_url())
        .bearer_auth(sim.api_key())
        .json(&serde_json::json!({ "query": "query Me { account { id } }" }))
        .send()
        .await;
    let error = result.expect_err("the connection was dropped");
    assert!(!error.is_status() && !error.is_decode(), "{error:?}");
    let entry = sim.requests().pop().expect("logged");
    assert_eq!(
        (entry.status, entry.fault, entry.operation.as_deref()),
        (None, Some("drop"), Some("Me"))
    );
    // Only once, and only GraphQL.
    assert_eq!(
        gql_full(&sim, "{ account { id } }", Value::Null).await.0,
        200
    );
}

#[tokio::test]
async fn broken_bodies_and_html_pages() {
    let sim = frozen().await;
    sim.set_faults(Faults::seeded(1).rule(FaultRule::new(Fault::Truncate).times(1)));
    let response = http()
        .get(format!("{}profiles.json", sim.rest_url()))
        .bearer_auth(sim.access_token())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("text");
    assert!(
        !text.is_empty() && serde_json::from_str::<Value>(&text).is_err(),
        "cut JSON"
    );

    sim.set_faults(Faults::seeded(1).rule(FaultRule::new(Fault::Html).times(1)));
    let response = http()
        .get(format!("{}user.json", sim.rest_url()))
        .bearer_auth(sim.access_token())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    assert!(
        response
            .text()
            .await
            .expect("text")
            .starts_with("<!DOCTYPE html>")
    );
}

#[tokio::test]
async fn rate_limit_bursts_and_route_targets() {
    let sim = frozen().await;
    sim.set_faults(
        Faults::seeded(9).rule(
            FaultRule::new(Fault::RateLimitBurst(3))
                .route("/1/user.json")
                .times(1),
        ),
    );
    let mut seen = Vec::new();
    for _ in 0..4 {
        let response = http()
            .get(format!("{}user.json", sim.rest_url()))
            .bearer_auth(sim.access_token())
            .send()
            .await
            .expect("request");
        seen.push(response.status().as_u16());
    }
    assert_eq!(seen, [429, 429, 429, 200]);

    sim.set_faults(
        Faults::seeded(9).rule(FaultRule::new(Fault::ServerError(502)).route("createPost")),
    );
    assert_eq!(
        gql_full(&sim, "{ account { id } }", Value::Null).await.0,
        200
    );
    let mutation = r#"mutation { createPost(input: { channelId: "x", mode: addToQueue, schedulingType: automatic }) { __typename } }"#;
    let (status, headers, _) = gql_full(&sim, mutation, Value::Null).await;
    assert_eq!(status, 502);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );

    sim.set_faults(
        Faults::seeded(9).rule(
            FaultRule::new(Fault::RateLimitBurst(1))
                .api(Api::GraphQl)
                .times(1),
        ),
    );
    let (status, headers, body) = gql_full(&sim, "{ account { id } }", Value::Null).await;
    assert_eq!(status, 429);
    assert!(headers.contains_key("retry-after"));
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "RATE_LIMIT_EXCEEDED"
    );
}

#[tokio::test]
async fn latency_is_added() {
    let sim = frozen().await;
    sim.set_faults(Faults::seeded(0).latency(Duration::from_millis(30)));
    let started = std::time::Instant::now();
    gql_full(&sim, "{ account { id } }", Value::Null).await;
    // Not a timing assertion on the code under test: it checks the fault itself was applied.
    assert!(started.elapsed() >= Duration::from_millis(30));
    assert_eq!(sim.requests().pop().and_then(|e| e.fault), Some("latency"));
    sim.clear_faults();
}

#[tokio::test]
async fn the_request_log_counts_per_api_and_route() {
    let sim = frozen().await;
    common::rest_get(&sim, "profiles.json").await;
    common::rest_get(&sim, "user.json").await;
    gql_full(&sim, "query Channels { account { id } }", Value::Null).await;
    gql_full(&sim, "{ a: account { id } }", Value::Null).await;
    assert_eq!(sim.request_count(Api::Rest), 2);
    assert_eq!(sim.request_count(Api::GraphQl), 2);
    assert_eq!(sim.requests_to("/1/profiles.json"), 1);
    assert_eq!(sim.requests_to("Channels"), 1);
    assert_eq!(sim.requests_to("account"), 2);
    let entries = sim.requests();
    assert_eq!(entries[0].method, "GET");
    assert_eq!(entries[0].status, Some(200));
    assert_eq!(
        entries[3].operation.as_deref(),
        Some("account"),
        "unnamed: first root field"
    );
    sim.clear_requests();
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn a_lost_response_still_creates_the_post() {
    let sim = frozen().await;
    let twitter = common::channel_id(&sim, buffer_sim::Service::Twitter);
    sim.set_faults(
        Faults::seeded(3).rule(
            FaultRule::new(Fault::LoseResponse)
                .route("/1/updates/create.json")
                .times(1),
        ),
    );
    let form = format!("text=Only+once+please&profile_ids[]={twitter}");
    let result = http()
        .post(format!("{}updates/create.json", sim.rest_url()))
        .bearer_auth(sim.access_token())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await;
    assert!(result.is_err(), "no answer arrived");
    assert_eq!(
        sim.store().count_with_text(&twitter, "Only once please"),
        1,
        "but the post exists"
    );
    // A blind retry is refused as a duplicate, as Buffer would.
    let (status, body) = common::rest_post(&sim, "updates/create.json", &form).await;
    assert_eq!((status, body["code"].clone()), (400, 1025.into()));
    let entry = &sim.requests()[0];
    assert_eq!(
        (entry.fault, entry.status),
        (Some("lose_response"), Some(200))
    );
}

#[tokio::test]
async fn dropping_the_simulator_stops_the_server() {
    let sim = frozen().await;
    let url = format!("{}user.json", sim.rest_url());
    assert!(http().get(&url).send().await.is_ok());
    drop(sim);
    tokio::task::yield_now().await;
    let error = http()
        .get(&url)
        .send()
        .await
        .expect_err("nothing listens any more");
    assert!(error.is_connect() || error.is_request(), "{error:?}");
}

const CREATE: &str = r#"mutation Create($input: CreatePostInput!) {
  createPost(input: $input) { __typename ... on PostActionSuccess { post { id text } } }
}"#;

fn create_input(channel: &str, text: &str) -> Value {
    serde_json::json!({ "input": {
        "channelId": channel, "text": text, "mode": "addToQueue", "schedulingType": "automatic"
    }})
}

#[tokio::test]
async fn a_lost_graphql_response_still_creates_the_post() {
    let sim = frozen().await;
    let twitter = common::channel_id(&sim, buffer_sim::Service::Twitter);
    sim.set_faults(
        Faults::seeded(3).rule(
            FaultRule::new(Fault::LoseResponse)
                .route("createPost")
                .times(1),
        ),
    );
    let result = http()
        .post(sim.graphql_url())
        .bearer_auth(sim.api_key())
        .json(&serde_json::json!({ "query": CREATE, "variables": create_input(&twitter, "Lost answer") }))
        .send()
        .await;
    let error = result.expect_err("no answer arrived");
    assert!(!error.is_status() && !error.is_decode(), "{error:?}");
    assert_eq!(sim.store().count_with_text(&twitter, "Lost answer"), 1);
    let entry = sim.requests().pop().expect("logged");
    assert_eq!(
        (entry.fault, entry.status, entry.operation.as_deref()),
        (Some("lose_response"), Some(200), Some("Create"))
    );
}

#[tokio::test]
async fn a_mutation_that_ran_can_answer_data_null() {
    let sim = frozen().await;
    let twitter = common::channel_id(&sim, buffer_sim::Service::Twitter);
    sim.set_faults(
        Faults::seeded(5).rule(
            FaultRule::new(Fault::NullField(NullScope::Data))
                .route("createPost")
                .times(1),
        ),
    );
    let (status, _, body) =
        gql_full(&sim, CREATE, create_input(&twitter, "Ran, answer lost")).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"], Value::Null, "{body}");
    let error = &body["errors"][0];
    assert_eq!(
        error["path"],
        serde_json::json!(["createPost", "post", "id"])
    );
    assert_eq!(error["extensions"]["code"], "INTERNAL_SERVER_ERROR");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Cannot return null for non-nullable field")),
        "{error}"
    );
    assert_eq!(
        sim.store().count_with_text(&twitter, "Ran, answer lost"),
        1,
        "the mutation ran"
    );
    assert_eq!(
        sim.requests().pop().and_then(|e| e.fault),
        Some("null_field")
    );

    // Once only: the next create answers normally.
    let (_, _, body) = gql_full(&sim, CREATE, create_input(&twitter, "Next one")).await;
    assert_eq!(
        body["data"]["createPost"]["__typename"],
        "PostActionSuccess"
    );
}

#[tokio::test]
async fn one_alias_of_a_batch_can_lose_its_answer_alone() {
    let sim = frozen().await;
    let (twitter, linkedin) = (
        common::channel_id(&sim, buffer_sim::Service::Twitter),
        common::channel_id(&sim, buffer_sim::Service::Linkedin),
    );
    sim.set_faults(
        Faults::seeded(5).rule(
            FaultRule::new(Fault::NullField(NullScope::Alias(1)))
                .route("createPost")
                .times(1),
        ),
    );
    let batch = r#"mutation Batch($a: CreatePostInput!, $b: CreatePostInput!, $c: CreatePostInput!) {
      p1: createPost(input: $a) { ...R }
      p2: createPost(input: $b) { ...R }
      p3: createPost(input: $c) { ...R }
    }
    fragment R on PostActionPayload { __typename ... on PostActionSuccess { post { id channelId } } }"#;
    let input = |channel: &str, text: &str| create_input(channel, text)["input"].clone();
    let variables = serde_json::json!({
        "a": input(&twitter, "Batch one"),
        "b": input(&linkedin, "Batch two"),
        "c": input(&twitter, "Batch three"),
    });
    let (status, _, body) = gql_full(&sim, batch, variables).await;
    assert_eq!(status, 200);
    let data = &body["data"];
    assert_eq!(data["p1"]["post"]["channelId"], twitter.as_str(), "{body}");
    assert_eq!(data["p2"], Value::Null, "{body}");
    assert_eq!(data["p3"]["post"]["channelId"], twitter.as_str(), "{body}");
    assert_eq!(
        body["errors"][0]["path"],
        serde_json::json!(["p2", "post", "id"])
    );
    // Every alias ran, the lost one included.
    for (channel, text) in [
        (&twitter, "Batch one"),
        (&linkedin, "Batch two"),
        (&twitter, "Batch three"),
    ] {
        assert_eq!(sim.store().count_with_text(channel, text), 1, "{text}");
    }
}

#[tokio::test]
async fn null_field_faults_leave_classic_requests_alone() {
    let sim = frozen().await;
    let twitter = common::channel_id(&sim, buffer_sim::Service::Twitter);
    sim.set_faults(Faults::seeded(5).null_answers(1.0));
    let form = format!("text=Classic+is+unaffected&profile_ids[]={twitter}");
    let (status, body) = common::rest_post(&sim, "updates/create.json", &form).await;
    assert_eq!(
        (status, body["success"].clone()),
        (200, true.into()),
        "{body}"
    );
    assert_eq!(sim.requests().pop().and_then(|e| e.fault), None);
    let (_, _, body) = gql_full(&sim, "{ account { id } }", Value::Null).await;
    assert_eq!(body["data"], Value::Null, "GraphQL requests are hit");
}
