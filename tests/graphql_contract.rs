//! The GraphQL backend's wire contract: for every operation, the exact document and variables
//! it sends and how it reads the answer; every error shape Buffer has been seen to send; and
//! the operations GraphQL lacks, refused without a request.

mod graphql_support;

use buffer_bridge::backend::{Backend, BackendExt, Request};
use buffer_bridge::model::{
    Asset, AssetKind, ChannelId, Day, Link, NewIdea, NewPost, OrganizationId, PageRequest, Patch,
    PostEdit, PostId, PostList, PostQuery, PostStatus, Service, When,
};
use buffer_bridge::{BackendKind, Error, ErrorKind, Operation};
use chrono::{DateTime, Utc};
use graphql_support::*;
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::matchers::{body_partial_json, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// The one body the server received.
async fn only_body(server: &MockServer) -> Value {
    let mut bodies = bodies(server).await;
    assert_eq!(bodies.len(), 1, "exactly one request");
    bodies.remove(0)
}

fn expect(body: &Value, name: &str, operation: &str, variables: Value) {
    assert_eq!(body["query"], document(name), "document of {operation}");
    assert_eq!(body["operationName"], operation);
    assert_eq!(body["variables"], variables, "variables of {operation}");
}

#[tokio::test]
async fn account_sends_the_account_document_with_the_key_as_bearer() {
    let server = MockServer::start().await;
    answer_json(
        &server,
        json!({"data": {"account": {
            "id": "acc1", "email": "me@example.com", "name": "Me", "timezone": "Europe/Paris",
            "createdAt": "2020-01-01T00:00:00Z",
            "organizations": [{"id": "org1", "name": "Mine", "channelCount": 3}]
        }}}),
    )
    .await;
    let account = backend(&server).account().await.unwrap();
    let request = &server.received_requests().await.unwrap()[0];
    assert_eq!(request.url.path(), "/");
    assert_eq!(
        request.headers["authorization"].to_str().unwrap(),
        format!("Bearer {KEY}")
    );
    assert!(
        request.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    expect(&only_body(&server).await, "account", "Account", Value::Null);
    assert_eq!(account.id.as_str(), "acc1");
    assert_eq!(account.email.as_deref(), Some("me@example.com"));
    assert_eq!(account.organizations[0].channel_count, Some(3));
    assert_eq!(account.plan, None);
}

#[tokio::test]
async fn channels_list_every_organization_once_the_organizations_are_known() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"operationName": "Organizations"})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"account": {
                "organizations": [{"id": "org1"}, {"id": "org2"}]
            }}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(
            json!({"operationName": "ChannelsOfOrganizations"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "c0": [channel_json("c1", "linkedin", "org1")],
            "c1": [channel_json("c2", "linkedin", "org2")]
        }})))
        .mount(&server)
        .await;
    let buffer = backend_without_organization(&server);
    let channels = buffer.channels().await.unwrap();
    let ids: Vec<_> = channels.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["c1", "c2"]);
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["query"], document("organizations"));
    // Both organizations in one request: aliased fields of the `Channels` document's field.
    assert_eq!(sent[1]["operationName"], "ChannelsOfOrganizations");
    assert_eq!(
        sent[1]["variables"],
        json!({"o0": {"organizationId": "org1"}, "o1": {"organizationId": "org2"}})
    );
    let channel_operations = document("channel_operations");
    let fragment = &channel_operations[channel_operations.find("\nfragment ").unwrap() + 1..];
    assert_eq!(
        sent[1]["query"],
        format!(
            "query ChannelsOfOrganizations($o0: ChannelsInput!, $o1: ChannelsInput!) {{\n  \
             c0: channels(input: $o0) {{\n    ...ChannelFields\n  }}\n  \
             c1: channels(input: $o1) {{\n    ...ChannelFields\n  }}\n}}\n\n{}\n",
            fragment.trim_end()
        )
    );
    // The organizations are read once.
    buffer.channels().await.unwrap();
    assert_eq!(bodies(&server).await.len(), 3);

    let channel = &channels[0];
    assert_eq!(channel.service, Service::Linkedin);
    assert_eq!(channel.display_name.as_deref(), Some("Display"));
    assert_eq!(channel.organization_id, Some(OrganizationId::new("org1")));
    let days: Vec<_> = channel.schedules.iter().map(|s| s.day.clone()).collect();
    assert_eq!(days, [Day::Mon, Day::Sun], "week order");
    assert_eq!(channel.schedules[0].times, ["09:00", "17:30"]);
    assert!(channel.schedules[0].paused);
}

