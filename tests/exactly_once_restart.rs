//! Issue 9, "Done when" #1: a process running a 200-post create through `Retrying` with a
//! SQLite journal and given idempotency keys is killed (`SIGKILL`) 20 times at random points
//! and restarted with the same keys and journal file; it then runs to completion, and every key
//! is reconciled. One simulator outlives every child, so its store is the witness: exactly one
//! post per key and channel (none twice, none lost), and every channel's outcome after
//! `reconcile` is `Created` with the very post the store holds.
//!
//! The child is this test binary itself, filtered to the same test and told its role by
//! environment variables (as `tests/journal.rs` does for its own `SIGKILL` test). The parent
//! serves the simulator on a runtime of its own and kills each child after a seeded random
//! delay, so the kill points differ from one round to the next; the assertions hold wherever
//! they land. Answers are lost (after the post was made, and before the request was handled)
//! and servers fail on a share of the creates while the children run, so the journal holds
//! pending and unknown slots as well as settled ones when a child dies.

#[path = "common/child.rs"]
mod child;
#[path = "common/temp.rs"]
mod temp;
use temp::TempFile;

use buffer_bridge::graphql::GraphQl;
use buffer_bridge::journal::{IdempotencyKey, SqliteJournal};
use buffer_bridge::model::{ChannelResult, NewPost};
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::retry::{RetryPolicy, Retrying};
use buffer_bridge::{Backend, BackendExt, BackendKind};
use buffer_sim::{Fault, FaultRule, Faults, NullScope, RateLimits, Service, Simulator};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// Posts of the run.
const POSTS: usize = 200;
/// Posts per `create_posts` call: an application creating its posts in batches.
const CHUNK: usize = 10;
/// Children killed before the one that runs to completion.
const KILLS: usize = 20;
/// The longest a child lives on after the batch it is killed in has begun.
const MAX_LIFE: Duration = Duration::from_millis(60);
/// The children's lease on a key: a killed child's keys are taken over this soon.
const LEASE: Duration = Duration::from_millis(500);
/// How long any child may take before the test gives up on it instead of hanging.
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);

/// The environment that makes the test binary a child, and what the child needs.
const CHILD_KIND: &str = "BUFFER_BRIDGE_RESTART_CHILD_KIND";
const CHILD_URL: &str = "BUFFER_BRIDGE_RESTART_CHILD_URL";
const CHILD_SECRET: &str = "BUFFER_BRIDGE_RESTART_CHILD_SECRET";
const CHILD_JOURNAL: &str = "BUFFER_BRIDGE_RESTART_CHILD_JOURNAL";
const CHILD_CHANNELS: &str = "BUFFER_BRIDGE_RESTART_CHILD_CHANNELS";
const CHILD_ROUND: &str = "BUFFER_BRIDGE_RESTART_CHILD_ROUND";

/// A journal file of this test's own.
fn temp_file(name: &str) -> TempFile {
    TempFile::new("restart", name)
}

/// The run's posts, the same in every child: post `i` goes to one channel, every third post to
/// two, each under its own given key.
fn posts(channels: &[String]) -> Vec<NewPost> {
    (0..POSTS)
        .map(|i| {
            let mut post = NewPost::new(text(i)).channel(channels[i % channels.len()].as_str());
            if i % 3 == 0 {
                post = post.channel(channels[(i + 1) % channels.len()].as_str());
            }
            post.idempotency_key(key(i))
        })
        .collect()
}

fn text(i: usize) -> String {
    format!("Restart run, post {i}")
}

fn key(i: usize) -> IdempotencyKey {
    IdempotencyKey::new(format!("restart-post-{i}")).unwrap()
}

/// The write path every child and the final reconciliation use.
fn retrying(
    kind: BackendKind,
    url: &str,
    secret: &str,
    journal: &str,
) -> Retrying<Box<dyn Backend>> {
    let backend: Box<dyn Backend> = match kind {
        BackendKind::GraphQl => Box::new(
            GraphQl::builder()
                .api_key(secret)
                .base_url(url)
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        ),
        _ => Box::new(
            ClassicRest::builder()
                .access_token(secret)
                .base_url(url)
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        ),
    };
    Retrying::new(backend)
        .journal(Arc::new(SqliteJournal::open(journal).unwrap()))
        .lease(LEASE)
        .policy(RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(40)))
        .seed(u64::from(std::process::id()))
}

