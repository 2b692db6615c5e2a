//! The fleet's shared rate budget on a real Redis: two budgets made through two fleets (two
//! connections, as two processes have) count one window, obey what the other learned from the
//! server's headers or a 429, and without Redis each keeps to its share and says so.
#![cfg(feature = "redis")]

#[path = "common/redis.rs"]
mod redis_server;
use redis_server::Redis;

use buffer_bridge::fleet::{Fleet, FleetStatus, RedisBudget};
use buffer_bridge::http::Credential;
use buffer_bridge::http::rate_limit::RateLimits;
use buffer_bridge::pacing::{Pacing, RateBudget};
use buffer_bridge::{Error, ErrorKind};
use reqwest::header::{HeaderMap, HeaderValue};
use std::time::Duration;
use tokio::time::Instant;

const SECRET: &str = "fleet-budget-secret-7d1e";

fn budget(fleet: &Fleet, pacing: &Pacing) -> RedisBudget {
    fleet.budget(&Credential::new(SECRET), pacing)
}

/// A deadline far enough for another worker's answer to reach Redis.
fn soon() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

/// A deadline that no real wait fits in.
fn now() -> Instant {
    Instant::now() + Duration::from_millis(100)
}

fn headers(pairs: &[(&'static str, &str)]) -> RateLimits {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    RateLimits::from_headers(&headers)
}

/// Takes one request and answers it with `limits`.
async fn send(budget: &RedisBudget, limits: &RateLimits, refused: bool) {
    budget.acquire(soon()).await.unwrap();
    budget.answered(limits, refused);
}

/// The wait a refusal carries, in the server's seconds.
fn refused_for(error: Error) -> Duration {
    assert_eq!(error.kind(), ErrorKind::RateLimited, "{error}");
    error.retry_after().expect("a wait")
}

/// Every key and value in the Redis, as text.
async fn everything(url: &str) -> String {
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut connection)
        .await
        .unwrap();
    let mut text = keys.join("\n");
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        let mut command = match kind.as_str() {
            "hash" => redis::cmd("HGETALL"),
            "zset" => redis::cmd("ZRANGE"),
            "set" => redis::cmd("SMEMBERS"),
            other => panic!("{key} is a {other}"),
        };
        command.arg(&key);
        if kind == "zset" {
            command.arg(0).arg(-1);
        }
        let values: Vec<String> = command.query_async(&mut connection).await.unwrap();
        text.push('\n');
        text.push_str(&values.join("\n"));
    }
    text
}

#[tokio::test]
async fn two_processes_count_one_window_and_the_credential_never_reaches_redis() {
    let Some(server) = Redis::start() else { return };
    let pacing = Pacing::none().quota(3, Duration::from_secs(60));
    let a = budget(&Fleet::new(&server.url()).unwrap(), &pacing);
    let b = budget(&Fleet::new(&server.url()).unwrap(), &pacing);
    let none = RateLimits::default();
    send(&a, &none, false).await;
    send(&b, &none, false).await;
    send(&a, &none, false).await;
    // Each alone would have room for three; together they have spent them.
    let wait = refused_for(b.acquire(now()).await.unwrap_err());
    assert!(
        wait > Duration::from_secs(50) && wait <= Duration::from_secs(61),
        "{wait:?}"
    );
    assert_eq!(b.remaining(), Some(0));
    let stored = everything(&server.url()).await;
    assert!(stored.contains("budget:{"), "{stored}");
    assert!(!stored.contains(SECRET), "{stored}");
    assert!(!format!("{a:?}").contains(SECRET));
}