#[tokio::test]
async fn channel_and_schedules_ask_by_channel_id() {
    let server = MockServer::start().await;
    answer_json(
        &server,
        json!({"data": {"channel": channel_json("c1", "twitter", "org1")}}),
    )
    .await;
    let buffer = backend(&server);
    let channel = buffer.channel(&ChannelId::new("c1")).await.unwrap();
    assert_eq!(channel.name, "c1-handle");
    expect(
        &only_body(&server).await,
        "channel_operations",
        "Channel",
        json!({"input": {"id": "c1"}}),
    );

    let server = MockServer::start().await;
    answer_json(
        &server,
        json!({"data": {"channel": {"id": "c1", "timezone": "Europe/London", "postingSchedule": [
            {"day": "fri", "times": ["08:00"], "paused": false},
            {"day": "tue", "times": [], "paused": false}
        ]}}}),
    )
    .await;
    let schedules = backend(&server)
        .schedules(&ChannelId::new("c1"))
        .await
        .unwrap();
    // A day without times that is not paused reads like the classic API's absent day.
    assert_eq!(schedules.len(), 1);
    assert_eq!(
        (&schedules[0].day, &schedules[0].times[..]),
        (&Day::Fri, &["08:00".to_owned()][..])
    );
    expect(
        &only_body(&server).await,
        "channel_schedule",
        "ChannelSchedule",
        json!({"input": {"id": "c1"}}),
    );
}

#[tokio::test]
async fn a_post_reads_by_id_and_maps_assets_and_links() {
    let server = MockServer::start().await;
    let mut post = post_json("p1", "c1");
    post["channelService"] = json!("linkedin");
    post["status"] = json!("error");
    post["error"] = json!({"message": "Token expired", "supportUrl": "https://support"});
    post["metadata"] = json!({"__typename": "LinkedInPostMetadata", "linkAttachment": {
        "url": "https://example.com/a", "title": "A", "text": "About A", "thumbnail": null
    }});
    post["metrics"] = json!([{"name": "likes", "value": 4.0}]);
    answer_json(&server, json!({"data": {"post": post}})).await;
    let post = backend(&server).post(&PostId::new("p1")).await.unwrap();
    expect(
        &only_body(&server).await,
        "post_operations",
        "Post",
        json!({"input": {"id": "p1"}}),
    );
    assert_eq!(post.status, PostStatus::Error);
    assert_eq!(post.error.unwrap().message, "Token expired");
    assert_eq!(post.due_at, Some(at("2026-11-02T09:00:00Z")));
    assert_eq!(post.assets[0].kind, AssetKind::Image);
    assert_eq!(post.assets[0].alt_text.as_deref(), Some("a cat"));
    let link = post.link.unwrap();
    assert_eq!(
        (link.url.as_str(), link.description.as_deref()),
        ("https://example.com/a", Some("About A"))
    );
    assert_eq!(post.metrics["likes"], 4.0);
}

