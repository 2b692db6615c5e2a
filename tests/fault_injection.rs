//! 1,000 mixed operations per backend against the simulator with a fifth of requests
//! faulted (5xx pages, connections dropped before or after the work is done, 429 bursts,
//! bodies cut in half, HTML on 200),
//! through `Retrying<Paced<_>>`: every operation ends in a value or a typed error, no post
//! exists twice in the simulator's store, and every channel of every create is accounted for.
//!
//! The simulator's clock runs 10,000 times faster than real time, and the layers are told
//! so: a 15-minute rate window passes in 90 ms, so the whole run takes seconds.

use buffer_bridge::graphql::GraphQl;
use buffer_bridge::model::{
    ChannelId, ChannelResult, CreateOutcome, NewPost, PageRequest, PostEdit, PostId, PostList,
    PostQuery, When,
};
use buffer_bridge::pacing::{Paced, Pacing};
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::retry::{RetryPolicy, Retrying};
use buffer_bridge::{Backend, BackendExt, BackendKind, Error};
use buffer_sim::{Fault, FaultRule, Faults, RateLimits, Service, Simulator};
use std::collections::HashMap;
use std::time::Duration;

/// Simulated seconds per real second.
const SCALE: f64 = 10_000.0;

/// Operations per backend.
const OPERATIONS: usize = 1_000;

/// A tiny deterministic generator for the operation mix.
struct Mix(u64);

impl Mix {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Faults on a fifth of requests, in the shapes the simulator can produce.
fn faults(seed: u64) -> Faults {
    Faults::seeded(seed)
        .rule(FaultRule::new(Fault::ServerError(503)).share(0.05))
        .rule(FaultRule::new(Fault::Drop).share(0.02))
        .rule(FaultRule::new(Fault::LoseResponse).share(0.03))
        .rule(FaultRule::new(Fault::Truncate).share(0.05))
        .rule(FaultRule::new(Fault::RateLimitBurst(3)).share(0.03))
        .rule(FaultRule::new(Fault::Html).share(0.02))
}

async fn simulator(seed: u64) -> Simulator {
    Simulator::builder()
        .seed(seed)
        .clock_scale(SCALE)
        .queue_limit(100_000)
        .rate_limits(RateLimits {
            graphql_per_day: 1_000_000,
            graphql_per_30_days: 1_000_000,
            ..RateLimits::default()
        })
        .faults(faults(seed))
        .start()
        .await
}

fn layered<B: Backend>(backend: B) -> Retrying<Paced<B>> {
    let pacing = Pacing::of(backend.kind()).time_scale(SCALE);
    Retrying::new(Paced::with(backend, pacing))
        .policy(
            RetryPolicy::default()
                .max_attempts(5)
                .backoff(Duration::from_millis(2), Duration::from_millis(20))
                .max_wait(Duration::from_secs(5))
                .time_scale(SCALE),
        )
        .seed(7)
}

/// What the run saw.
#[derive(Debug, Default)]
struct Tally {
    ok: usize,
    failed: HashMap<String, usize>,
    created: usize,
    unknown_channels: usize,
}

impl Tally {
    fn record<T>(&mut self, result: &Result<T, Error>) {
        match result {
            Ok(_) => self.ok += 1,
            Err(error) => {
                *self
                    .failed
                    .entry(format!("{:?}", error.kind()))
                    .or_default() += 1
            }
        }
    }
}

/// Checks one create: one outcome per channel, in order; a created post is in the store
/// exactly once under its id; a refused channel has no post.
fn account_for(sim: &Simulator, new: &NewPost, outcome: &CreateOutcome, tally: &mut Tally) {
    let asked: Vec<&ChannelId> = new.channel_ids.iter().collect();
    let answered: Vec<&ChannelId> = outcome.channels.iter().map(|c| &c.channel_id).collect();
    assert_eq!(asked, answered, "one outcome per channel, in order");
    let text = new.text.as_deref().unwrap_or_default();
    for channel in &outcome.channels {
        let stored = sim
            .store()
            .count_with_text(channel.channel_id.as_str(), text);
        match &channel.result {
            ChannelResult::Created(post) => {
                tally.created += 1;
                assert_eq!(stored, 1, "{text} on {}", channel.channel_id);
                assert!(sim.store().post(post.id.as_str()).is_some(), "{}", post.id);
            }
            ChannelResult::Unknown(_) => {
                // The outcome could not be found out; it must still not be doubled.
                tally.unknown_channels += 1;
                assert!(stored <= 1, "{text} on {}", channel.channel_id);
            }
            ChannelResult::Failed(error) => {
                assert_eq!(stored, 0, "{text} refused ({error}) yet stored")
            }
        }
    }
}

async fn run<B: Backend>(sim: &Simulator, backend: Retrying<Paced<B>>, seed: u64) -> Tally {
    let channels: Vec<ChannelId> = sim
        .demo()
        .channels
        .iter()
        .filter(|c| c.service != Service::Instagram)
        .map(|c| ChannelId::new(c.id.clone()))
        .collect();
    assert!(channels.len() >= 3);
    let mut mix = Mix(seed | 1);
    let mut tally = Tally::default();
    let mut mine: Vec<PostId> = Vec::new();
    for i in 0..OPERATIONS {
        let channel = channels[mix.below(channels.len() as u64) as usize].clone();
        match mix.below(20) {
            0..=5 => {
                let count = 1 + mix.below(3) as usize;
                let start = mix.below(channels.len() as u64) as usize;
                let targets = (0..count).map(|k| channels[(start + k) % channels.len()].clone());
                let when = [When::Queue, When::Next, When::Now][mix.below(3) as usize].clone();
                let new = NewPost::new(format!("fault run {seed} post {i}"))
                    .channels(targets)
                    .when(when);
                let result = backend.create_post(&new).await;
                tally.record(&result);
                if let Ok(outcome) = &result {
                    account_for(sim, &new, outcome, &mut tally);
                    mine.extend(outcome.posts().map(|p| p.id.clone()));
                }
            }
            6..=8 => {
                if let Some(id) = mine.pop() {
                    let result = backend.delete_post(&id).await;
                    tally.record(&result);
                    if result.is_ok() {
                        assert!(sim.store().post(id.as_str()).is_none(), "{id} still there");
                    }
                }
            }
            9 => {
                if let Some(id) = mine.last() {
                    let edit = PostEdit::default().text(format!("fault run {seed} edit {i}"));
                    tally.record(&backend.edit_post(id, &edit).await);
                }
            }
            10..=13 => {
                let list = [PostList::Queue, PostList::Sent][mix.below(2) as usize];
                let page = PageRequest::offset(1 + mix.below(3) as u32, 10);
                tally.record(
                    &backend
                        .posts(&PostQuery::new(channel, list).page(page))
                        .await,
                );
            }
            14..=15 => {
                if let Some(id) = mine.last() {
                    tally.record(&backend.post(id).await);
                }
            }
            16..=17 => tally.record(&backend.channels().await),
            18 => tally.record(&backend.account().await),
            _ => tally.record(&backend.channel(&channel).await),
        }
    }
    tally
}

/// No channel holds the same text twice: nothing was posted twice.
fn assert_no_duplicates(sim: &Simulator) {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for post in sim.store().posts() {
        *seen
            .entry((post.channel_id.clone(), post.text.clone()))
            .or_default() += 1;
    }
    let doubled: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "posted twice: {doubled:?}");
}

