//! Pages: offsets, page tokens used across backends, the stream of all posts, sort orders.

use buffer_bridge::model::{
    ChannelId, PageRequest, PageToken, Post, PostId, PostList, PostQuery, When,
};
use buffer_bridge::{BackendExt, BackendKind, ErrorKind};
use buffer_sim::{RateLimits, Service};
use futures::TryStreamExt;
use std::time::Duration;

use crate::rules::*;
use crate::sim::Both;
use crate::*;
use BackendKind::{ClassicRest as Rest, GraphQl};

#[tokio::test]
async fn offset_pages_hold_the_same_posts_in_the_same_order() {
    let both = Both::start().await;
    let twitter = long_queue(&both, 12).await;
    let truth = queue_in_store(&both.sim, &twitter);
    for number in 1..=4 {
        let request = PageRequest::offset(number, 5);
        let rest = page(&both.rest, &twitter, PostList::Queue, request.clone()).await;
        let graphql = page(&both.graphql, &twitter, PostList::Queue, request).await;
        let start = (number as usize - 1) * 5;
        let expected: Vec<&str> = truth
            .iter()
            .skip(start)
            .take(5)
            .map(String::as_str)
            .collect();
        assert_eq!(ids(&rest.items), expected, "page {number} on rest");
        assert_posts_parity(&format!("queue page {number}"), &rest.items, &graphql.items);
        assert_eq!(
            rest.next.is_some(),
            graphql.next.is_some(),
            "page {number}: both say whether more follow"
        );
        assert_eq!(rest.next.is_some(), start + 5 < truth.len());
        // The classic API counts the listing; GraphQL cannot (MIGRATION.md, Lists and pages).
        assert_eq!(rest.total, Some(truth.len() as u64));
        assert_eq!(graphql.total, None);
    }
}

#[tokio::test]
async fn a_page_token_continues_on_the_other_backend_at_the_right_post() {
    let both = Both::start().await;
    let twitter = long_queue(&both, 12).await;
    let truth = queue_in_store(&both.sim, &twitter);
    // Across backends, and on the same backend with another page size.
    for (made_by, used_on) in [
        (Rest, GraphQl),
        (GraphQl, Rest),
        (Rest, Rest),
        (GraphQl, GraphQl),
    ] {
        let first = page(
            both.backend(made_by),
            &twitter,
            PostList::Queue,
            PageRequest::first(5),
        )
        .await;
        let token = first.next.expect("a token after the first page");
        assert_eq!(token.backend(), made_by);
        // The same size, and a size that does not divide the offset.
        for size in [5, 4, 7] {
            let next = page(
                both.backend(used_on),
                &twitter,
                PostList::Queue,
                PageRequest::after(token.clone(), size),
            )
            .await;
            let expected: Vec<&str> = truth
                .iter()
                .skip(5)
                .take(size as usize)
                .map(String::as_str)
                .collect();
            assert_eq!(
                ids(&next.items),
                expected,
                "a {made_by} token used on {used_on} with pages of {size}"
            );
        }
        // A token survives being stored as text.
        let stored: PageToken = token.to_string().parse().unwrap();
        let next = page(
            both.backend(used_on),
            &twitter,
            PostList::Queue,
            PageRequest::after(stored, 5),
        )
        .await;
        assert_eq!(ids(&next.items)[0], truth[5]);
    }
}

