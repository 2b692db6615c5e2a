//! Issue 15: a fleet of worker processes sharing one credential's rate budget and the journal
//! of writes on a real Redis, against the simulator with the Free plan's GraphQL limits (100
//! requests in 15 minutes, 250 a day) enforced.
//!
//! - 4 workers × 300 posts, each post its own `createPost`: no 429 of the simulator's own,
//!   the requests within 10 % of one process doing the same work, every post once;
//! - two workers on one batch, one killed (`SIGKILL`) mid-batch: the other takes its posts
//!   over, none twice and none lost;
//! - Redis killed and restarted mid-run: no post twice, and no 429 while the budgets kept to
//!   their local share.
//!
//! The workers are this test binary, filtered to the test and told their part by environment
//! variables (as `tests/publish_restart.rs` does). The simulator's clock runs [`SCALE`] times
//! fast and the workers' pacing knows it, so 1,200 requests at 250 a day (five simulated
//! days) take seconds.
#![cfg(feature = "redis")]

#[path = "common/child.rs"]
mod child;
#[path = "common/redis.rs"]
mod redis_server;
use redis_server::Redis;

use buffer_bridge::config::BackendConfig;
use buffer_bridge::fleet::Fleet;
use buffer_bridge::graphql::GraphQl;
use buffer_bridge::http::Credential;
use buffer_bridge::journal::{IdempotencyKey, Journal, MemoryJournal};
use buffer_bridge::model::NewPost;
use buffer_bridge::pacing::{Paced, Pacing};
use buffer_bridge::retry::{RetryPolicy, Retrying};
use buffer_bridge::{Backend, BackendExt};
use buffer_sim::{RateLimits, Simulator};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::Duration;

/// Simulated seconds per real second: a simulated day passes in under three seconds.
const SCALE: f64 = 30_000.0;
/// A worker's lease on a key: a killed worker's key is taken over this soon.
const LEASE: Duration = Duration::from_millis(500);
/// How long a worker may stay silent before the test gives up instead of hanging.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest a request taken by a worker that died keeps counting as on its way.
const REQUEST_BOUND: Duration = Duration::from_secs(2);

const CHILD_URL: &str = "BUFFER_BRIDGE_FLEET_CHILD_URL";
const CHILD_KEY: &str = "BUFFER_BRIDGE_FLEET_CHILD_KEY";
const CHILD_REDIS: &str = "BUFFER_BRIDGE_FLEET_CHILD_REDIS";
const CHILD_CHANNELS: &str = "BUFFER_BRIDGE_FLEET_CHILD_CHANNELS";
const CHILD_POSTS: &str = "BUFFER_BRIDGE_FLEET_CHILD_POSTS";
const CHILD_PROCESSES: &str = "BUFFER_BRIDGE_FLEET_CHILD_PROCESSES";

fn text(i: usize) -> String {
    format!("Fleet post {i}")
}

/// Post `i`: its own key, on one of the demo channels.
fn post(i: usize, channels: &[String]) -> NewPost {
    NewPost::new(text(i))
        .channel(channels[i % channels.len()].clone())
        .idempotency_key(IdempotencyKey::new(format!("fleet-post-{i}")).unwrap())
}

