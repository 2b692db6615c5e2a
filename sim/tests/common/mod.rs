//! Helpers shared by the simulator's integration tests.
#![allow(dead_code)]

use buffer_sim::Simulator;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

/// Monday 2 March 2026, 10:00 UTC: every test starts on a known weekday and time.
pub fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0)
        .single()
        .expect("valid date")
}

/// A demo simulator whose clock stands still at [`monday`] until a test moves it.
pub async fn frozen() -> Simulator {
    Simulator::builder()
        .start_time(monday())
        .clock_scale(0.0)
        .start()
        .await
}

pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// POST a GraphQL document; returns status, headers and body (Null when not JSON).
pub async fn gql_full(
    sim: &Simulator,
    query: &str,
    variables: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = http()
        .post(sim.graphql_url())
        .bearer_auth(sim.api_key())
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

pub async fn gql(sim: &Simulator, query: &str, variables: Value) -> (u16, Value) {
    let (status, _, body) = gql_full(sim, query, variables).await;
    (status, body)
}

pub async fn rest_get(sim: &Simulator, path: &str) -> (u16, Value) {
    let response = http()
        .get(format!("{}{path}", sim.rest_url()))
        .bearer_auth(sim.access_token())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (
        status,
        response.json::<Value>().await.unwrap_or(Value::Null),
    )
}

/// POST a form body given already encoded (`a=1&b[]=2`).
pub async fn rest_post(sim: &Simulator, path: &str, form: &str) -> (u16, Value) {
    let response = http()
        .post(format!("{}{path}", sim.rest_url()))
        .bearer_auth(sim.access_token())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (
        status,
        response.json::<Value>().await.unwrap_or(Value::Null),
    )
}

pub fn channel_id(sim: &Simulator, service: buffer_sim::Service) -> String {
    sim.demo()
        .channel(service)
        .expect("demo channel")
        .id
        .clone()
}