/// The child: creates the run's posts in batches, each batch again (same keys) until every
/// channel of it is created, as an application retries what it was told failed or is unknown.
/// Prints `ready` once it is about to send, and `done` when every post is created.
async fn child(kind: BackendKind) {
    let var = |name: &str| std::env::var(name).unwrap();
    let channels: Vec<String> = var(CHILD_CHANNELS).split(',').map(str::to_owned).collect();
    let backend = retrying(
        kind,
        &var(CHILD_URL),
        &var(CHILD_SECRET),
        &var(CHILD_JOURNAL),
    );
    let posts = posts(&channels);
    println!("child ready");
    for (n, batch) in posts.chunks(CHUNK).enumerate() {
        let mut tries = 0;
        loop {
            tries += 1;
            assert!(tries <= 50, "a batch was not created in 50 tries");
            match backend.create_posts(batch).await {
                Ok(outcomes)
                    if outcomes
                        .iter()
                        .all(|o| o.channels.iter().all(|c| c.result.is_created())) =>
                {
                    break;
                }
                Ok(_) | Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        println!("child batch {n} created");
    }
    println!("child done");
}

/// A simulator served from a runtime of its own, so it keeps answering while the parent blocks
/// on its children.
struct Server {
    sim: Simulator,
    _runtime: tokio::runtime::Runtime,
}

fn server(seed: u64) -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = runtime.block_on(
        Simulator::builder()
            .seed(seed)
            // Lets a repeat through: a second post would be the client's, not hidden by Buffer.
            .reject_duplicates(false)
            .queue_limit(100_000)
            .rate_limits(RateLimits {
                enabled: false,
                ..RateLimits::default()
            })
            .start(),
    );
    Server {
        sim,
        _runtime: runtime,
    }
}

/// Lost answers on creates (after the post was made, and before), and failing servers; on
/// GraphQL, mutations that ran and answered with a null-field error too.
fn faults(kind: BackendKind, seed: u64) -> Faults {
    let create = match kind {
        BackendKind::GraphQl => "createPost",
        _ => "/1/updates/create.json",
    };
    let faults = match kind {
        // A mutation that ran, answered with a non-null field error: for every alias, or one.
        BackendKind::GraphQl => Faults::seeded(seed)
            .rule(
                FaultRule::new(Fault::NullField(NullScope::Data))
                    .route(create)
                    .share(0.08),
            )
            .rule(
                FaultRule::new(Fault::NullField(NullScope::Alias(3)))
                    .route(create)
                    .share(0.08),
            ),
        _ => Faults::seeded(seed),
    };
    faults
        .rule(
            FaultRule::new(Fault::LoseResponse)
                .route(create)
                .share(0.10),
        )
        .rule(FaultRule::new(Fault::Drop).route(create).share(0.05))
        .rule(FaultRule::new(Fault::ServerError(503)).share(0.04))
        .rule(FaultRule::new(Fault::Truncate).share(0.03))
}

/// A child of `test` with everything it needs in its environment.
fn spawn(
    test: &str,
    kind: BackendKind,
    sim: &Simulator,
    journal: &TempFile,
    channels: &[String],
    round: usize,
) -> Child {
    let (url, secret) = match kind {
        BackendKind::GraphQl => (sim.graphql_url(), sim.api_key().to_owned()),
        _ => (sim.rest_url(), sim.access_token().to_owned()),
    };
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_KIND, kind.to_string())
        .env(CHILD_URL, url)
        .env(CHILD_SECRET, secret)
        .env(CHILD_JOURNAL, &journal.0)
        .env(CHILD_CHANNELS, channels.join(","))
        .env(CHILD_ROUND, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn killed_and_restarted(test: &str, kind: BackendKind, seed: u64) {
    if let Ok(role) = std::env::var(CHILD_KIND) {
        assert_eq!(role, kind.to_string());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        return runtime.block_on(child(kind));
    }
    let server = server(seed);
    let sim = &server.sim;
    let channels: Vec<String> = sim
        .demo()
        .channels
        .iter()
        .filter(|c| c.service != Service::Instagram)
        .map(|c| c.id.clone())
        .collect();
    let journal = temp_file(&kind.to_string());
    sim.set_faults(faults(kind, seed));
    let mut rng = child::Rng(seed);
    let mut finished_early = 0;
    // Batches each killed child reported created (again, for those a predecessor made).
    let mut progress = Vec::new();
    for round in 0..KILLS {
        let mut child = spawn(test, kind, sim, &journal, &channels, round);
        let lines = child::lines(&mut child);
        // Killed in a batch drawn at random, a random time after the one before it was
        // created: at its journal's begin, its send, its lookup or its records. Progress,
        // not time alone, picks the batch, so kills land all along the run on any machine.
        let batch = rng.below((POSTS / CHUNK) as u64) as usize;
        let reached = if batch == 0 {
            child::wait_for(&lines, "child ready", CHILD_TIMEOUT)
        } else {
            child::wait_for(
                &lines,
                &format!("child batch {} created", batch - 1),
                CHILD_TIMEOUT,
            )
        };
        assert!(
            reached,
            "round {round}: the child died before batch {batch}"
        );
        std::thread::sleep(Duration::from_millis(
            rng.below(MAX_LIFE.as_millis() as u64),
        ));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        if status.success() {
            finished_early += 1;
        }
        // What it said before it died is still in the pipe.
        let batches = std::iter::from_fn(|| lines.recv_timeout(CHILD_TIMEOUT).ok())
            .filter(|line| line.ends_with(" created"))
            .count();
        progress.push(batch + batches);
    }
    let mut last = spawn(test, kind, sim, &journal, &channels, KILLS);
    let lines = child::lines(&mut last);
    assert!(
        child::wait_for(&lines, "child done", CHILD_TIMEOUT),
        "the last child did not finish"
    );
    assert!(last.wait().unwrap().success());
    let requests = sim.requests();
    let faulted = requests.iter().filter(|r| r.fault.is_some()).count();
    eprintln!(
        "{kind}: {KILLS} children killed ({finished_early} had finished first), batches each \
         reported: {progress:?}; {} requests, {faulted} faulted",
        requests.len()
    );
    assert!(faulted > 0, "faults were injected");

    // The store: exactly one post per key and channel, and nothing else from this run.
    sim.clear_faults();
    let posts = posts(&channels);
    let mut stored: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
    for channel in &channels {
        for post in sim.store().channel_posts(channel) {
            if let Some(i) = post
                .text
                .strip_prefix("Restart run, post ")
                .and_then(|i| i.parse::<usize>().ok())
            {
                stored
                    .entry((i, channel.clone()))
                    .or_default()
                    .push(post.id);
            }
        }
    }
    let mut expected = 0;
    for (i, post) in posts.iter().enumerate() {
        for channel in &post.channel_ids {
            expected += 1;
            let ids = stored
                .get(&(i, channel.to_string()))
                .cloned()
                .unwrap_or_default();
            assert_eq!(ids.len(), 1, "{kind}: post {i} on {channel}: {ids:?}");
        }
    }
    assert_eq!(
        stored.len(),
        expected,
        "{kind}: no post of the run on a channel it was not sent to"
    );

    // Every key reconciled: every channel created, with the post the store holds.
    let backend = retrying(
        kind,
        &match kind {
            BackendKind::GraphQl => sim.graphql_url(),
            _ => sim.rest_url(),
        },
        match kind {
            BackendKind::GraphQl => sim.api_key(),
            _ => sim.access_token(),
        },
        journal.0.to_str().unwrap(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for (i, post) in posts.iter().enumerate() {
            let outcomes = backend.reconcile(&key(i)).await.unwrap();
            assert_eq!(outcomes.len(), 1, "{kind}: post {i}");
            let channels = &outcomes[0].channels;
            assert_eq!(channels.len(), post.channel_ids.len(), "{kind}: post {i}");
            for outcome in channels {
                let ChannelResult::Created(created) = &outcome.result else {
                    panic!(
                        "{kind}: post {i} on {}: {:?}",
                        outcome.channel_id, outcome.result
                    );
                };
                let ids = &stored[&(i, outcome.channel_id.to_string())];
                assert_eq!(
                    created.id.as_str(),
                    ids[0],
                    "{kind}: post {i} on {}",
                    outcome.channel_id
                );
            }
        }
    });
}

#[test]
fn classic_rest_killed_twenty_times_posts_each_post_once() {
    killed_and_restarted(
        "classic_rest_killed_twenty_times_posts_each_post_once",
        BackendKind::ClassicRest,
        91,
    );
}

#[test]
fn graphql_killed_twenty_times_posts_each_post_once() {
    killed_and_restarted(
        "graphql_killed_twenty_times_posts_each_post_once",
        BackendKind::GraphQl,
        92,
    );
}