#[tokio::test]
async fn unknown_values_are_kept_not_fatal() {
    let server = MockServer::start().await;
    let mut post = post_json("p1", "c1");
    post["status"] = json!("archived");
    post["channelService"] = json!("whatsapp");
    post["assets"] = json!([{"__typename": "AudioAsset", "type": "audio", "source": "https://a", "thumbnail": ""}]);
    post["metadata"] = json!({"__typename": "WhatsAppPostMetadata"});
    answer_json(&server, json!({"data": {"post": post}})).await;
    let post = backend(&server).post(&PostId::new("p1")).await.unwrap();
    assert_eq!(post.status, PostStatus::Unknown("archived".into()));
    assert_eq!(post.service, Service::Unknown("whatsapp".into()));
    assert_eq!(post.assets[0].kind, AssetKind::Unknown("audio".into()));
    assert_eq!(post.assets[0].thumbnail, None);
}

#[tokio::test]
async fn queue_and_sent_use_buffers_filters_and_sort_orders() {
    let server = MockServer::start().await;
    answer_json(
        &server,
        json!({"data": {"posts": {
            "edges": [{"cursor": "k1", "node": post_json("p1", "c1")}, {"cursor": "k2", "node": post_json("p2", "c1")}],
            "pageInfo": {"hasNextPage": true, "endCursor": "k2"}
        }}}),
    )
    .await;
    let buffer = backend(&server);
    let queue = PostQuery::new("c1", PostList::Queue);
    let page = buffer.posts(&queue).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.total, None);
    let next = page.next.unwrap();
    assert_eq!((next.offset(), next.cursor()), (2, Some("k2")));

    let since = at("2026-10-01T00:00:00Z");
    let sent = PostQuery::new("c1", PostList::Sent)
        .since(since)
        .page(PageRequest::first(50));
    buffer.posts(&sent).await.unwrap();
    buffer
        .posts(&queue.clone().page(PageRequest::after(next, 20)))
        .await
        .unwrap();

    let sent_bodies = bodies(&server).await;
    expect(
        &sent_bodies[0],
        "post_operations",
        "Posts",
        json!({"input": {
            "organizationId": "org1",
            "filter": {"channelIds": ["c1"], "status": ["scheduled"]},
            "sort": [{"field": "dueAt", "direction": "asc"}]
        }, "first": 20}),
    );
    expect(
        &sent_bodies[1],
        "post_operations",
        "Posts",
        json!({"input": {
            "organizationId": "org1",
            "filter": {"channelIds": ["c1"], "status": ["sent"], "dueAt": {"start": "2026-10-01T00:00:00Z"}},
            "sort": [{"field": "createdAt", "direction": "desc"}]
        }, "first": 50}),
    );
    assert_eq!(sent_bodies[2]["variables"]["after"], "k2");
}

#[tokio::test]
async fn a_channel_outside_the_account_is_not_found_before_listing_posts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"operationName": "Organizations"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"account": {"organizations": [{"id": "org1"}]}}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"operationName": "Channels"})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"data": {"channels": [channel_json("c1", "twitter", "org1")]}}),
            ),
        )
        .mount(&server)
        .await;
    let buffer = backend_without_organization(&server);
    let error = buffer
        .posts(&PostQuery::new("elsewhere", PostList::Queue))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert!(
        bodies(&server)
            .await
            .iter()
            .all(|b| b["operationName"] != "Posts")
    );
}