#[tokio::test]
async fn a_token_of_another_listing_is_refused_on_both_without_a_request() {
    let both = Both::start().await;
    let twitter = long_queue(&both, 8).await;
    let mastodon = channel(&both, Service::Mastodon);
    for (made_by, used_on) in [
        (Rest, GraphQl),
        (GraphQl, Rest),
        (Rest, Rest),
        (GraphQl, GraphQl),
    ] {
        let token = page(
            both.backend(made_by),
            &twitter,
            PostList::Queue,
            PageRequest::first(3),
        )
        .await
        .next
        .expect("a token");
        both.sim.clear_requests();
        for query in [
            PostQuery::new(mastodon.clone(), PostList::Queue),
            PostQuery::new(twitter.clone(), PostList::Sent),
        ] {
            let error = failure(
                both.backend(used_on)
                    .posts(&query.page(PageRequest::after(token.clone(), 3)))
                    .await,
            );
            assert_eq!(
                error.kind(),
                ErrorKind::InvalidInput,
                "{made_by} token on {used_on}: {error}"
            );
        }
        let sent: Vec<String> = both.sim.requests().into_iter().map(|r| r.path).collect();
        assert!(sent.is_empty(), "refused before sending anything: {sent:?}");
    }
}

#[tokio::test]
async fn every_post_streams_the_same_on_both() {
    let both = Both::start().await;
    let twitter = long_queue(&both, 11).await;
    let truth = queue_in_store(&both.sim, &twitter);
    for (kind, backend) in both.each() {
        let query = PostQuery::new(twitter.clone(), PostList::Queue).page(PageRequest::first(4));
        let all: Vec<Post> = backend.all_posts(query).try_collect().await.unwrap();
        assert_eq!(ids(&all), truth, "{kind}");
    }
}

#[tokio::test]
async fn the_sent_list_is_newest_first_on_both() {
    let both = Both::start().await;
    let twitter = channel(&both, Service::Twitter);
    let rest = page(&both.rest, &twitter, PostList::Sent, PageRequest::first(20)).await;
    let graphql = page(
        &both.graphql,
        &twitter,
        PostList::Sent,
        PageRequest::first(20),
    )
    .await;
    assert_eq!(rest.items.len(), 2, "the seeded history");
    assert_posts_parity("sent list", &rest.items, &graphql.items);
    assert!(rest.items.windows(2).all(|w| w[0].sent_at >= w[1].sent_at));
}

#[tokio::test]
async fn a_post_created_early_and_sent_late_moves_only_as_migration_says() {
    // MIGRATION.md, Sort orders: classic sorts the sent list by when a post was sent, GraphQL
    // by when it was created. The same posts are listed; only such posts change places.
    let both = Both::start().await;
    let twitter = channel(&both, Service::Twitter);
    let early = &create(
        &both.rest,
        "created first, sent last",
        &[&twitter],
        When::Queue,
    )
    .await[0];
    both.sim.clock().advance(Duration::from_secs(60));
    let late = &create(
        &both.rest,
        "created last, sent first",
        &[&twitter],
        When::Now,
    )
    .await[0];
    both.sim.clock().advance(Duration::from_secs(60));
    both.rest.share_post(&early.id).await.unwrap();

    let rest = page(&both.rest, &twitter, PostList::Sent, PageRequest::first(20))
        .await
        .items;
    let graphql = page(
        &both.graphql,
        &twitter,
        PostList::Sent,
        PageRequest::first(20),
    )
    .await
    .items;
    let mut same_posts = (ids(&rest), ids(&graphql));
    same_posts.0.sort_unstable();
    same_posts.1.sort_unstable();
    assert_eq!(same_posts.0, same_posts.1, "both list the same sent posts");
    assert!(
        rest.windows(2).all(|w| w[0].sent_at >= w[1].sent_at),
        "classic: by sent time"
    );
    assert!(
        graphql
            .windows(2)
            .all(|w| w[0].created_at >= w[1].created_at),
        "GraphQL: by creation"
    );
    assert_eq!(ids(&rest)[..2], [early.id.as_str(), late.id.as_str()]);
    assert_eq!(ids(&graphql)[..2], [late.id.as_str(), early.id.as_str()]);
}

