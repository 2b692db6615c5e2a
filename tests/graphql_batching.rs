//! Requests per logical operation on the GraphQL backend: multi-channel creates in aliased
//! batches, offset pages over cursors, and lookups shared by concurrent calls.

mod graphql_support;
#[path = "common/sim.rs"]
mod sim;

use buffer_bridge::BackendExt;
use buffer_bridge::model::{ChannelId, ChannelResult, NewPost, PageRequest, PostList, PostQuery};
use buffer_bridge::{Error, ErrorKind};
use futures::TryStreamExt;
use graphql_support::*;
use serde_json::{Map, Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Answers creates like Buffer: one payload per (aliased) field, a success unless the
/// channel is `bad`. The request numbered `broken` (from 0), if any, gets an HTML 502.
struct Creates {
    requests: AtomicUsize,
    broken: Option<usize>,
}

impl Respond for Creates {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if Some(self.requests.fetch_add(1, Ordering::SeqCst)) == self.broken {
            return ResponseTemplate::new(502).set_body_string("<html>Bad gateway</html>");
        }
        let body: Value = request.body_json().unwrap();
        let mut data = Map::new();
        for (variable, input) in body["variables"].as_object().unwrap() {
            let field = match variable.as_str() {
                "input" => "createPost".to_owned(),
                aliased => format!("p{}", &aliased[1..]),
            };
            let channel = input["channelId"].as_str().unwrap();
            let payload = if channel == "bad" {
                json!({"__typename": "InvalidInputError", "message": "Text is required"})
            } else {
                success(&format!("post-{channel}"), channel)
            };
            data.insert(field, payload);
        }
        ResponseTemplate::new(200).set_body_json(json!({"data": data}))
    }
}

async fn create_server(broken: Option<usize>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(Creates {
            requests: AtomicUsize::new(0),
            broken,
        })
        .mount(&server)
        .await;
    server
}

fn channels(count: usize, bad: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            if i == bad {
                "bad".to_owned()
            } else {
                format!("c{i}")
            }
        })
        .collect()
}

#[tokio::test]
async fn n_channels_cost_ceil_n_over_30_requests_with_one_outcome_each() {
    for (count, requests) in [(1, 1), (30, 1), (31, 2), (65, 3)] {
        let server = create_server(None).await;
        let bad = count / 2;
        let ids = channels(count, bad);
        let outcome = backend(&server)
            .create_post(&NewPost::new("hello").channels(ids.clone()))
            .await
            .unwrap();
        let sent = bodies(&server).await;
        assert_eq!(sent.len(), requests, "{count} channels");

        let order: Vec<&str> = outcome
            .channels
            .iter()
            .map(|c| c.channel_id.as_str())
            .collect();
        assert_eq!(order, ids, "outcomes in request order");
        for (i, channel) in outcome.channels.iter().enumerate() {
            match &channel.result.clone().into_result() {
                Ok(post) => {
                    assert_ne!(i, bad);
                    assert_eq!(post.channel_id, channel.channel_id);
                }
                Err(error) => {
                    assert_eq!(i, bad, "{count}: {error}");
                    assert_eq!(error.kind(), ErrorKind::InvalidInput);
                }
            }
        }
        assert_eq!(outcome.failures().count(), 1);

        // Full batches alias 30 fields; a batch of one is the plain CreatePost document.
        for (body, size) in sent.iter().zip(ids.chunks(30).map(<[String]>::len)) {
            let variables = body["variables"].as_object().unwrap();
            assert_eq!(variables.len(), size);
            if size == 1 {
                assert_eq!(body["query"], document("post_operations"));
            } else {
                let query = body["query"].as_str().unwrap();
                assert_eq!(body["operationName"], "CreatePosts");
                assert_eq!(query.matches(": createPost(input: $i").count(), size);
                assert!(query.contains(&format!(
                    "p{}: createPost(input: $i{})",
                    size - 1,
                    size - 1
                )));
                assert_eq!(query.matches("fragment PostFields on Post").count(), 1);
            }
        }
    }
}