#[tokio::test]
async fn ideas_daily_limits_and_create_idea() {
    let idea = json!({"id": "i1", "organizationId": "org1", "content": {"title": "T", "text": "x"},
                      "createdAt": 1_700_000_000, "updatedAt": 1_700_000_060});
    let server = MockServer::start().await;
    answer_json(
        &server,
        json!({"data": {"ideas": {"edges": [{"cursor": "i", "node": idea}],
                                  "pageInfo": {"hasNextPage": false, "endCursor": "i"}}}}),
    )
    .await;
    let page = backend(&server)
        .ideas(&OrganizationId::new("org1"), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(
        page.items[0].created_at,
        DateTime::from_timestamp(1_700_000_000, 0)
    );
    assert!(page.next.is_none());
    expect(
        &only_body(&server).await,
        "idea_operations",
        "Ideas",
        json!({"input": {"organizationId": "org1"}, "first": 10}),
    );

    let server = MockServer::start().await;
    answer_json(
        &server,
        json!({"data": {"dailyPostingLimits": [
            {"channelId": "c1", "isAtLimit": true, "limit": 10, "scheduled": 7, "sent": 3},
            {"channelId": "c2", "isAtLimit": false, "limit": null, "scheduled": 0, "sent": 0}
        ]}}),
    )
    .await;
    let limits = backend(&server)
        .daily_posting_limits(&[ChannelId::new("c1"), ChannelId::new("c2")])
        .await
        .unwrap();
    assert!(limits[0].is_at_limit);
    assert_eq!((limits[0].limit, limits[1].limit), (Some(10), None));
    expect(
        &only_body(&server).await,
        "daily_posting_limits",
        "DailyPostingLimits",
        json!({"input": {"channelIds": ["c1", "c2"]}}),
    );

    let server = MockServer::start().await;
    answer_json(
        &server,
        json!({"data": {"createIdea": {"__typename": "IdeaResponse", "idea": idea}}}),
    )
    .await;
    let created = backend(&server)
        .create_idea(&NewIdea::new("org1", "x").title("T"))
        .await
        .unwrap();
    assert_eq!(created.id.as_str(), "i1");
    expect(
        &only_body(&server).await,
        "idea_operations",
        "CreateIdea",
        json!({"input": {"organizationId": "org1", "content": {"title": "T", "text": "x"}}}),
    );
}

#[tokio::test]
async fn a_single_channel_create_sends_the_create_post_document() {
    let server = MockServer::start().await;
    answer_json(
        &server,
        json!({"data": {"createPost": success("p1", "c1")}}),
    )
    .await;
    let post = NewPost::new("hello")
        .channel("c1")
        .asset(Asset::image("https://cdn.example.com/a.png").with_alt_text("a cat"))
        .asset(Asset::video("https://cdn.example.com/b.mp4"))
        .when(When::Next);
    let outcome = backend(&server).create_post(&post).await.unwrap();
    assert!(outcome.is_complete());
    expect(
        &only_body(&server).await,
        "post_operations",
        "CreatePost",
        json!({"input": {
            "channelId": "c1",
            "text": "hello",
            "mode": "shareNext",
            "schedulingType": "automatic",
            "needsApproval": false,
            "assets": [
                {"image": {"url": "https://cdn.example.com/a.png", "metadata": {"altText": "a cat"}}},
                {"video": {"url": "https://cdn.example.com/b.mp4"}}
            ]
        }}),
    );
}

#[tokio::test]
async fn a_link_goes_to_the_metadata_of_the_channels_network() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"operationName": "Channels"})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"channels": [
                channel_json("c1", "facebook", "org1"),
                channel_json("c2", "twitter", "org1")
            ]}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"operationName": "CreatePost"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"createPost": success("p1", "c1")}})),
        )
        .mount(&server)
        .await;
    let post = NewPost::new("new article")
        .channels(["c1", "c2"])
        .link(Link::new("https://example.com/a").with_title("A"))
        .when(When::At(at("2026-12-24T18:00:00Z")));
    let outcome = backend(&server).create_post(&post).await.unwrap();
    // Twitter has no link attachment and the text lacks the URL: refused for that channel only.
    assert!(outcome.channels[0].result.is_created());
    let refused = outcome.channels[1].result.error().unwrap();
    assert_eq!(refused.kind(), ErrorKind::InvalidInput);
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2, "channel listing, then one create");
    let input = &sent[1]["variables"]["input"];
    assert_eq!(
        input["metadata"],
        json!({"facebook": {"type": "post", "linkAttachment": {"url": "https://example.com/a", "title": "A"}}})
    );
    assert_eq!(input["mode"], "customScheduled");
    assert_eq!(input["dueAt"], "2026-12-24T18:00:00Z");
    assert!(input["assets"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn edits_keep_clear_and_set_fields_on_the_wire() {
    let server = MockServer::start().await;
    answer_json(&server, json!({"data": {"editPost": success("p1", "c1")}})).await;
    let buffer = backend(&server);
    let id = PostId::new("p1");
    buffer.edit_post(&id, &PostEdit::default()).await.unwrap();
    let mut clear = PostEdit::default().clear_assets();
    clear.text = Patch::Clear;
    buffer.edit_post(&id, &clear).await.unwrap();
    let set = PostEdit::default()
        .text("fixed")
        .when(When::At(at("2026-12-01T08:00:00Z")));
    let edited = buffer.edit_post(&id, &set).await.unwrap();
    assert_eq!(edited.id, id);
    buffer.share_post(&id).await.unwrap();

    let sent = bodies(&server).await;
    expect(
        &sent[0],
        "post_operations",
        "EditPost",
        json!({"input": {"id": "p1"}}),
    );
    expect(
        &sent[1],
        "post_operations",
        "EditPost",
        json!({"input": {"id": "p1", "text": null, "assets": []}}),
    );
    expect(
        &sent[2],
        "post_operations",
        "EditPost",
        json!({"input": {"id": "p1", "text": "fixed", "mode": "customScheduled", "dueAt": "2026-12-01T08:00:00Z"}}),
    );
    expect(
        &sent[3],
        "post_operations",
        "EditPost",
        json!({"input": {"id": "p1", "mode": "shareNow"}}),
    );
}

#[tokio::test]
async fn changing_a_link_reads_the_posts_network_first() {
    let server = MockServer::start().await;
    let mut post = post_json("p1", "c1");
    post["channelService"] = json!("bluesky");
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"operationName": "Post"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"post": post}})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"operationName": "EditPost"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"editPost": success("p1", "c1")}})),
        )
        .mount(&server)
        .await;
    let edit = PostEdit::default().link(Link::new("https://example.com/b"));
    backend(&server)
        .edit_post(&PostId::new("p1"), &edit)
        .await
        .unwrap();
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[1]["variables"]["input"]["metadata"],
        json!({"bluesky": {"linkAttachment": {"url": "https://example.com/b"}}})
    );
}

