//! Errors a program can match: why Buffer refused an input (`Error::reason`), on both backends
//! alike, and who refused it (`Error::origin`), without reading message text.
//!
//! Behaviour runs on the simulator and is checked against its store and request log; GraphQL
//! decoding runs on the recorded bodies of `tests/fixtures/graphql` (graphql.md §4).

#[path = "common/sim.rs"]
mod sim;

mod graphql_support;

use buffer_bridge::error::{InvalidReason, Origin};
use buffer_bridge::model::{Asset, ChannelId, CreateOutcome, Link, NewPost, When};
use buffer_bridge::{Backend, BackendExt, BackendKind, Error, ErrorKind};
use buffer_sim::{Api, Service};
use chrono::{Duration, Utc};
use graphql_support::{backend, fixture};
use serde_json::{Value, json};
use sim::Both;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn channel(both: &Both, service: Service) -> ChannelId {
    ChannelId::new(both.sim.demo().channel(service).expect("seeded").id.clone())
}

/// The one channel's error of a create that Buffer refused.
async fn refused(backend: &dyn Backend, post: &NewPost) -> Error {
    let outcome: CreateOutcome = backend
        .create_post(post)
        .await
        .expect("a refusal is the channel's outcome, not the call's");
    let (_, error) = outcome.failures().next().expect("the create is refused");
    error.clone()
}

/// Requests the simulator answered on `api`.
fn requests(both: &Both, api: Api) -> usize {
    both.sim.request_count(api)
}

fn api(kind: BackendKind) -> Api {
    match kind {
        BackendKind::ClassicRest => Api::Rest,
        BackendKind::GraphQl => Api::GraphQl,
    }
}

#[tokio::test]
async fn a_duplicate_is_told_by_its_reason_on_both_backends() {
    let both = Both::start().await;
    let mastodon = channel(&both, Service::Mastodon);
    for (kind, backend) in both.each() {
        let text = format!("Said once, through {kind}");
        let post = NewPost::new(&text).channel(mastodon.clone());
        let first = backend.create_post(&post).await.unwrap();
        assert!(first.is_complete(), "{:?}", first.failures().next());
        let sent = requests(&both, api(kind));
        let again = refused(backend, &post).await;
        assert_eq!(
            again.reason(),
            Some(InvalidReason::Duplicate),
            "{kind}: {again}"
        );
        assert!(again.is_duplicate(), "{kind}: {again}");
        assert_eq!(again.origin(), Some(Origin::Buffer), "{kind}: {again}");
        assert!(
            requests(&both, api(kind)) > sent,
            "{kind}: Buffer refused it, so it was sent"
        );
        assert_eq!(
            both.sim.store().count_with_text(mastodon.as_str(), &text),
            1,
            "{kind}: the duplicate made no post"
        );
    }
}

#[tokio::test]
async fn too_long_media_required_and_past_times_are_told_by_reason_on_both_backends() {
    let both = Both::start().await;
    let twitter = channel(&both, Service::Twitter);
    let instagram = channel(&both, Service::Instagram);
    let mastodon = channel(&both, Service::Mastodon);
    for (kind, backend) in both.each() {
        let long = format!("{kind} {}", "x".repeat(300));
        let cases = [
            (
                NewPost::new(&long).channel(twitter.clone()),
                InvalidReason::TooLong,
                (twitter.clone(), long.clone()),
            ),
            (
                NewPost::new(format!("No picture, through {kind}")).channel(instagram.clone()),
                InvalidReason::MediaRequired,
                (instagram.clone(), format!("No picture, through {kind}")),
            ),
            (
                NewPost::new(format!("Too late, through {kind}"))
                    .channel(mastodon.clone())
                    .when(When::At(Utc::now() - Duration::days(400))),
                InvalidReason::PastDueTime,
                (mastodon.clone(), format!("Too late, through {kind}")),
            ),
        ];
        for (post, reason, (channel, text)) in cases {
            let error = refused(backend, &post).await;
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{kind}: {error}");
            assert_eq!(error.reason(), Some(reason), "{kind}: {error}");
            assert_eq!(error.origin(), Some(Origin::Buffer), "{kind}: {error}");
            assert!(!error.is_duplicate());
            assert_eq!(
                both.sim.store().count_with_text(channel.as_str(), &text),
                0,
                "{kind}: {reason:?} made no post"
            );
        }
    }
}

