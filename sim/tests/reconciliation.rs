//! What exactly-once tests need from the simulator: a duplicate rule that can be switched off,
//! a `Date` header from the simulated clock (the clock every `createdAt` comes from), and
//! listings of every post of some channels created since a time, through both APIs.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use buffer_sim::{Fault, FaultRule, Faults, Service, Simulator};
use chrono::{DateTime, SecondsFormat, Utc};
use common::{channel_id, frozen, gql, gql_full, http, monday, rest_get, rest_post};
use serde_json::{Value, json};

const CREATE: &str = r#"mutation Create($input: CreatePostInput!) {
  createPost(input: $input) { __typename ... on PostActionSuccess { post { id createdAt } } }
}"#;

fn input(channel: &str, text: &str) -> Value {
    json!({ "input": {
        "channelId": channel, "text": text, "mode": "addToQueue", "schedulingType": "automatic"
    }})
}

/// Creates `text` on `channel` once through each API; the number of creates Buffer accepted.
async fn create_twice(sim: &Simulator, channel: &str, text: &str) -> usize {
    let mut accepted = 0;
    for _ in 0..2 {
        let form = format!("text={}&profile_ids[]={channel}", text.replace(' ', "+"));
        let (_, body) = rest_post(sim, "updates/create.json", &form).await;
        accepted += usize::from(body["success"] == true);
        let (_, body) = gql(sim, CREATE, input(channel, text)).await;
        accepted += usize::from(body["data"]["createPost"]["__typename"] == "PostActionSuccess");
    }
    accepted
}

#[tokio::test]
async fn the_duplicate_rule_can_be_switched_off() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    assert_eq!(
        create_twice(&sim, &twitter, "Said once").await,
        1,
        "Buffer refuses the repeats"
    );
    assert_eq!(sim.store().count_with_text(&twitter, "Said once"), 1);

    let sim = Simulator::builder()
        .start_time(monday())
        .clock_scale(0.0)
        .reject_duplicates(false)
        .start()
        .await;
    let twitter = channel_id(&sim, Service::Twitter);
    assert_eq!(create_twice(&sim, &twitter, "Said twice").await, 4);
    assert_eq!(sim.store().count_with_text(&twitter, "Said twice"), 4);
}