#[tokio::test]
async fn delete_and_move_to_top() {
    let server = MockServer::start().await;
    answer_json(
        &server,
        json!({"data": {"deletePost": {"__typename": "DeletePostSuccess", "id": "p1"}}}),
    )
    .await;
    backend(&server)
        .delete_post(&PostId::new("p1"))
        .await
        .unwrap();
    expect(
        &only_body(&server).await,
        "post_operations",
        "DeletePost",
        json!({"input": {"id": "p1"}}),
    );

    // A VoidMutationError says only "it failed": the post is read, and the read's NOT_FOUND
    // (not the message's words) makes it NotFound; a post that is there leaves the refusal.
    for (read, kind) in [
        (
            json!({"data": null, "errors": [{"message": "m", "path": ["post"], "extensions": {"code": "NOT_FOUND"}}]}),
            ErrorKind::NotFound,
        ),
        (
            json!({"data": {"post": post_json("p1", "c1")}}),
            ErrorKind::Unexpected,
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(body_partial_json(json!({"operationName": "DeletePost"})))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"data": {"deletePost": {"__typename": "VoidMutationError", "message": "Post not found"}}}),
            ))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(body_partial_json(json!({"operationName": "Post"})))
            .respond_with(ResponseTemplate::new(200).set_body_json(read))
            .mount(&server)
            .await;
        let refused = backend(&server)
            .delete_post(&PostId::new("p1"))
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), kind, "{refused}");
        assert_eq!(refused.graphql_code(), Some("VoidMutationError"));
        let sent: Vec<Value> = bodies(&server)
            .await
            .into_iter()
            .map(|b| b["operationName"].clone())
            .collect();
        assert_eq!(sent, ["DeletePost", "Post"]);
    }

    let server = MockServer::start().await;
    answer_json(
        &server,
        json!({"data": {"movePostInQueue": success("p1", "c1")}}),
    )
    .await;
    let moved = backend(&server)
        .move_post_to_top(&PostId::new("p1"))
        .await
        .unwrap();
    assert_eq!(moved.id.as_str(), "p1");
    expect(
        &only_body(&server).await,
        "post_operations",
        "MovePostInQueue",
        json!({"input": {"id": "p1", "position": "top"}}),
    );
}

