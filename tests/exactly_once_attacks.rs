//! Attacks on the write promise found by the adversarial soak and restart runs, each reduced to
//! one deterministic case on the simulator (which lets repeats through, so a second post is the
//! client's doing). Every assertion reads the simulator's store.

#[path = "common/sim.rs"]
mod common;

use buffer_bridge::journal::{Conflict, IdempotencyKey};
use buffer_bridge::model::{ChannelResult, NewPost};
use buffer_bridge::retry::{RetryPolicy, Retrying};
use buffer_bridge::{Backend, BackendExt, BackendKind};
use buffer_sim::{Fault, FaultRule, Faults, Simulator};
use std::sync::Arc;
use std::time::Duration;

/// Where a create goes on each API, as the simulator's fault routes name it.
fn create_route(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::GraphQl => "createPost",
        _ => "/1/updates/create.json",
    }
}

/// Each backend on a simulator of its own that lets repeats through.
async fn each() -> Vec<(BackendKind, Simulator, Box<dyn Backend>)> {
    let mut all = Vec::new();
    for kind in BackendKind::ALL {
        let sim = Simulator::builder().reject_duplicates(false).start().await;
        let backend: Box<dyn Backend> = match kind {
            BackendKind::GraphQl => Box::new(common::graphql(&sim)),
            _ => Box::new(common::rest(&sim)),
        };
        all.push((kind, sim, backend));
    }
    all
}

fn channel(sim: &Simulator) -> String {
    sim.demo().channels[0].id.clone()
}

/// A create cancelled while its request is still on its way to Buffer (the server is slow to
/// handle it) lands after the application has moved on. Asking right away must not say "not
/// created", and retrying right away must not send it again: the request still in flight may
/// make the post. Found by the soak as two posts of one key on GraphQL.
#[tokio::test]
async fn a_create_cancelled_in_flight_is_neither_denied_nor_sent_again() {
    for (kind, sim, backend) in each().await {
        let channel = channel(&sim);
        // The lease outlasts one request: until it expires, an abandoned request may still land.
        let backend = Retrying::new(backend)
            .lease(Duration::from_secs(1))
            .policy(
                RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(20)),
            )
            .seed(3);
        let key = IdempotencyKey::new(format!("in-flight-{kind}")).unwrap();
        let post = NewPost::new(format!("Slow to land on {kind}"))
            .channel(channel.as_str())
            .idempotency_key(key.clone());
        // The server holds the request 600 ms before it handles it; the application gives up
        // after 100 ms.
        sim.set_faults(
            Faults::seeded(1).rule(
                FaultRule::new(Fault::Latency(Duration::from_millis(600)))
                    .route(create_route(kind))
                    .times(1),
            ),
        );
        let cancelled =
            tokio::time::timeout(Duration::from_millis(100), backend.create_post(&post)).await;
        assert!(cancelled.is_err(), "{kind}: the create was cancelled");
        let asked = backend.reconcile(&key).await.unwrap();
        let retried = backend.create_post(&post).await.unwrap();
        // Long after the slow request was handled.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let stored = sim
            .store()
            .count_with_text(&channel, post.text.as_deref().unwrap());
        assert_eq!(
            stored, 1,
            "{kind}: one post, however slow the first request was"
        );
        let told = asked[0].channels[0].result.clone();
        assert!(
            !told.is_failed(),
            "{kind}: reconcile said not created while the request was in flight: {told:?}"
        );
        let again = retried.channels[0].result.clone();
        assert!(!again.is_failed(), "{kind}: {again:?}");
        // Once nothing can be in flight, reconcile finds it.
        let later = backend.reconcile(&key).await.unwrap();
        assert!(
            matches!(later[0].channels[0].result, ChannelResult::Created(_)),
            "{kind}: {:?}",
            later[0].channels[0].result
        );
    }
}