fn check(sim: &Simulator, kind: BackendKind, tally: &Tally) {
    let requests = sim.requests();
    let faulted = requests.iter().filter(|r| r.fault.is_some()).count();
    eprintln!(
        "{kind}: {} requests, {faulted} faulted; {tally:?}",
        requests.len()
    );
    assert!(
        faulted * 100 >= requests.len() * 12,
        "faults were injected: {faulted} of {}",
        requests.len()
    );
    let failed: usize = tally.failed.values().sum();
    assert!(tally.ok + failed >= OPERATIONS * 9 / 10, "{tally:?}");
    assert!(
        tally.ok * 100 >= (tally.ok + failed) * 90,
        "retries absorb most faults: {tally:?}"
    );
    assert!(tally.created > 100, "{tally:?}");
    assert_no_duplicates(sim);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_rest_survives_a_fifth_of_requests_failing() {
    let sim = simulator(11).await;
    let rest = ClassicRest::builder()
        .access_token(sim.access_token())
        .base_url(sim.rest_url())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let tally = run(&sim, layered(rest), 11).await;
    check(&sim, BackendKind::ClassicRest, &tally);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_survives_a_fifth_of_requests_failing() {
    let sim = simulator(12).await;
    let graphql = GraphQl::builder()
        .api_key(sim.api_key())
        .base_url(sim.graphql_url())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let tally = run(&sim, layered(graphql), 12).await;
    check(&sim, BackendKind::GraphQl, &tally);
}
