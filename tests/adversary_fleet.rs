//! Adversary attacks on the fleet (issue 15): the shared budget and journal on Redis under
//! many budgets at once, a Redis flushed, stopped, killed or replaced by something that is not
//! Redis, planted values, odd keys and secrets. Behaviour is judged on the simulator's totals
//! and on Redis's own contents, never on what the code reports about itself.
#![cfg(feature = "redis")]

#[path = "common/redis.rs"]
mod redis_server;
#[path = "common/sim.rs"]
mod sim;
use redis_server::Redis;

use buffer_bridge::fleet::{Fleet, FleetStatus};
use buffer_bridge::http::Credential;
use buffer_bridge::journal::{IdempotencyKey, Intent, Journal, SlotIntent, SlotState};
use buffer_bridge::model::{ChannelId, PostId};
use buffer_bridge::pacing::{Paced, Pacing, RateBudget};
use buffer_bridge::{BackendExt, ErrorKind};
use buffer_sim::Simulator;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

async fn connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn command(url: &str, args: &[&str]) -> redis::Value {
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query_async(&mut connection(url).await).await.unwrap()
}

/// A loopback server that is not Redis: it speaks enough of the protocol to be connected to
/// (`+OK` to anything else), and answers every script call (`EVALSHA`, `EVAL`, `SCRIPT`) with
/// `reply`, or never answers anything when `reply` is empty.
fn impostor(reply: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || serve(stream, reply));
        }
    });
    format!("redis://127.0.0.1:{port}")
}

/// Reads RESP commands (arrays of bulk strings) and answers each.
fn serve(mut stream: std::net::TcpStream, reply: &'static [u8]) {
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    let mut read_line = |reader: &mut std::io::BufReader<std::net::TcpStream>| {
        line.clear();
        std::io::BufRead::read_line(reader, &mut line).ok().filter(|n| *n > 0)?;
        Some(line.trim_end().to_owned())
    };
    loop {
        let Some(header) = read_line(&mut reader) else { return };
        let count: usize = header.trim_start_matches('*').parse().unwrap_or(0);
        let mut name = String::new();
        for i in 0..count {
            let Some(length) = read_line(&mut reader) else { return };
            let length: usize = length.trim_start_matches('$').parse().unwrap_or(0);
            let mut bulk = vec![0u8; length + 2];
            if reader.read_exact(&mut bulk).is_err() {
                return;
            }
            if i == 0 {
                name = String::from_utf8_lossy(&bulk[..length]).to_ascii_uppercase();
            }
        }
        if reply.is_empty() {
            continue;
        }
        let answer: &[u8] = if matches!(name.as_str(), "EVALSHA" | "EVAL" | "SCRIPT") {
            reply
        } else {
            b"+OK\r\n"
        };
        if stream.write_all(answer).is_err() {
            return;
        }
    }
}

fn intent(key: &str, channels: &[&str]) -> Intent {
    Intent::new(
        IdempotencyKey::new(key).unwrap(),
        buffer_bridge::backend::Operation::CreatePost,
        "fingerprint",
        channels
            .iter()
            .map(|channel| SlotIntent::new(0, *channel))
            .collect(),
        chrono::Utc::now(),
    )
}

// --- A Redis that is not Redis -------------------------------------------------------------

/// An answer of the wrong shape (`existing` and nothing after it) is a typed error, not a
/// slice out of range.
#[tokio::test]
async fn a_short_existing_answer_is_a_typed_error_not_a_panic() {
    let url = impostor(b"*1\r\n$8\r\nexisting\r\n");
    let journal = Fleet::new(&url).unwrap().journal();
    let task = tokio::spawn(async move {
        journal
            .begin(&intent("short", &["c1"]), Duration::from_secs(30))
            .await
            .map(drop)
    });
    let outcome = tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .expect("the call ends");
    let error = outcome.expect("no panic").expect_err("not a begun write");
    assert_eq!(error.kind(), ErrorKind::Journal, "{error}");
}

/// A server announcing a bulk or array of absurd length is an error, not an allocation of
/// gigabytes or a hang.
#[tokio::test]
async fn an_absurd_length_from_the_server_is_an_error() {
    for reply in [
        &b"*2147483647\r\n"[..],
        &b"$9223372036854775807\r\n"[..],
        &b"*-7\r\n"[..],
    ] {
        let url = impostor(reply);
        let fleet = Fleet::new(&url).unwrap();
        let journal = fleet.journal();
        let begun = tokio::time::timeout(
            Duration::from_secs(20),
            journal.begin(&intent("absurd", &["c1"]), Duration::from_secs(30)),
        )
        .await
        .expect("the call ends");
        assert!(begun.is_err(), "{:?}", String::from_utf8_lossy(reply));
        let budget = fleet.budget(&Credential::new("k"), &Pacing::classic());
        let deadline = Instant::now() + Duration::from_secs(1);
        tokio::time::timeout(Duration::from_secs(20), budget.acquire(deadline))
            .await
            .expect("the call ends")
            .expect("the local share has room for a first request");
        assert!(matches!(fleet.status(), FleetStatus::LocalShare { .. }));
    }
}

/// A Redis that never answers (stopped, or a black hole) holds no caller past its max_wait.
#[tokio::test]
async fn a_redis_that_never_answers_holds_no_caller_past_its_max_wait() {
    let url = impostor(b"");
    let fleet = Fleet::new(&url).unwrap();
    let budget = fleet.budget(&Credential::new("k"), &Pacing::classic());
    let max_wait = Duration::from_millis(300);
    let start = std::time::Instant::now();
    let taken = budget.acquire(Instant::now() + max_wait).await;
    let took = start.elapsed();
    // A wide margin: the bound is the caller's, not the Redis command timeout (2 s) nor a
    // reconnection after it.
    assert!(
        took < max_wait + Duration::from_millis(700),
        "waited {took:?} for max_wait {max_wait:?}: {taken:?}"
    );
}