fn dates(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    headers
        .get_all("date")
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn every_answer_is_dated_by_the_simulated_clock() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let monday_date = "Mon, 02 Mar 2026 10:00:00 GMT";

    let response = http()
        .get(format!("{}user.json", sim.rest_url()))
        .bearer_auth(sim.access_token())
        .send()
        .await
        .expect("request");
    assert_eq!(dates(response.headers()), [monday_date], "one Date, ours");

    // A post's createdAt and its answer's Date come from one clock.
    let (_, headers, body) = gql_full(&sim, CREATE, input(&twitter, "Dated")).await;
    assert_eq!(dates(&headers), [monday_date]);
    let created = body["data"]["createPost"]["post"]["createdAt"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .expect("createdAt");
    assert_eq!(created, monday());

    sim.clock().advance(Duration::from_secs(90 * 60 + 7));
    let (_, headers, _) = gql_full(&sim, "{ account { id } }", Value::Null).await;
    assert_eq!(dates(&headers), ["Mon, 02 Mar 2026 11:30:07 GMT"]);

    // Refusals and faults are dated too.
    let response = http()
        .post(sim.graphql_url())
        .json(&json!({ "query": "{ account { id } }" }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(dates(response.headers()), ["Mon, 02 Mar 2026 11:30:07 GMT"]);
    sim.set_faults(Faults::seeded(1).rule(FaultRule::new(Fault::ServerError(503)).times(1)));
    let (status, headers, _) = gql_full(&sim, "{ account { id } }", Value::Null).await;
    assert_eq!(status, 503);
    assert_eq!(dates(&headers), ["Mon, 02 Mar 2026 11:30:07 GMT"]);
}

fn texts(updates: &Value) -> BTreeSet<String> {
    updates["updates"]
        .as_array()
        .expect("updates")
        .iter()
        .filter_map(|u| u["text"].as_str().map(str::to_owned))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn posts_created_since_a_time_are_listed_through_both_apis() {
    let sim = frozen().await;
    let (twitter, linkedin) = (
        channel_id(&sim, Service::Twitter),
        channel_id(&sim, Service::Linkedin),
    );
    for (channel, text) in [(&twitter, "Before, queued"), (&linkedin, "Before, queued")] {
        let (_, body) = gql(&sim, CREATE, input(channel, text)).await;
        assert_eq!(
            body["data"]["createPost"]["__typename"],
            "PostActionSuccess"
        );
    }
    let (_, body) = rest_post(
        &sim,
        "updates/create.json",
        &format!("text=Before,+sent&now=true&profile_ids[]={twitter}"),
    )
    .await;
    assert_eq!(body["success"], true);

    sim.clock().advance(Duration::from_secs(3600));
    let since = sim.clock().now();
    // Classic `since` means created (or sent) strictly after, in whole seconds.
    sim.clock().advance(Duration::from_secs(1));

    for form in [
        format!("text=After,+queued&profile_ids[]={twitter}"),
        format!("text=After,+sent&now=true&profile_ids[]={twitter}"),
    ] {
        let (_, body) = rest_post(&sim, "updates/create.json", &form).await;
        assert_eq!(body["success"], true, "{body}");
    }
    let tomorrow = (since + chrono::TimeDelta::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    for extra in [
        json!({ "saveToDraft": true, "text": "After, draft" }),
        json!({ "mode": "customScheduled", "dueAt": tomorrow, "text": "After, at a time" }),
    ] {
        let mut variables = input(&linkedin, "");
        for (key, value) in extra.as_object().expect("object") {
            variables["input"][key] = value.clone();
        }
        let (_, body) = gql(&sim, CREATE, variables).await;
        assert_eq!(
            body["data"]["createPost"]["__typename"], "PostActionSuccess",
            "{body}"
        );
    }

    // Classic: pending by creation time, sent by sending time.
    let seconds = since.timestamp();
    let (_, pending) = rest_get(
        &sim,
        &format!("profiles/{twitter}/updates/pending.json?since={seconds}&count=100"),
    )
    .await;
    assert_eq!(texts(&pending), set(&["After, queued"]));
    let (_, sent) = rest_get(
        &sim,
        &format!("profiles/{twitter}/updates/sent.json?since={seconds}&count=100"),
    )
    .await;
    assert_eq!(texts(&sent), set(&["After, sent"]));
    let (_, pending) = rest_get(
        &sim,
        &format!("profiles/{linkedin}/updates/pending.json?since={seconds}&count=100"),
    )
    .await;
    assert_eq!(
        texts(&pending),
        set(&["After, at a time"]),
        "drafts are not pending"
    );

    // GraphQL: several channels, any status, created at or after the time.
    let query = r#"query Since($org: OrganizationId!, $channels: [ChannelId!]!, $start: DateTime!) {
      posts(input: { organizationId: $org,
                     filter: { channelIds: $channels, createdAt: { start: $start } } },
            first: 100) {
        edges { node { id text status channelId createdAt } }
        pageInfo { hasNextPage }
      } }"#;
    let (status, body) = gql(
        &sim,
        query,
        json!({
            "org": sim.organization_id(),
            "channels": [twitter, linkedin],
            "start": since.to_rfc3339_opts(SecondsFormat::Millis, true),
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["posts"]["pageInfo"]["hasNextPage"], false);
    let nodes = body["data"]["posts"]["edges"].as_array().expect("edges");
    let listed: BTreeSet<(String, String)> = nodes
        .iter()
        .map(|e| {
            let node = &e["node"];
            (
                node["text"].as_str().unwrap_or_default().to_owned(),
                node["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("After, queued", "scheduled"),
        ("After, sent", "sent"),
        ("After, draft", "draft"),
        ("After, at a time", "scheduled"),
    ]
    .iter()
    .map(|(t, s)| ((*t).to_owned(), (*s).to_owned()))
    .collect();
    assert_eq!(listed, expected);

    // The store agrees: exactly these posts were created on the two channels since then.
    let in_store: BTreeSet<String> = sim
        .store()
        .posts()
        .into_iter()
        .filter(|p| (p.channel_id == twitter || p.channel_id == linkedin) && p.created_at >= since)
        .map(|p| p.id)
        .collect();
    let ids: BTreeSet<String> = nodes
        .iter()
        .filter_map(|e| e["node"]["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids, in_store);
    let since_listed = nodes.iter().all(|e| {
        e["node"]["createdAt"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .is_some_and(|t| t.with_timezone(&Utc) >= since)
    });
    assert!(since_listed);
}