#[tokio::test]
async fn when_the_queue_changes_between_pages_only_a_cursor_resumes_after_the_last_post_seen() {
    // A classic token (and any token used on the other backend) is an offset: when a post
    // before it is deleted, the next page starts one post later than the last one seen. A
    // GraphQL token used on GraphQL resumes after its cursor, whatever changed before it.
    for (made_by, used_on) in [
        (Rest, Rest),
        (Rest, GraphQl),
        (GraphQl, Rest),
        (GraphQl, GraphQl),
    ] {
        let both = Both::start().await;
        let twitter = long_queue(&both, 12).await;
        let first = page(
            both.backend(made_by),
            &twitter,
            PostList::Queue,
            PageRequest::first(5),
        )
        .await;
        let token = first.next.expect("a token");
        both.rest.delete_post(&first.items[0].id).await.unwrap();
        let truth = queue_in_store(&both.sim, &twitter);
        let next = page(
            both.backend(used_on),
            &twitter,
            PostList::Queue,
            PageRequest::after(token, 5),
        )
        .await;
        let after_last_seen = truth
            .iter()
            .position(|id| id.as_str() == first.items[4].id.as_str())
            .expect("the last post seen is still queued")
            + 1;
        let start = if (made_by, used_on) == (GraphQl, GraphQl) {
            after_last_seen
        } else {
            5
        };
        let expected: Vec<&str> = truth
            .iter()
            .skip(start)
            .take(5)
            .map(String::as_str)
            .collect();
        assert_eq!(ids(&next.items), expected, "{made_by} token on {used_on}");
        assert!(
            next.items
                .iter()
                .all(|p| first.items.iter().all(|seen| seen.id != p.id)),
            "{made_by} token on {used_on}: never a post of the first page again"
        );
    }
}

/// The ids at `start..start + len` of the channel's queue as the store holds it now: what an
/// offset page must hold at this moment on either backend.
fn window(both: &Both, channel: &ChannelId, start: u64, len: usize) -> Vec<String> {
    queue_in_store(&both.sim, channel)
        .into_iter()
        .skip(start as usize)
        .take(len)
        .collect()
}

#[tokio::test]
async fn an_offset_page_read_again_after_deletes_holds_what_the_store_now_holds_there() {
    // issue 10, "Pages that lie": page 4 of 5, ten queued posts deleted, page 4 again.
    let both = Both::start().await;
    let twitter = long_queue(&both, 40).await;
    for round in ["before the deletes", "after the deletes"] {
        for (kind, backend) in both.each() {
            let got = page(
                backend,
                &twitter,
                PostList::Queue,
                PageRequest::offset(4, 5),
            )
            .await;
            assert_eq!(
                ids(&got.items),
                window(&both, &twitter, 15, 5),
                "page 4 on {kind} {round}"
            );
        }
        if round == "before the deletes" {
            for id in queue_in_store(&both.sim, &twitter).into_iter().take(10) {
                both.rest.delete_post(&PostId::new(id)).await.unwrap();
            }
        }
    }
}