#[tokio::test]
async fn operations_graphql_lacks_fail_before_any_request() {
    let server = MockServer::start().await;
    answer_json(&server, json!({"data": {}})).await;
    let buffer = backend(&server);
    let channel = ChannelId::new("c1");
    let requests = [
        Request::Deauthorize,
        Request::UpdateSchedules {
            channel_id: channel.clone(),
            schedules: Vec::new(),
        },
        Request::Interactions {
            post_id: PostId::new("p1"),
            event: "likes".into(),
            page: PageRequest::first(20),
        },
        Request::ReorderQueue {
            channel_id: channel.clone(),
            order: vec![PostId::new("p1")],
            offset: None,
        },
        Request::ShuffleQueue {
            channel_id: channel.clone(),
            count: None,
        },
        Request::LinkShares {
            url: "https://example.com".into(),
        },
        Request::Configuration,
    ];
    for request in requests {
        let operation = request.operation();
        match buffer.execute(request).await {
            Err(Error::Unsupported {
                operation: refused,
                backend,
                hint,
                ..
            }) => {
                assert_eq!((refused, backend), (operation, BackendKind::GraphQl));
                assert_eq!(
                    Some(hint.as_str()),
                    operation.unsupported_hint(BackendKind::GraphQl)
                );
            }
            other => panic!("{operation}: expected Unsupported, got {other:?}"),
        }
        assert!(!buffer.capabilities().supports(operation));
    }
    assert!(bodies(&server).await.is_empty(), "no request was sent");
    assert!(buffer.capabilities().supports(Operation::Ideas));
}

// ---- errors ----

async fn post_error(template: ResponseTemplate) -> (Error, buffer_bridge::graphql::GraphQl) {
    let server = MockServer::start().await;
    answer(&server, template).await;
    let buffer = backend(&server);
    let error = buffer.post(&PostId::new("p1")).await.unwrap_err();
    assert!(
        !error.to_string().contains(KEY) && !format!("{error:?}").contains(KEY),
        "the key leaked: {error:?}"
    );
    (error, buffer)
}

#[tokio::test]
async fn a_401_without_a_valid_key_is_unauthorized() {
    let (error, _) =
        post_error(ResponseTemplate::new(401).set_body_string(fixture("unauthenticated_401.json")))
            .await;
    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    assert!(error.to_string().contains("JWT or Access Token"), "{error}");
    let (empty, _) = post_error(ResponseTemplate::new(401)).await;
    assert_eq!(empty.kind(), ErrorKind::Unauthorized);
}

#[tokio::test]
async fn both_429_bodies_carry_the_wait() {
    let (error, _) = post_error(
        ResponseTemplate::new(429).set_body_string(fixture("rate_limited_429_retry_after.json")),
    )
    .await;
    assert!(matches!(
        error,
        Error::RateLimited { retry_after: Some(wait), .. } if wait == Duration::from_secs(900)
    ));

    // The newer body names the window; the wait is that window's reset from the headers.
    let (error, buffer) = post_error(
        ResponseTemplate::new(429)
            .set_body_string(fixture("rate_limited_429_window.json"))
            .append_header("RateLimit", "\"100-in-15min\";r=0;t=897")
            .append_header("RateLimit", "\"250-in-1day\";r=40;t=50000")
            .append_header("RateLimit-Policy", "\"100-in-15min\";q=100;w=900")
            .append_header("RateLimit-Policy", "\"250-in-1day\";q=250;w=86400"),
    )
    .await;
    assert!(matches!(
        error,
        Error::RateLimited { retry_after: Some(wait), .. } if wait == Duration::from_secs(897)
    ));
    let limits = buffer.rate_limits().unwrap();
    let day = limits
        .window(buffer_bridge::http::rate_limit::ONE_DAY)
        .unwrap();
    assert_eq!((day.limit, day.remaining), (Some(250), Some(40)));

    // Retry-After wins over the window when both are there.
    let (error, _) = post_error(
        ResponseTemplate::new(429)
            .set_body_string(fixture("rate_limited_429_window.json"))
            .insert_header("Retry-After", "30")
            .append_header("RateLimit", "\"100-in-15min\";r=0;t=897")
            .append_header("RateLimit-Policy", "\"100-in-15min\";q=100;w=900"),
    )
    .await;
    assert!(matches!(
        error,
        Error::RateLimited { retry_after: Some(wait), .. } if wait == Duration::from_secs(30)
    ));
}