#[tokio::test]
async fn max_aliases_sets_the_batch_size() {
    let server = create_server(None).await;
    let buffer = buffer_bridge::graphql::GraphQl::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .max_aliases(10)
        .build()
        .unwrap();
    let outcome = buffer
        .create_post(&NewPost::new("x").channels(channels(25, 99)))
        .await
        .unwrap();
    assert!(outcome.is_complete());
    assert_eq!(bodies(&server).await.len(), 3);
}

#[tokio::test]
async fn a_failed_request_fails_exactly_the_channels_of_its_batch() {
    let server = create_server(Some(1)).await;
    let ids = channels(65, 99);
    let outcome = backend(&server)
        .create_post(&NewPost::new("hello").channels(ids))
        .await
        .unwrap();
    assert_eq!(
        bodies(&server).await.len(),
        3,
        "the third batch is still sent"
    );
    for (i, channel) in outcome.channels.iter().enumerate() {
        let in_broken_batch = (30..60).contains(&i);
        match &channel.result.clone().into_result() {
            Err(error) => {
                assert!(in_broken_batch, "{i}");
                assert!(
                    matches!(error, Error::Server { status: 502, .. }),
                    "{error:?}"
                );
            }
            Ok(_) => assert!(!in_broken_batch, "{i}"),
        }
    }
}

#[tokio::test]
async fn an_error_naming_one_alias_leaves_that_channel_unknown_only() {
    let server = MockServer::start().await;
    answer_json(
        &server,
        json!({
            "data": {"p0": success("post-c0", "c0"), "p1": null, "p2": success("post-c2", "c2")},
            "errors": [{"message": "Internal error", "path": ["p1"], "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
        }),
    )
    .await;
    let outcome = backend(&server)
        .create_post(&NewPost::new("x").channels(["c0", "c1", "c2"]))
        .await
        .unwrap();
    // The mutation may have run before its answer failed: unknown, not failed.
    let unknowns: Vec<_> = outcome.unknowns().map(|(c, _)| c.as_str()).collect();
    assert_eq!(unknowns, ["c1"]);
    assert_eq!(outcome.failures().count(), 0);
    assert!(
        outcome.channels[1]
            .result
            .error()
            .unwrap()
            .to_string()
            .contains("Internal error")
    );
}

#[tokio::test]
async fn a_rate_limited_batch_stops_the_batches_after_it() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(429).set_body_string(fixture("rate_limited_429_retry_after.json")),
    )
    .await;
    let outcome = backend(&server)
        .create_post(&NewPost::new("x").channels(channels(65, 99)))
        .await
        .unwrap();
    assert_eq!(bodies(&server).await.len(), 1);
    assert!(
        outcome
            .channels
            .iter()
            .all(|c| matches!(c.result, ChannelResult::Failed(Error::RateLimited { .. })))
    );
}

#[tokio::test]
async fn a_post_with_no_channel_is_refused_before_sending() {
    let server = create_server(None).await;
    let error = backend(&server)
        .create_post(&NewPost::new("x"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(bodies(&server).await.is_empty());
}

/// A channel's queue of `len` posts, served like Buffer's `posts` field: `first`/`after` by
/// cursor, full nodes for `Posts`, cursors only for `PostCursors`.
struct Queue {
    len: usize,
}

impl Respond for Queue {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = request.body_json().unwrap();
        let variables = &body["variables"];
        let first = variables["first"].as_u64().unwrap() as usize;
        assert!(first <= 100, "never more than 100 a page");
        let start = variables["after"].as_str().map_or(0, |c| {
            c.trim_start_matches("k").parse::<usize>().unwrap() + 1
        });
        let end = (start + first).min(self.len);
        let full = body["operationName"] == "Posts";
        let edges: Vec<Value> = (start..end)
            .map(|i| {
                if full {
                    json!({"cursor": format!("k{i}"), "node": post_json(&format!("p{i}"), "c1")})
                } else {
                    json!({"cursor": format!("k{i}")})
                }
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"data": {"posts": {
            "edges": edges,
            "pageInfo": {"hasNextPage": end < self.len, "endCursor": (end > start).then(|| format!("k{}", end - 1))}
        }}}))
    }
}

async fn queue_server(len: usize) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(Queue { len })
        .mount(&server)
        .await;
    server
}

async fn count(server: &MockServer, operation: &str) -> usize {
    bodies(server)
        .await
        .iter()
        .filter(|b| b["operationName"] == operation)
        .count()
}