#[tokio::test]
async fn what_a_backend_refuses_before_sending_is_local_with_the_same_reasons() {
    let both = Both::start().await;
    let twitter = channel(&both, Service::Twitter);
    let facebook = channel(&both, Service::Facebook);
    let preview = Link::new("https://example.com/launch");
    let cases = [
        (
            NewPost::new("Launch")
                .channel(twitter)
                .link(preview.clone()),
            InvalidReason::NoLinkPreview,
        ),
        (
            NewPost::new("Launch")
                .channel(facebook)
                .asset(Asset::image("https://cdn.example.com/launch.png"))
                .link(preview),
            InvalidReason::LinkWithMedia,
        ),
    ];
    for (post, reason) in cases {
        let sent = requests(&both, Api::GraphQl);
        let error = refused(&both.graphql, &post).await;
        assert_eq!(error.reason(), Some(reason), "{error}");
        assert_eq!(error.origin(), Some(Origin::Local), "{error}");
        // Reading the channels' networks may cost requests; no create was sent.
        let creates = both
            .sim
            .requests()
            .iter()
            .skip(sent)
            .filter(|r| r.root_fields.iter().any(|f| f == "createPost"))
            .count();
        assert_eq!(creates, 0, "{reason:?} was refused before sending");
    }
    // What the classic API cannot carry is refused by the backend too.
    let sent = requests(&both, Api::Rest);
    let two_images = NewPost::new("Two pictures")
        .channel(channel(&both, Service::Mastodon))
        .asset(Asset::image("https://cdn.example.com/1.png"))
        .asset(Asset::image("https://cdn.example.com/2.png"));
    let error = both.rest.create_post(&two_images).await.map_or_else(
        |error| error,
        |outcome| outcome.failures().next().expect("refused").1.clone(),
    );
    assert_eq!(error.origin(), Some(Origin::Local), "{error}");
    assert_eq!(requests(&both, Api::Rest), sent, "nothing was sent");
}

/// The error of a create answered with `body`.
async fn create_answered(body: &str, status: u16) -> Error {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    let result = backend(&server)
        .create_post(&NewPost::new("x").channel("c1"))
        .await;
    match result {
        Ok(outcome) => outcome.channels[0]
            .result
            .error()
            .expect("a refusal")
            .clone(),
        Err(error) => error,
    }
}

#[tokio::test]
async fn recorded_graphql_refusals_decode_to_their_reasons() {
    let cases = [
        // "Invalid post: Instagram posts require at least one image or video., Instagram
        // posts require a type (post, story, or reel)." The first refusal is the reason.
        (
            "create_post_invalid_input.json",
            InvalidReason::MediaRequired,
        ),
        ("create_post_text_required.json", InvalidReason::EmptyPost),
    ];
    for (name, reason) in cases {
        let error = create_answered(&fixture(name), 200).await;
        assert_eq!(error.reason(), Some(reason), "{name}: {error}");
        assert_eq!(error.origin(), Some(Origin::Buffer), "{name}");
        assert_eq!(error.graphql_code(), Some("InvalidInputError"), "{name}");
    }
    let not_found = create_answered(&fixture("create_post_not_found.json"), 200).await;
    assert_eq!(not_found.kind(), ErrorKind::NotFound);
    assert_eq!(not_found.reason(), None);
    assert_eq!(not_found.graphql_code(), Some("NotFoundError"));
    // Buffer's answer to a document it refuses (HTTP 400): its refusal, not a local one.
    let invalid = create_answered(&fixture("validation_failed_400.json"), 400).await;
    assert_eq!(invalid.kind(), ErrorKind::InvalidInput, "{invalid}");
    assert_eq!(invalid.origin(), Some(Origin::Buffer));
    assert_eq!(invalid.reason(), Some(InvalidReason::Other));
    assert_eq!(invalid.graphql_code(), Some("GRAPHQL_VALIDATION_FAILED"));
}

#[tokio::test]
async fn a_graphql_duplicate_in_buffers_words_or_proxied_as_1025_is_a_duplicate() {
    // Buffer records a duplicate only in the classic words (rest-v1.md §1.2); a GraphQL
    // InvalidInputError in those words, or a RestProxyError with the classic code, is one.
    let member = |member: Value| json!({"data": {"createPost": member}}).to_string();
    let worded = create_answered(
        &member(json!({
            "__typename": "InvalidInputError",
            "message": "Update was recently posted, can't post duplicate content."
        })),
        200,
    )
    .await;
    assert!(worded.is_duplicate(), "{worded}");
    assert_eq!(worded.legacy_code(), None, "no code was sent");
    let proxied = create_answered(
        &member(json!({
            "__typename": "RestProxyError",
            "message": "Whoops",
            "code": 1025,
            "link": null
        })),
        200,
    )
    .await;
    assert_eq!(
        proxied.reason(),
        Some(InvalidReason::Duplicate),
        "{proxied}"
    );
    assert_eq!(proxied.legacy_code(), Some(1025));
    let other = create_answered(
        &member(json!({"__typename": "InvalidInputError", "message": "Something new"})),
        200,
    )
    .await;
    assert_eq!(other.reason(), Some(InvalidReason::Other));
    assert!(!other.is_duplicate());
}

#[tokio::test]
async fn an_unknown_extensions_code_is_kept_as_data() {
    // The recorded shape (graphql.md §4.2) with a code this version does not know.
    let recorded: Value = serde_json::from_str(&fixture("not_authorized_200.json")).unwrap();
    let known = create_answered(&recorded.to_string(), 200).await;
    assert_eq!(known.kind(), ErrorKind::Unauthorized);
    assert_eq!(known.graphql_code(), Some("UNAUTHORIZED"));
    let mut unknown = recorded;
    unknown["errors"][0]["extensions"]["code"] = json!("POSTING_PAUSED");
    let error = create_answered(&unknown.to_string(), 200).await;
    assert_eq!(error.kind(), ErrorKind::Unexpected, "{error}");
    assert_eq!(error.graphql_code(), Some("POSTING_PAUSED"));
    assert_eq!(
        error.message(),
        "Not authorized",
        "the code is not folded into the text"
    );
}
