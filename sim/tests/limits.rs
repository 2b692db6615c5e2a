//! Rate limits: REST 60 a minute per token; GraphQL three windows per key, reported in
//! `RateLimit` / `RateLimit-Policy` headers, with `Retry-After` on 429.

mod common;

use std::time::Duration;

use buffer_sim::{RateLimits, Simulator};
use common::{gql_full, http, monday, rest_get};
use serde_json::{Value, json};

async fn limited(limits: RateLimits) -> Simulator {
    Simulator::builder()
        .start_time(monday())
        .clock_scale(0.0)
        .rate_limits(limits)
        .start()
        .await
}

fn header_lines(headers: &reqwest::header::HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn graphql_reports_every_window_and_refuses_with_retry_after() {
    let sim = limited(RateLimits {
        graphql_per_15_minutes: 3,
        ..RateLimits::default()
    })
    .await;
    let query = "{ account { id } }";
    let (status, headers, _) = gql_full(&sim, query, Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(
        header_lines(&headers, "ratelimit"),
        [
            "\"3-in-15min\";r=2;t=900",
            "\"250-in-1day\";r=249;t=86400",
            "\"3000-in-30days\";r=2999;t=2592000"
        ]
    );
    let policies = header_lines(&headers, "ratelimit-policy");
    assert_eq!(policies.len(), 3);
    assert!(
        policies[0].starts_with("\"3-in-15min\";q=3;w=900;pk=:"),
        "{policies:?}"
    );
    assert!(
        policies.iter().all(|p| !p.contains(sim.api_key())),
        "the key itself is never shown"
    );

    gql_full(&sim, query, Value::Null).await;
    gql_full(&sim, query, Value::Null).await;
    sim.clock().advance(Duration::from_secs(100));
    let (status, headers, body) = gql_full(&sim, query, Value::Null).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "800");
    assert_eq!(
        body["errors"][0]["extensions"],
        json!({ "code": "RATE_LIMIT_EXCEEDED", "window": "15m" })
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Too many requests")
    );

    sim.clock().advance(Duration::from_secs(800));
    let (status, _, _) = gql_full(&sim, query, Value::Null).await;
    assert_eq!(status, 200, "the window reset");
}

#[tokio::test]
async fn the_daily_window_names_itself() {
    let sim = limited(RateLimits {
        graphql_per_day: 2,
        ..RateLimits::default()
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            gql_full(&sim, "{ account { id } }", Value::Null).await.0,
            200
        );
    }
    let (status, _, body) = gql_full(&sim, "{ account { id } }", Value::Null).await;
    assert_eq!(status, 429);
    assert_eq!(body["errors"][0]["extensions"]["window"], "24h");
}

#[tokio::test]
async fn rest_allows_a_number_per_minute_per_token() {
    let sim = limited(RateLimits {
        rest_per_minute: 2,
        ..RateLimits::default()
    })
    .await;
    assert_eq!(rest_get(&sim, "user.json").await.0, 200);
    assert_eq!(rest_get(&sim, "user.json").await.0, 200);
    let (status, body) = rest_get(&sim, "user.json").await;
    assert_eq!(status, 429);
    assert_eq!(body["code"], 429);
    // Unauthenticated requests are not counted and still get their 401.
    let response = http()
        .get(format!("{}user.json", sim.rest_url()))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 401);
    sim.clock().advance(Duration::from_secs(60));
    assert_eq!(rest_get(&sim, "user.json").await.0, 200);
}

#[tokio::test]
async fn limits_can_be_switched_off_and_changed_at_run_time() {
    let sim = limited(RateLimits {
        rest_per_minute: 1,
        enabled: false,
        ..RateLimits::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(rest_get(&sim, "user.json").await.0, 200);
    }
    sim.set_rate_limits(RateLimits {
        rest_per_minute: 1,
        ..RateLimits::default()
    });
    assert_eq!(rest_get(&sim, "user.json").await.0, 200);
    assert_eq!(rest_get(&sim, "user.json").await.0, 429);
    sim.reset_rate_limits();
    assert_eq!(rest_get(&sim, "user.json").await.0, 200);
}