fn ids(page: &buffer_bridge::model::Page<buffer_bridge::model::Post>) -> Vec<String> {
    page.items.iter().map(|p| p.id.to_string()).collect()
}

#[tokio::test]
async fn pages_read_through_a_pager_or_the_stream_cost_one_request_each() {
    let server = queue_server(130).await;
    let buffer = backend(&server);
    let query = PostQuery::new(ChannelId::new("c1"), PostList::Queue).page(PageRequest::first(20));
    let mut pager = buffer.pager(query.clone());
    let mut pages = Vec::new();
    while let Some(page) = pager.next_page().await.unwrap() {
        pages.push(ids(&page));
    }
    assert!(
        pager.next_page().await.unwrap().is_none(),
        "done stays done"
    );
    let expected: Vec<Vec<String>> = (0..130)
        .map(|i| format!("p{i}"))
        .collect::<Vec<_>>()
        .chunks(20)
        .map(<[String]>::to_vec)
        .collect();
    assert_eq!(pages, expected);
    assert_eq!(count(&server, "Posts").await, 7);

    let all: Vec<_> = buffer.all_posts(query).try_collect().await.unwrap();
    assert_eq!(all.len(), 130);
    assert_eq!(count(&server, "Posts").await, 14);
    assert_eq!(count(&server, "PostCursors").await, 0);
}

#[tokio::test]
async fn an_offset_walks_from_the_start_with_the_fewest_requests_and_keeps_no_cursor() {
    let server = queue_server(2000).await;
    let buffer = backend(&server);
    let query =
        PostQuery::new(ChannelId::new("c1"), PostList::Queue).page(PageRequest::offset(50, 20));
    let page = buffer.posts(&query).await.unwrap();
    let expected: Vec<String> = (980..1000).map(|i| format!("p{i}")).collect();
    assert_eq!(ids(&page), expected);
    // 1,000 posts to pass at 100 a request: 9 requests for cursors, then one for the 80 posts
    // still to skip and the page.
    let sent = bodies(&server).await;
    let walks: Vec<&Value> = sent
        .iter()
        .filter(|b| b["operationName"] == "PostCursors")
        .collect();
    assert_eq!(walks.len(), 9);
    assert_eq!(walks[0]["query"], document("post_operations"));
    assert_eq!(walks[0]["variables"]["after"], Value::Null);
    assert!(walks.iter().all(|w| w["variables"]["first"] == 100));
    assert_eq!(sent.len(), 10);
    assert_eq!(sent[9]["operationName"], "Posts");
    assert_eq!(sent[9]["variables"]["first"], 100);
    assert_eq!(sent[9]["variables"]["after"], "k899");

    // The token continues in one request, from its own cursor.
    let next = buffer
        .posts(
            &query
                .clone()
                .page(PageRequest::after(page.next.unwrap(), 20)),
        )
        .await
        .unwrap();
    assert_eq!(ids(&next)[0], "p1000");
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 11);
    assert_eq!(sent[10]["variables"]["after"], "k999");

    // An earlier page walks from the start again: no cursor outlives the call that read it.
    let earlier = buffer
        .posts(&query.clone().page(PageRequest::offset(42, 20)))
        .await
        .unwrap();
    assert_eq!(ids(&earlier)[0], "p820");
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 11 + 9, "ceil(840 / 100)");
    assert_eq!(sent[11]["variables"]["after"], Value::Null);

    // A small page near the start is one request.
    buffer
        .posts(&query.clone().page(PageRequest::offset(3, 20)))
        .await
        .unwrap();
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 21);
    assert_eq!(sent[20]["variables"]["first"], 60);
}

#[tokio::test]
async fn tokens_of_another_query_are_refused_and_classic_tokens_fall_back_to_offsets() {
    let server = queue_server(100).await;
    let buffer = backend(&server);
    let queue = PostQuery::new(ChannelId::new("c1"), PostList::Queue);
    let first = buffer.posts(&queue).await.unwrap();
    let token = first.next.unwrap();
    let sent =
        PostQuery::new(ChannelId::new("c1"), PostList::Sent).page(PageRequest::after(token, 20));
    let error = buffer.posts(&sent).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);

    let classic = buffer_bridge::model::PageToken::new(
        buffer_bridge::BackendKind::ClassicRest,
        &queue.scope(),
        30,
        None,
    );
    let page = buffer
        .posts(&queue.clone().page(PageRequest::after(classic, 10)))
        .await
        .unwrap();
    assert_eq!(ids(&page)[0], "p30");
}