/// A write that moves posts of the queue, through one backend.
#[derive(Clone, Copy, Debug)]
enum Write {
    /// Deletes the posts at these positions.
    Delete(&'static [usize]),
    /// Queues this many new posts.
    Create(usize),
    /// Moves the first movable post from this position on to the front.
    MoveToTop(usize),
}

async fn apply(both: &Both, channel: &ChannelId, write: Write, through: BackendKind) {
    let backend = both.backend(through);
    let queue = queue_in_store(&both.sim, channel);
    let post = |at: usize| PostId::new(queue[at].clone());
    match write {
        Write::Delete(positions) => {
            for at in positions {
                backend.delete_post(&post(*at)).await.unwrap();
            }
        }
        Write::Create(count) => {
            for n in 0..count {
                create(
                    backend,
                    &format!("added by {through} {n}"),
                    &[channel],
                    When::Queue,
                )
                .await;
            }
        }
        Write::MoveToTop(at) => {
            // Buffer moves only posts that are not custom scheduled.
            let movable = both
                .sim
                .store()
                .queue(channel.as_str())
                .into_iter()
                .skip(at)
                .find(|p| !p.custom_scheduled)
                .expect("a movable post");
            backend
                .move_post_to_top(&PostId::new(movable.id))
                .await
                .unwrap();
        }
    }
}

/// A page token kept from an earlier read, with what it continues after.
struct Kept {
    token: PageToken,
    last_seen: String,
}

impl Kept {
    /// The page the token must give on `used_on` now: a cursor (its own backend) resumes
    /// after the last post seen, or, when that post has left the queue, where the cursor was;
    /// an offset (any other use) resumes at its offset.
    fn expected(
        &self,
        both: &Both,
        channel: &ChannelId,
        used_on: BackendKind,
        size: usize,
    ) -> Vec<String> {
        let queue = queue_in_store(&both.sim, channel);
        let start = match queue.iter().position(|id| *id == self.last_seen) {
            Some(at) if self.token.backend() == GraphQl && used_on == GraphQl => at as u64 + 1,
            _ => self.token.offset(),
        };
        window(both, channel, start, size)
    }
}

#[tokio::test]
async fn offset_and_token_reads_interleaved_with_writes_return_what_the_store_holds() {
    const SIZE: u32 = 5;
    // About 400 requests: more than the Free plan's limits allow in frozen time.
    let unlimited = RateLimits {
        enabled: false,
        ..RateLimits::default()
    };
    let both = Both::from(
        buffer_sim::Simulator::builder()
            .clock_scale(0.0)
            .rate_limits(unlimited),
    )
    .await;
    let twitter = long_queue(&both, 30).await;
    let writes = [
        (Write::Delete(&[0, 6, 11]), Rest),
        (Write::Create(4), GraphQl),
        (Write::MoveToTop(17), Rest),
        (Write::Delete(&[3, 4]), GraphQl),
        (Write::MoveToTop(9), GraphQl),
        (Write::Create(2), Rest),
        (Write::Delete(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), Rest),
    ];
    for (step, (write, through)) in writes.into_iter().enumerate() {
        // Read pages 1 to 4 on both backends, keeping every page's token.
        let mut kept = Vec::new();
        for (kind, backend) in both.each() {
            for number in 1..=4 {
                let got = page(
                    backend,
                    &twitter,
                    PostList::Queue,
                    PageRequest::offset(number, SIZE),
                )
                .await;
                let start = u64::from((number - 1) * SIZE);
                assert_eq!(
                    ids(&got.items),
                    window(&both, &twitter, start, SIZE as usize),
                    "step {step}: page {number} on {kind} before {write:?}"
                );
                kept.push(Kept {
                    token: got.next.expect("more pages follow"),
                    last_seen: got.items.last().unwrap().id.to_string(),
                });
            }
        }

        apply(&both, &twitter, write, through).await;

        // Every kept token, replayed on both backends, then the offset pages again.
        for keep in &kept {
            for (kind, backend) in both.each() {
                let got = page(
                    backend,
                    &twitter,
                    PostList::Queue,
                    PageRequest::after(keep.token.clone(), SIZE),
                )
                .await;
                assert_eq!(
                    ids(&got.items),
                    keep.expected(&both, &twitter, kind, SIZE as usize),
                    "step {step}: a {} token at offset {} replayed on {kind} after {write:?} through {through}",
                    keep.token.backend(),
                    keep.token.offset()
                );
            }
        }
        for (kind, backend) in both.each() {
            for number in 1..=4 {
                let got = page(
                    backend,
                    &twitter,
                    PostList::Queue,
                    PageRequest::offset(number, SIZE),
                )
                .await;
                let start = u64::from((number - 1) * SIZE);
                assert_eq!(
                    ids(&got.items),
                    window(&both, &twitter, start, SIZE as usize),
                    "step {step}: page {number} on {kind} after {write:?} through {through}"
                );
            }
        }
    }
}
