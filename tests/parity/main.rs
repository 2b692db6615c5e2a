//! Parity: the same scenario through `ClassicRest` and `GraphQl`, against one simulator, must
//! give equal model values, or a difference that MIGRATION.md explains.
//!
//! What may differ is listed once, in `rules`, field by field, each with its reason and the
//! section of MIGRATION.md that tells users about it. Everything else is compared exactly, so a
//! real difference between the backends fails here instead of surprising someone
//! mid-migration. The scenarios are grouped by area: `reads`, `paging`, `writes` (each read
//! back through the other backend) and `refusals`.

#[path = "../common/sim.rs"]
mod sim;

mod paging;
mod reads;
mod refusals;
mod rules;
mod writes;

use buffer_bridge::model::{ChannelId, NewPost, PageRequest, Post, PostList, PostQuery, When};
use buffer_bridge::{Backend, BackendExt, Error};
use buffer_sim::{Service, Simulator};

use sim::Both;

fn ids(posts: &[Post]) -> Vec<&str> {
    posts.iter().map(|p| p.id.as_str()).collect()
}

/// The seeded channel on `service`.
fn channel(both: &Both, service: Service) -> ChannelId {
    let channel = both.sim.demo().channel(service).expect("seeded channel");
    ChannelId::new(channel.id.clone())
}

/// The queue of a channel as the simulator holds it, soonest first: the ground truth both
/// backends' pages must match.
fn queue_in_store(sim: &Simulator, channel: &ChannelId) -> Vec<String> {
    sim.store()
        .queue(channel.as_str())
        .into_iter()
        .map(|p| p.id)
        .collect()
}

async fn page(
    backend: &dyn Backend,
    channel: &ChannelId,
    list: PostList,
    page: PageRequest,
) -> buffer_bridge::model::Page<Post> {
    backend
        .posts(&PostQuery::new(channel.clone(), list).page(page))
        .await
        .expect("a page of posts")
}

/// Creates `text` on `channels` through `backend`, asserting every channel got its post.
async fn create(
    backend: &dyn Backend,
    text: &str,
    channels: &[&ChannelId],
    when: When,
) -> Vec<Post> {
    let post = NewPost::new(text)
        .channels(channels.iter().map(|c| (*c).clone()))
        .when(when);
    let outcome = backend.create_post(&post).await.expect("create answered");
    outcome.into_result().expect("created on every channel")
}

/// The error of a call that must fail.
#[track_caller]
fn failure<T: std::fmt::Debug>(result: buffer_bridge::Result<T>) -> Error {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => error,
    }
}

/// Fills the Twitter queue to `len` posts (it starts with four).
async fn long_queue(both: &Both, len: usize) -> ChannelId {
    let twitter = channel(both, Service::Twitter);
    let mut n = queue_in_store(&both.sim, &twitter).len();
    while n < len {
        create(
            &both.rest,
            &format!("queued post {n}"),
            &[&twitter],
            When::Queue,
        )
        .await;
        n += 1;
    }
    twitter
}