#[tokio::test]
async fn a_validation_failure_says_it_is_our_bug_or_schema_drift() {
    let (error, _) = post_error(
        ResponseTemplate::new(400).set_body_string(fixture("validation_failed_400.json")),
    )
    .await;
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let text = error.to_string();
    assert!(text.contains("automatic_publishing"), "{text}");
    assert!(text.contains("bug in buffer-bridge"), "{text}");
}

#[tokio::test]
async fn errors_by_extension_code_on_http_200() {
    let (error, _) =
        post_error(ResponseTemplate::new(200).set_body_string(fixture("not_authorized_200.json")))
            .await;
    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    let cases = [
        ("NOT_FOUND", ErrorKind::NotFound),
        ("FORBIDDEN", ErrorKind::Unauthorized),
        ("UNEXPECTED", ErrorKind::Unexpected),
        ("SOMETHING_NEW", ErrorKind::Unexpected),
    ];
    for (code, kind) in cases {
        let (error, _) = post_error(ResponseTemplate::new(200).set_body_json(json!({
            "data": null, "errors": [{"message": "m", "extensions": {"code": code}}]
        })))
        .await;
        assert_eq!(error.kind(), kind, "{code}");
    }
    // A read with data and errors is refused rather than returned with holes.
    let (partial, _) = post_error(ResponseTemplate::new(200).set_body_json(json!({
        "data": {"post": post_json("p1", "c1")},
        "errors": [{"message": "metrics unavailable", "path": ["post", "metrics"]}]
    })))
    .await;
    assert_eq!(partial.kind(), ErrorKind::Unexpected);
}

