//! Pages: offsets, page tokens used across backends, the stream of all posts, sort orders.

use buffer_bridge::model::{PageRequest, PageToken, Post, PostList, PostQuery, When};
use buffer_bridge::{BackendExt, BackendKind, ErrorKind};
use buffer_sim::Service;
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