/// Creates every post of `posts` through `backend`, one at a time, printing each; a failure
/// (Redis gone, a key another worker holds) is tried again, under the same key.
async fn create_all(
    backend: &dyn Backend,
    posts: impl Iterator<Item = usize>,
    channels: &[String],
) {
    for i in posts {
        let post = post(i, channels);
        let mut attempts = 0;
        loop {
            attempts += 1;
            match backend.create_post(&post).await {
                Ok(outcome) if outcome.is_complete() => break,
                Ok(outcome) => eprintln!("post {i} unsettled: {outcome:?}"),
                Err(error) => eprintln!("post {i}: {error}"),
            }
            assert!(attempts < 500, "post {i} never settled");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        println!("worker post {i}");
    }
}

/// A worker: one process of the fleet, pacing and journaling through Redis.
async fn worker() {
    let var = |name: &str| std::env::var(name).unwrap();
    let key = var(CHILD_KEY);
    let fleet = Fleet::new(&var(CHILD_REDIS))
        .unwrap()
        .processes(var(CHILD_PROCESSES).parse().unwrap())
        .request_bound(REQUEST_BOUND);
    let pacing = Pacing::graphql().time_scale(SCALE);
    let api = GraphQl::builder()
        .api_key(key.as_str())
        .base_url(var(CHILD_URL))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let budget = Arc::new(fleet.budget(&Credential::new(key), &pacing));
    let journal: Arc<dyn Journal> = Arc::new(fleet.journal());
    let backend = Retrying::new(Paced::with_budget(api, budget, pacing.longest_wait()))
        .journal(journal)
        .lease(LEASE)
        .policy(
            RetryPolicy::default()
                .backoff(Duration::from_millis(5), Duration::from_millis(40))
                .time_scale(SCALE),
        )
        .seed(u64::from(std::process::id()));
    let channels: Vec<String> = var(CHILD_CHANNELS).split(',').map(str::to_owned).collect();
    // `from..to`, or `to..from` to go backwards.
    let posts = var(CHILD_POSTS);
    let (from, to) = posts.split_once("..").unwrap();
    let (from, to): (usize, usize) = (from.parse().unwrap(), to.parse().unwrap());
    let order: Box<dyn Iterator<Item = usize>> = if from <= to {
        Box::new(from..to)
    } else {
        Box::new((to..from).rev())
    };
    create_all(&backend, order, &channels).await;
    println!("worker done");
}

/// Runs the worker when this process is one, and says whether it was.
fn is_worker() -> bool {
    if std::env::var(CHILD_URL).is_err() {
        return false;
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(worker());
    true
}

/// A simulator served from a runtime of its own, so it keeps answering while the test blocks
/// on its workers.
struct Server {
    sim: Simulator,
    runtime: tokio::runtime::Runtime,
}

/// The simulator with the Free plan's limits enforced (the default), its clock fast, the
/// queue limit lifted and duplicates let through, so a post sent twice shows in the store.
fn server(limits: RateLimits) -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = runtime.block_on(
        Simulator::builder()
            .clock_scale(SCALE)
            .reject_duplicates(false)
            .queue_limit(100_000)
            .rate_limits(limits)
            .start(),
    );
    Server { sim, runtime }
}

fn channels(sim: &Simulator) -> Vec<String> {
    sim.demo()
        .channels
        .iter()
        .filter(|c| c.service.as_str() != "instagram")
        .map(|c| c.id.clone())
        .collect()
}

/// A worker process creating `posts` (`from..to`, or backwards).
fn spawn(test: &str, sim: &Simulator, redis: &Redis, posts: &str, processes: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_URL, sim.graphql_url())
        .env(CHILD_KEY, sim.api_key())
        .env(CHILD_REDIS, redis.url())
        .env(CHILD_CHANNELS, channels(sim).join(","))
        .env(CHILD_POSTS, posts)
        .env(CHILD_PROCESSES, processes.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Waits until every worker says it is done.
fn finish(workers: Vec<(Child, Receiver<String>)>) {
    for (mut child, lines) in workers {
        assert!(
            child::wait_for(&lines, "worker done", CHILD_TIMEOUT),
            "a worker ended before it was done"
        );
        assert!(child.wait().unwrap().success());
    }
}

/// How many posts of each fleet text the store holds.
fn stored(sim: &Simulator) -> BTreeMap<String, usize> {
    let mut stored = BTreeMap::new();
    for post in sim.store().posts() {
        if post.text.starts_with("Fleet post ") {
            *stored.entry(post.text.clone()).or_default() += 1;
        }
    }
    stored
}

/// Every post of `0..posts` in the store exactly once, and nothing else.
fn assert_each_once(sim: &Simulator, posts: usize) {
    let stored = stored(sim);
    for i in 0..posts {
        assert_eq!(stored.get(&text(i)), Some(&1), "post {i}");
    }
    assert_eq!(stored.len(), posts, "no post that was not asked for");
}

#[test]
fn four_workers_share_one_budget_and_one_journal() {
    const TEST: &str = "four_workers_share_one_budget_and_one_journal";
    const WORKERS: usize = 4;
    const POSTS: usize = 300;
    if is_worker() {
        return;
    }
    let Some(redis) = Redis::start() else { return };

    // One process doing the same work, on a simulator that enforces nothing (so it needs no
    // pacing): the requests the work takes.
    let alone = server(RateLimits {
        enabled: false,
        ..RateLimits::default()
    });
    let baseline = alone.runtime.block_on(async {
        let sim = &alone.sim;
        let api = GraphQl::builder()
            .api_key(sim.api_key())
            .base_url(sim.graphql_url())
            .build()
            .unwrap();
        let backend = Retrying::new(api).journal(Arc::new(MemoryJournal::new()));
        create_all(&backend, 0..WORKERS * POSTS, &channels(sim)).await;
        sim.totals().requests()
    });
    assert_each_once(&alone.sim, WORKERS * POSTS);

    let server = server(RateLimits::default());
    let sim = &server.sim;
    let workers = (0..WORKERS)
        .map(|w| {
            let posts = format!("{}..{}", w * POSTS, (w + 1) * POSTS);
            let mut child = spawn(TEST, sim, &redis, &posts, WORKERS);
            let lines = child::lines(&mut child);
            (child, lines)
        })
        .collect();
    finish(workers);

    let totals = sim.totals();
    eprintln!(
        "{WORKERS} workers: {} requests, {} × 429; one process: {baseline}",
        totals.requests(),
        totals.rate_limited
    );
    assert_eq!(totals.rate_limited, 0, "the simulator refused requests");
    assert!(
        totals.requests() * 10 <= baseline * 11,
        "{} requests, more than 10 % over one process's {baseline}",
        totals.requests()
    );
    assert_each_once(sim, WORKERS * POSTS);
}

#[test]
fn a_worker_killed_mid_batch_leaves_its_posts_to_another() {
    const TEST: &str = "a_worker_killed_mid_batch_leaves_its_posts_to_another";
    const POSTS: usize = 120;
    if is_worker() {
        return;
    }
    let Some(redis) = Redis::start() else { return };
    let server = server(RateLimits::default());
    let sim = &server.sim;
    let mut rng = child::Rng(15);
    // Both on the whole batch, from either end: each key is sent by whoever holds it.
    let mut doomed = spawn(TEST, sim, &redis, &format!("0..{POSTS}"), 2);
    let doomed_lines = child::lines(&mut doomed);
    let mut survivor = spawn(TEST, sim, &redis, &format!("{POSTS}..0"), 2);
    let survivor_lines = child::lines(&mut survivor);
    let at = 20 + rng.below(20);
    assert!(
        child::wait_for(&doomed_lines, &format!("worker post {at}"), CHILD_TIMEOUT),
        "the doomed worker ended early"
    );
    std::thread::sleep(Duration::from_millis(rng.below(15)));
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    finish(vec![(survivor, survivor_lines)]);

    assert_eq!(
        sim.totals().rate_limited,
        0,
        "the simulator refused requests"
    );
    assert_each_once(sim, POSTS);
}

#[test]
fn redis_restarted_mid_run_duplicates_nothing_and_stays_conservative() {
    const TEST: &str = "redis_restarted_mid_run_duplicates_nothing_and_stays_conservative";
    const POSTS: usize = 150;
    if is_worker() {
        return;
    }
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let server = server(RateLimits::default());
    let sim = &server.sim;
    let mut first = spawn(TEST, sim, &redis, &format!("0..{POSTS}"), 2);
    let first_lines = child::lines(&mut first);
    let mut second = spawn(TEST, sim, &redis, &format!("{}..{POSTS}", 2 * POSTS), 2);
    let second_lines = child::lines(&mut second);
    assert!(child::wait_for(
        &first_lines,
        "worker post 40",
        CHILD_TIMEOUT
    ));
    redis.kill();
    std::thread::sleep(Duration::from_millis(300));
    redis.run();
    finish(vec![(first, first_lines), (second, second_lines)]);

    assert_eq!(
        sim.totals().rate_limited,
        0,
        "the simulator refused requests"
    );
    assert_each_once(sim, 2 * POSTS);
}

#[test]
fn the_configuration_turns_the_fleet_on_and_never_shows_the_password() {
    let Some(redis) = Redis::start() else { return };
    let server = server(RateLimits::default());
    let sim = &server.sim;
    let url = redis.url().replace("redis://", "redis://:hunter2-fleet@");
    let toml = format!(
        "backend = \"graphql\"\n[graphql]\napi_key = \"{}\"\nurl = \"{}\"\n[fleet]\nredis_url = \"{url}\"\nprefix = \"cfg\"\n",
        sim.api_key(),
        sim.graphql_url()
    );
    let config = BackendConfig::from_toml_str(&toml).unwrap();
    assert!(!format!("{config:?}").contains("hunter2"));
    let client = config.build().unwrap();
    let fleet = client.fleet().expect("a fleet");
    assert!(!format!("{fleet:?} {}", fleet.address()).contains("hunter2"));

    // This Redis has no password: the client's first call fails, and says so without it.
    let error = server
        .runtime
        .block_on(client.create_post(&post(0, &channels(sim))))
        .unwrap_err();
    assert!(!error.to_string().contains("hunter2"), "{error}");
    assert!(
        stored(sim).is_empty(),
        "nothing is sent without its journal"
    );

    let config = BackendConfig::from_vars([
        ("BUFFER_BACKEND", "graphql"),
        ("BUFFER_API_KEY", sim.api_key()),
        ("BUFFER_GRAPHQL_URL", sim.graphql_url().as_str()),
        ("BUFFER_REDIS_URL", redis.url().as_str()),
        ("BUFFER_FLEET_PREFIX", "env"),
    ])
    .unwrap();
    let client = config.build().unwrap();
    server
        .runtime
        .block_on(client.create_post(&post(1, &channels(sim))))
        .unwrap();
    assert_eq!(stored(sim).get(&text(1)), Some(&1));

    let both = BackendConfig::from_vars([
        ("BUFFER_BACKEND", "graphql"),
        ("BUFFER_API_KEY", "k"),
        ("BUFFER_REDIS_URL", "redis://127.0.0.1:1"),
        ("BUFFER_JOURNAL", "/tmp/journal.sqlite"),
    ])
    .unwrap();
    let error = both.build().expect_err("refused").to_string();
    assert!(
        error.contains("BUFFER_JOURNAL and BUFFER_REDIS_URL"),
        "{error}"
    );
}