#[tokio::test]
async fn bodies_that_are_not_graphql_are_protocol_errors_with_a_redacted_snippet() {
    let html = format!("<html><body>Bad gateway for {KEY}</body></html>");
    let (error, _) = post_error(ResponseTemplate::new(200).set_body_string(html)).await;
    match &error {
        Error::Protocol {
            status, snippet, ..
        } => {
            assert_eq!(*status, Some(200));
            assert!(snippet.starts_with("<html>"), "{snippet}");
            assert!(snippet.contains("[redacted]"), "{snippet}");
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
    for body in [
        "",
        "{\"data\": {\"post\": {\"id\"",
        "[]",
        "{\"data\": {\"post\": {\"id\": 5}}}",
    ] {
        let (error, _) = post_error(ResponseTemplate::new(200).set_body_string(body)).await;
        assert_eq!(error.kind(), ErrorKind::Protocol, "{body:?}");
    }
    let (outage, _) =
        post_error(ResponseTemplate::new(503).set_body_string("<html>down</html>")).await;
    assert!(
        matches!(outage, Error::Server { status: 503, .. }),
        "{outage:?}"
    );
    assert!(outage.is_transient());
    let (coded, _) = post_error(ResponseTemplate::new(500).set_body_json(
        json!({"errors": [{"message": "Internal", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}),
    ))
    .await;
    assert!(
        matches!(coded, Error::Server { status: 500, .. }),
        "{coded:?}"
    );
}

#[tokio::test]
async fn union_members_become_typed_errors() {
    let cases = [
        (
            "create_post_invalid_input.json",
            ErrorKind::InvalidInput,
            "Instagram posts require",
        ),
        (
            "create_post_not_found.json",
            ErrorKind::NotFound,
            "Channel not found",
        ),
        (
            "create_post_text_required.json",
            ErrorKind::InvalidInput,
            "Text is required",
        ),
    ];
    for (name, kind, words) in cases {
        let server = MockServer::start().await;
        answer(
            &server,
            ResponseTemplate::new(200).set_body_string(fixture(name)),
        )
        .await;
        let outcome = backend(&server)
            .create_post(&NewPost::new("x").channel("c1"))
            .await
            .unwrap();
        let error = outcome.channels[0].result.error().unwrap();
        assert_eq!(error.kind(), kind, "{name}");
        assert!(error.to_string().contains(words), "{error}");
    }
    let others = [
        (
            json!({"__typename": "RestProxyError", "message": "Whoops, duplicate", "code": 1025, "link": null}),
            ErrorKind::InvalidInput,
        ),
        (
            json!({"__typename": "LimitReachedError", "message": "Queue limit reached"}),
            ErrorKind::LimitReached,
        ),
        (
            json!({"__typename": "UnauthorizedError", "message": "no"}),
            ErrorKind::Unauthorized,
        ),
        (
            json!({"__typename": "UnexpectedError", "message": "boom"}),
            ErrorKind::Unexpected,
        ),
        (
            json!({"__typename": "PostQuotaError"}),
            ErrorKind::Unexpected,
        ),
    ];
    for (member, kind) in others {
        let server = MockServer::start().await;
        answer_json(&server, json!({"data": {"createPost": member.clone()}})).await;
        let outcome = backend(&server)
            .create_post(&NewPost::new("x").channel("c1"))
            .await
            .unwrap();
        let error = outcome.channels[0].result.error().unwrap();
        assert_eq!(error.kind(), kind, "{member}");
        if member["code"] == 1025 {
            assert!(error.is_duplicate());
        }
        if member["__typename"] == "PostQuotaError" {
            assert!(error.to_string().contains("PostQuotaError"), "{error}");
        }
    }
}

#[tokio::test]
async fn warnings_are_kept_for_the_caller() {
    let server = MockServer::start().await;
    let extensions: Value = serde_json::from_str(&fixture("warnings_extensions.json")).unwrap();
    answer_json(
        &server,
        json!({"data": {"post": post_json("p1", "c1")}, "extensions": extensions}),
    )
    .await;
    let buffer = backend(&server);
    assert!(buffer.last_warnings().is_empty());
    buffer.post(&PostId::new("p1")).await.unwrap();
    let warnings = buffer.last_warnings();
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        warnings[0].code.as_deref(),
        Some("DEPRECATED_LEGACY_ASSETS_INPUT")
    );
    assert_eq!(warnings[0].paths, ["input.assets"]);
}

#[tokio::test]
async fn the_builder_refuses_what_cannot_work() {
    assert!(
        buffer_bridge::graphql::GraphQl::builder()
            .build()
            .is_err_and(|e| e.kind() == ErrorKind::InvalidInput)
    );
    for aliases in [0, 31] {
        assert!(
            buffer_bridge::graphql::GraphQl::builder()
                .api_key("k")
                .max_aliases(aliases)
                .build()
                .is_err()
        );
    }
    assert!(
        buffer_bridge::graphql::GraphQl::builder()
            .api_key("k")
            .base_url("http://api.buffer.com")
            .build()
            .is_err(),
        "plain http off loopback"
    );
    let buffer = buffer_bridge::graphql::GraphQl::builder()
        .api_key(KEY)
        .build()
        .unwrap();
    assert!(!format!("{buffer:?}").contains(KEY));
    assert_eq!(buffer.kind(), BackendKind::GraphQl);
}