/// A create whose lease ran out while it waited (a rate limit longer than the lease) must not
/// send once another holder has taken the key over and sent it.
#[tokio::test]
async fn a_create_that_lost_its_lease_does_not_send() {
    for (kind, sim, backend) in each().await {
        let channel = channel(&sim);
        let journal: Arc<dyn buffer_bridge::journal::Journal> =
            Arc::new(buffer_bridge::journal::MemoryJournal::new());
        let key = IdempotencyKey::new(format!("lease-{kind}")).unwrap();
        let post = NewPost::new(format!("Held too long on {kind}"))
            .channel(channel.as_str())
            .idempotency_key(key.clone());
        let slow = Retrying::new(backend)
            .journal(journal.clone())
            .lease(Duration::from_millis(200))
            // The rate limit's wait (classic: backoff; GraphQL: Retry-After 1 s) outlasts the
            // lease.
            .policy(
                RetryPolicy::default()
                    .backoff(Duration::from_millis(1500), Duration::from_millis(1500)),
            )
            .seed(4);
        let other: Box<dyn Backend> = match kind {
            BackendKind::GraphQl => Box::new(common::graphql(&sim)),
            _ => Box::new(common::rest(&sim)),
        };
        let other = Retrying::new(other)
            .journal(journal.clone())
            .lease(Duration::from_millis(200))
            .seed(5);
        sim.set_faults(
            Faults::seeded(2).rule(
                FaultRule::new(Fault::RateLimitBurst(1))
                    .route(create_route(kind))
                    .times(1),
            ),
        );
        let first = tokio::spawn({
            let post = post.clone();
            async move { slow.create_post(&post).await }
        });
        // Once the first create was refused for the rate limit, another holder (a second
        // worker given the same job) takes the key over when the lease expires, and sends.
        while sim.requests_to(create_route(kind)) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let second = other.create_post(&post).await.unwrap();
        let first = first.await.unwrap();
        let stored = sim
            .store()
            .count_with_text(&channel, post.text.as_deref().unwrap());
        assert_eq!(stored, 1, "{kind}: first {first:?}, second {second:?}");
        if let Ok(first) = first {
            assert!(!first.channels[0].result.is_failed(), "{kind}: {first:?}");
        }
    }
}

/// A fresh process (no answer seen yet, so no server time known) whose clock runs ahead of
/// Buffer's by more than the allowed skew: its first create's answer is lost after the post was
/// made. The fence must not rule out the very post the create made.
#[tokio::test]
async fn a_fresh_process_ahead_of_buffers_clock_does_not_resend_its_first_create() {
    for kind in BackendKind::ALL {
        let sim = Simulator::builder()
            .reject_duplicates(false)
            .start_time(chrono::Utc::now() - chrono::TimeDelta::minutes(10))
            .start()
            .await;
        let channel = channel(&sim);
        let backend: Box<dyn Backend> = match kind {
            BackendKind::GraphQl => Box::new(common::graphql(&sim)),
            _ => Box::new(common::rest(&sim)),
        };
        let backend = Retrying::new(backend)
            .policy(
                RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(20)),
            )
            .seed(6);
        sim.set_faults(
            Faults::seeded(3).rule(
                FaultRule::new(Fault::LoseResponse)
                    .route(create_route(kind))
                    .times(1),
            ),
        );
        let post = NewPost::new(format!("First words on {kind}"))
            .channel(channel.as_str())
            .idempotency_key(IdempotencyKey::new(format!("first-{kind}")).unwrap());
        let outcome = backend.create_post(&post).await.unwrap();
        let stored = sim
            .store()
            .count_with_text(&channel, post.text.as_deref().unwrap());
        assert_eq!(stored, 1, "{kind}: {outcome:?}");
    }
}