#[tokio::test]
async fn what_one_worker_learns_from_the_headers_every_worker_obeys() {
    let Some(server) = Redis::start() else { return };
    let pacing = Pacing::graphql();
    let a = budget(&Fleet::new(&server.url()).unwrap(), &pacing);
    let b = budget(&Fleet::new(&server.url()).unwrap(), &pacing);
    // Another client spent the whole 15 minutes' quota; it resets in 600 s.
    let spent = headers(&[
        ("ratelimit", "\"100-in-15min\";r=0;t=600"),
        ("ratelimit-policy", "\"100-in-15min\";q=100;w=900"),
    ]);
    send(&a, &spent, false).await;
    // B waits for A's answer (the first request goes alone), then for the reset.
    let wait = refused_for(b.acquire(soon()).await.unwrap_err());
    assert!(
        wait > Duration::from_secs(590) && wait <= Duration::from_secs(602),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_429_stops_every_worker_for_its_wait() {
    let Some(server) = Redis::start() else { return };
    let pacing = Pacing::graphql();
    let a = budget(&Fleet::new(&server.url()).unwrap(), &pacing);
    let b = budget(&Fleet::new(&server.url()).unwrap(), &pacing);
    send(&a, &RateLimits::default(), false).await;
    send(&a, &headers(&[("retry-after", "30")]), true).await;
    let wait = refused_for(b.acquire(soon()).await.unwrap_err());
    assert!(
        wait > Duration::from_secs(25) && wait <= Duration::from_secs(31),
        "{wait:?}"
    );

    // An absurd wait, for another credential, is cut to the longest window (30 days).
    let other = Credential::new("another-key");
    let c = Fleet::new(&server.url()).unwrap().budget(&other, &pacing);
    let d = Fleet::new(&server.url()).unwrap().budget(&other, &pacing);
    send(&c, &headers(&[("retry-after", "999999999")]), true).await;
    let wait = refused_for(d.acquire(soon()).await.unwrap_err());
    assert!(
        wait > Duration::from_secs(2_500_000) && wait <= Duration::from_secs(2_592_001),
        "{wait:?}"
    );
}

#[tokio::test]
async fn without_redis_each_process_keeps_to_its_share_says_so_and_comes_back() {
    let Some(mut server) = Redis::start() else {
        return;
    };
    server.kill();
    let fleet = Fleet::new(&server.url()).unwrap().processes(4);
    let pacing = Pacing::none().quota(8, Duration::from_secs(60));
    let budget = budget(&fleet, &pacing);
    let none = RateLimits::default();
    // A quarter of 8: two requests, then a wait, never the full budget.
    send(&budget, &none, false).await;
    send(&budget, &none, false).await;
    let wait = refused_for(budget.acquire(now()).await.unwrap_err());
    assert!(wait > Duration::from_secs(50), "{wait:?}");
    match fleet.status() {
        FleetStatus::LocalShare { processes, .. } => assert_eq!(processes, 4),
        other => panic!("{other:?}"),
    }

    // Redis is back: the budget counts there again (its 8 have room), within seconds.
    server.run();
    let start = std::time::Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if budget.acquire(now()).await.is_ok() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the budget did not go back to Redis"
        );
    }
    assert_eq!(fleet.status(), FleetStatus::Shared);
    budget.answered(&none, false);
    assert!(everything(&server.url()).await.contains("budget:{"));
}

#[tokio::test]
async fn a_worker_that_dies_before_its_answer_holds_the_fleet_only_until_the_bound() {
    let Some(server) = Redis::start() else { return };
    let pacing = Pacing::graphql();
    let fleet = |bound| {
        Fleet::new(&server.url())
            .unwrap()
            .request_bound(Duration::from_millis(bound))
    };
    // The first request goes alone; its worker dies without reporting the answer.
    let dead = budget(&fleet(300), &pacing);
    dead.acquire(soon()).await.unwrap();
    drop(dead);
    // Another worker waits for that answer only until the request's bound has passed.
    let alive = budget(&fleet(300), &pacing);
    alive.acquire(soon()).await.unwrap();
    alive.answered(&RateLimits::default(), false);
    alive.acquire(soon()).await.unwrap();
    // All three still count: the dead one for a window after its bound.
    assert_eq!(alive.remaining(), Some(97));
}