#[tokio::test]
async fn a_server_that_says_more_without_a_cursor_ends_the_listing() {
    let server = MockServer::start().await;
    answer_json(
        &server,
        json!({"data": {"posts": {
            "edges": [{"cursor": "k0", "node": post_json("p0", "c1")}],
            "pageInfo": {"hasNextPage": true, "endCursor": null}
        }}}),
    )
    .await;
    let buffer = backend(&server);
    let query = PostQuery::new(ChannelId::new("c1"), PostList::Queue);
    let items: Vec<_> = futures::StreamExt::collect::<Vec<_>>(buffer.all_posts(query)).await;
    assert_eq!(items.len(), 1, "the listing ends instead of looping");
    assert!(items.iter().all(Result::is_ok));
    assert_eq!(bodies(&server).await.len(), 1);

    let server = MockServer::start().await;
    answer_json(
        &server,
        json!({"data": {"posts": {"edges": null, "pageInfo": {"hasNextPage": true, "endCursor": null}}}}),
    )
    .await;
    let page = backend(&server)
        .posts(&PostQuery::new(ChannelId::new("c1"), PostList::Queue))
        .await
        .unwrap();
    assert!(page.items.is_empty() && page.next.is_none());
}

/// An account of `organizations` organizations with two LinkedIn channels each (`<org>-a`,
/// `<org>-b`), whose channels' queues are empty. Answers slowly enough that calls started
/// together are all under way before the first lookup is answered.
struct Account {
    organizations: usize,
}

impl Respond for Account {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = request.body_json().unwrap();
        let channels_of = |input: &Value| {
            let organization = input["organizationId"].as_str().unwrap();
            json!([
                channel_json(&format!("{organization}-a"), "linkedin", organization),
                channel_json(&format!("{organization}-b"), "linkedin", organization),
            ])
        };
        let data = match body["operationName"].as_str().unwrap() {
            "Organizations" => {
                let organizations: Vec<Value> = (0..self.organizations)
                    .map(|i| json!({"id": format!("org{i}")}))
                    .collect();
                json!({"account": {"organizations": organizations}})
            }
            "Channels" => json!({"channels": channels_of(&body["variables"]["input"])}),
            "ChannelsOfOrganizations" => {
                let mut data = Map::new();
                for (variable, input) in body["variables"].as_object().unwrap() {
                    data.insert(format!("c{}", &variable[1..]), channels_of(input));
                }
                Value::Object(data)
            }
            "Posts" => {
                json!({"posts": {"edges": [], "pageInfo": {"hasNextPage": false, "endCursor": null}}})
            }
            other => panic!("unexpected operation {other}"),
        };
        ResponseTemplate::new(200)
            .set_body_json(json!({ "data": data }))
            .set_delay(std::time::Duration::from_millis(50))
    }
}

async fn account_server(organizations: usize) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(Account { organizations })
        .mount(&server)
        .await;
    server
}

/// How many requests of each kind the server received: organizations, channel listings, posts.
async fn lookups(server: &MockServer) -> (usize, usize, usize) {
    (
        count(server, "Organizations").await,
        count(server, "Channels").await + count(server, "ChannelsOfOrganizations").await,
        count(server, "Posts").await,
    )
}

#[tokio::test]
async fn sixty_four_concurrent_channel_listings_cost_one_lookup_each() {
    let server = account_server(3).await;
    let buffer = backend_without_organization(&server);
    let all = futures::future::join_all((0..64).map(|_| buffer.channels())).await;
    for channels in all {
        let ids: Vec<_> = channels
            .unwrap()
            .into_iter()
            .map(|c| c.id.to_string())
            .collect();
        assert_eq!(
            ids,
            ["org0-a", "org0-b", "org1-a", "org1-b", "org2-a", "org2-b"]
        );
    }
    assert_eq!(lookups(&server).await, (1, 1, 0));
    // Three organizations in one request, as aliased fields.
    let listing = bodies(&server).await.remove(1);
    assert_eq!(listing["operationName"], "ChannelsOfOrganizations");
    assert_eq!(listing["variables"]["o2"]["organizationId"], "org2");

    // A later listing asks again (channels change); the organizations are kept.
    buffer.channels().await.unwrap();
    assert_eq!(lookups(&server).await, (1, 2, 0));
}