/// The same, across a restart: a fresh client ahead of Buffer's clock journals a create and
/// dies with the request on its way (a slow server); a new client on the same journal (fresh
/// too) takes the key over once the lease ends and looks. The fence journaled by the first
/// client's clock must not rule out the post its request made.
#[tokio::test]
async fn a_restart_ahead_of_buffers_clock_does_not_resend_what_the_dead_process_sent() {
    for kind in BackendKind::ALL {
        let sim = Simulator::builder()
            .reject_duplicates(false)
            .start_time(chrono::Utc::now() - chrono::TimeDelta::minutes(10))
            .start()
            .await;
        let channel = channel(&sim);
        let journal: Arc<dyn buffer_bridge::journal::Journal> =
            Arc::new(buffer_bridge::journal::MemoryJournal::new());
        let client = |seed: u64| {
            let backend: Box<dyn Backend> = match kind {
                BackendKind::GraphQl => Box::new(common::graphql(&sim)),
                _ => Box::new(common::rest(&sim)),
            };
            Retrying::new(backend)
                .journal(journal.clone())
                .lease(Duration::from_secs(1))
                .seed(seed)
        };
        sim.set_faults(
            Faults::seeded(4).rule(
                FaultRule::new(Fault::Latency(Duration::from_millis(300)))
                    .route(create_route(kind))
                    .times(1),
            ),
        );
        let post = NewPost::new(format!("Sent before a crash on {kind}"))
            .channel(channel.as_str())
            .idempotency_key(IdempotencyKey::new(format!("crash-{kind}")).unwrap());
        let dead = client(7);
        let cut = tokio::time::timeout(Duration::from_millis(100), dead.create_post(&post)).await;
        assert!(cut.is_err(), "{kind}: the first process died mid-request");
        drop(dead);
        let outcome = client(8).create_post(&post).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let stored = sim
            .store()
            .count_with_text(&channel, post.text.as_deref().unwrap());
        assert_eq!(stored, 1, "{kind}: {outcome:?}");
    }
}

/// A create of several posts whose requests are paced (the classic API sends one a post) runs
/// longer than its lease. Another holder given the same job takes over the key of a post not
/// sent yet once that lease ends, and sends it; the first must not send it too.
#[tokio::test]
async fn a_long_paced_batch_keeps_its_leases_while_it_sends() {
    use buffer_bridge::pacing::{Paced, Pacing};
    let sim = Simulator::builder().reject_duplicates(false).start().await;
    let channel = channel(&sim);
    let journal: Arc<dyn buffer_bridge::journal::Journal> =
        Arc::new(buffer_bridge::journal::MemoryJournal::new());
    let posts: Vec<NewPost> = (0..3)
        .map(|i| {
            NewPost::new(format!("Paced post {i}"))
                .channel(channel.as_str())
                .idempotency_key(IdempotencyKey::new(format!("paced-{i}")).unwrap())
        })
        .collect();
    // One request every 700 ms; the lease is 300 ms.
    let paced = Paced::with(
        common::rest(&sim),
        Pacing::none()
            .quota(1, Duration::from_millis(700))
            .max_wait(Duration::from_secs(5)),
    );
    let first = Retrying::new(paced)
        .journal(journal.clone())
        .lease(Duration::from_millis(300))
        .seed(9);
    let other = Retrying::new(common::rest(&sim))
        .journal(journal.clone())
        .lease(Duration::from_millis(300))
        .seed(10);
    let batch = tokio::spawn({
        let posts = posts.clone();
        async move { first.create_posts(&posts).await }
    });
    while sim.requests_to(create_route(BackendKind::ClassicRest)) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Refused while the first holds the key (it is sending it), or it waited and found it.
    let second = other.create_post(&posts[2]).await;
    if let Err(error) = &second {
        assert!(
            matches!(error.journal_conflict(), Some(Conflict::Held { .. })),
            "{error}"
        );
    }
    let first = batch.await.unwrap();
    let stored = sim.store().count_with_text(&channel, "Paced post 2");
    assert_eq!(stored, 1, "first {first:?}, second {second:?}");
}