#[tokio::test]
async fn concurrent_reads_needing_a_channel_s_organization_share_one_lookup() {
    let server = account_server(2).await;
    let buffer = backend_without_organization(&server);
    let query = PostQuery::new(ChannelId::new("org1-b"), PostList::Queue);
    let all = futures::future::join_all((0..64).map(|_| buffer.posts(&query))).await;
    assert!(all.iter().all(Result::is_ok));
    let sent = bodies(&server).await;
    assert_eq!(lookups(&server).await, (1, 1, 64));
    assert!(
        sent.iter()
            .filter(|b| b["operationName"] == "Posts")
            .all(|b| b["variables"]["input"]["organizationId"] == "org1"),
        "each listing goes to the channel's organization"
    );
    // Later reads reuse the lookups.
    buffer.posts(&query).await.unwrap();
    assert_eq!(lookups(&server).await, (1, 1, 65));
}

#[tokio::test]
async fn a_missing_channel_is_looked_up_once_within_the_lifetime() {
    let server = account_server(1).await;
    let buffer = backend_without_organization(&server);
    let missing = PostQuery::new(ChannelId::new("gone"), PostList::Queue);
    for _ in 0..5 {
        let error = buffer.posts(&missing).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    }
    let all = futures::future::join_all((0..16).map(|_| buffer.posts(&missing))).await;
    assert!(all.iter().all(Result::is_err));
    assert_eq!(lookups(&server).await, (1, 1, 0));
    // A channel that exists is still found from the same listing.
    buffer
        .posts(&PostQuery::new(ChannelId::new("org0-a"), PostList::Queue))
        .await
        .unwrap();
    assert_eq!(lookups(&server).await, (1, 1, 1));
}

#[tokio::test]
async fn channels_of_many_organizations_cost_one_request_per_30() {
    let server = account_server(31).await;
    let channels = backend_without_organization(&server)
        .channels()
        .await
        .unwrap();
    let ids: Vec<_> = channels.iter().map(|c| c.id.to_string()).collect();
    let expected: Vec<String> = (0..31)
        .flat_map(|i| [format!("org{i}-a"), format!("org{i}-b")])
        .collect();
    assert_eq!(ids, expected, "in the account's order of organizations");
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[1]["operationName"], "ChannelsOfOrganizations");
    assert_eq!(sent[1]["variables"].as_object().unwrap().len(), 30);
    // The 31st alone: the plain document.
    assert_eq!(sent[2]["query"], document("channel_operations"));
    assert_eq!(sent[2]["variables"]["input"]["organizationId"], "org30");
}

#[tokio::test]
async fn on_the_simulator_two_organizations_list_like_classic_in_two_requests() {
    let both = sim::Both::start().await;
    let store = both.sim.store();
    let second = store.add_organization(&both.sim.demo().account.id, "Second");
    let added = store.add_channel(buffer_sim::ChannelSpec::new(
        &second.id,
        buffer_sim::Service::Mastodon,
        "second",
    ));
    both.sim.clear_requests();
    let graphql = both.graphql.channels().await.unwrap();
    assert_eq!(both.sim.request_count(buffer_sim::Api::GraphQl), 2);
    assert_eq!(both.sim.requests_to("Organizations"), 1);
    assert_eq!(both.sim.requests_to("ChannelsOfOrganizations"), 1);

    let mut listed: Vec<String> = graphql.iter().map(|c| c.id.to_string()).collect();
    let mut classic: Vec<String> = both
        .rest
        .channels()
        .await
        .unwrap()
        .iter()
        .map(|c| c.id.to_string())
        .collect();
    listed.sort_unstable();
    classic.sort_unstable();
    assert_eq!(listed, classic);
    assert!(listed.contains(&added.id));
}
