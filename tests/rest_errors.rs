//! How the classic backend reads failures and odd answers: every documented error code, the
//! recorded empty 401, rate limits, HTML pages, truncated JSON, and values it does not know.

#[path = "common/rest.rs"]
mod common;

use buffer_bridge::error::LEGACY_CODES;
use buffer_bridge::model::{ChannelType, Day, NewPost, PostList, PostQuery, PostStatus, Service};
use buffer_bridge::{Backend, Error, ErrorKind, Request, Response};
use common::{backend, edited, exchange, fixture, json};
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PROFILE: &str = "4eb854340acb04e870000010";

/// The body shape Buffer's SDKs read, filled from the documented code table.
fn error_body(code: u16, message: &str) -> String {
    json!({"success": false, "code": code, "error": message}).to_string()
}

#[tokio::test]
async fn every_documented_code_maps_to_its_kind_and_keeps_the_code() {
    let server = MockServer::start().await;
    for code in LEGACY_CODES {
        let answer = json(code.http_status, &error_body(code.code, code.message));
        Mock::given(method("GET"))
            .and(path(format!("/1/updates/c{}.json", code.code)))
            .respond_with(answer.clone())
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/1/updates/c{}/share.json", code.code)))
            .respond_with(answer)
            .mount(&server)
            .await;
    }
    let rest = backend(&server);
    assert_eq!(LEGACY_CODES.len(), 37);
    for code in LEGACY_CODES {
        let id = format!("c{}", code.code);
        for request in [
            Request::Post {
                id: id.as_str().into(),
            },
            Request::SharePost {
                id: id.as_str().into(),
            },
        ] {
            let operation = request.operation();
            let error = rest.execute(request).await.unwrap_err();
            assert_eq!(
                error.kind(),
                code.kind,
                "code {} on {operation}: {error}",
                code.code
            );
            assert_eq!(
                error.legacy_code(),
                Some(code.code),
                "code {} on {operation}",
                code.code
            );
            assert!(
                error.to_string().contains(code.message),
                "code {} keeps Buffer's text: {error}",
                code.code
            );
        }
    }
}

#[tokio::test]
async fn the_recorded_empty_401_is_unauthorized() {
    let empty = ResponseTemplate::new(401)
        .insert_header("content-type", "text/html; charset=UTF-8")
        .insert_header(
            "www-authenticate",
            "OAuth realm='Service', error='invalid_request'",
        );
    let (result, _) = exchange(
        Request::Post {
            id: "519464f2872cad3734000028".into(),
        },
        empty,
    )
    .await;
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    assert_eq!(error.legacy_code(), None);
    assert!(error.to_string().contains("401"), "{error}");
}

#[tokio::test]
async fn success_false_on_http_200_is_an_error() {
    let body = error_body(
        1027,
        "Update must be in buffer and not custom scheduled in order to move to top.",
    );
    let (result, _) = exchange(Request::MovePostToTop { id: "u".into() }, json(200, &body)).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert_eq!(error.legacy_code(), Some(1027));

    let (result, _) = exchange(
        Request::DeletePost { id: "u".into() },
        json(200, r#"{"success":false}"#),
    )
    .await;
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Unexpected);
}

#[tokio::test]
async fn rate_limits_carry_retry_after() {
    let bare = ResponseTemplate::new(429).insert_header("retry-after", "30");
    let (result, _) = exchange(Request::Channels, bare).await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, Error::RateLimited { retry_after: Some(wait), .. } if wait == Duration::from_secs(30)),
        "{error:?}"
    );
    assert_eq!(error.legacy_code(), Some(429));

    let coded = json(429, &error_body(429, "Too Many Requests.")).insert_header("retry-after", "5");
    let (result, _) = exchange(Request::Channels, coded).await;
    assert!(matches!(
        result.unwrap_err(),
        Error::RateLimited { retry_after: Some(wait), .. } if wait == Duration::from_secs(5)
    ));

    let (result, _) = exchange(Request::Channels, ResponseTemplate::new(429)).await;
    assert!(matches!(
        result.unwrap_err(),
        Error::RateLimited {
            retry_after: None,
            ..
        }
    ));
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(200, &fixture("profiles.json")).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let rest = buffer_bridge::rest::ClassicRest::builder()
        .access_token(common::TOKEN)
        .base_url(format!("{}/1/", server.uri()))
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let error = rest.execute(Request::Channels).await.unwrap_err();
    assert!(
        matches!(error, Error::Timeout { after: Some(after), .. } if after == Duration::from_millis(100)),
        "{error:?}"
    );
}

#[tokio::test]
async fn server_error_pages_keep_their_status() {
    let html = ResponseTemplate::new(502)
        .insert_header("content-type", "text/html")
        .set_body_string("<html><body><h1>502 Bad Gateway</h1></body></html>");
    let (result, _) = exchange(Request::Account, html).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unexpected);
    assert!(error.to_string().contains("HTTP 502"), "{error}");

    let coded = json(500, &error_body(1000, "An unknown error occurred."));
    let (result, _) = exchange(Request::Account, coded).await;
    let error = result.unwrap_err();
    assert_eq!(
        (error.kind(), error.legacy_code()),
        (ErrorKind::Unexpected, Some(1000))
    );

    let (result, _) = exchange(Request::Account, ResponseTemplate::new(404)).await;
    assert_eq!(result.unwrap_err().kind(), ErrorKind::NotFound);
}

/// Requests of every answer shape: a list, an object, a page, a wrapped list, a message.
fn requests() -> Vec<Request> {
    vec![
        Request::Account,
        Request::Channels,
        Request::Channel { id: PROFILE.into() },
        Request::Schedules {
            channel_id: PROFILE.into(),
        },
        Request::Posts {
            query: PostQuery::new(PROFILE, PostList::Queue),
        },
        Request::Post { id: "u".into() },
        Request::CreatePost {
            post: NewPost::new("hi").channel(PROFILE),
        },
        Request::ShuffleQueue {
            channel_id: PROFILE.into(),
            count: None,
        },
        Request::LinkShares {
            url: "http://google.com".into(),
        },
        Request::Configuration,
    ]
}

#[tokio::test]
async fn unreadable_success_bodies_are_protocol_errors_on_every_shape() {
    let profiles = fixture("profiles.json");
    let bad_bodies = [
        ("empty", String::new()),
        (
            "html",
            "<!DOCTYPE html><html><body>Maintenance</body></html>".to_owned(),
        ),
        ("truncated", profiles[..profiles.len() / 2].to_owned()),
        ("null item", "[null]".to_owned()),
    ];
    for (name, body) in &bad_bodies {
        for request in requests() {
            let operation = request.operation();
            let (result, _) = exchange(request, json(200, body)).await;
            match result {
                Err(error) => assert_eq!(
                    error.kind(),
                    ErrorKind::Protocol,
                    "{name} body on {operation}: {error}"
                ),
                // A create whose answer is unreadable may still have been done: every channel
                // is unknown, carrying the protocol error, never created or failed.
                Ok(buffer_bridge::Response::Created(outcome))
                    if outcome.channels.iter().all(|c| {
                        c.result.is_unknown()
                            && c.result.error().map(|e| e.kind()) == Some(ErrorKind::Protocol)
                    }) => {}
                Ok(buffer_bridge::Response::CreatedMany(outcomes))
                    if outcomes.iter().flat_map(|o| &o.channels).all(|c| {
                        c.result.is_unknown()
                            && c.result.error().map(|e| e.kind()) == Some(ErrorKind::Protocol)
                    }) => {}
                Ok(response) => panic!("{name} body on {operation} was accepted: {response:?}"),
            }
        }
    }
}

#[tokio::test]
async fn unknown_values_and_fields_are_kept_or_ignored() {
    let body = edited("pending.json", |v| {
        let update = &mut v["updates"][0];
        update["status"] = json!("archived");
        update["profile_service"] = json!("myspace");
        update["created_at"] = json!("not a time");
        update["statistics"] = json!({"reach": "12", "by_hour": [1, 2]});
        update["brand_new"] = json!({"nested": [true]});
        v["cursor"] = json!("ignored");
    });
    let request = Request::Posts {
        query: PostQuery::new(PROFILE, PostList::Queue),
    };
    let (result, _) = exchange(request, json(200, &body)).await;
    let Ok(Response::Posts(page)) = result else {
        panic!("{result:?}")
    };
    let post = &page.items[0];
    assert_eq!(post.status, PostStatus::Unknown("archived".into()));
    assert_eq!(post.service, Service::Unknown("myspace".into()));
    assert_eq!(post.created_at, None);
    assert_eq!(post.metrics.get("reach"), Some(&12.0));
    assert_eq!(post.metrics.len(), 1);

    let body = edited("profiles.json", |v| {
        let profile = &mut v[0];
        profile["service"] = json!("myspace");
        profile["service_type"] = json!("community");
        profile["disconnected"] = json!("token expired");
        profile["schedules"] = json!([{"days": ["mon", "funday"], "times": ["09:00"]}]);
        profile["permissions"] = json!(["x"]);
    });
    let (result, _) = exchange(Request::Channels, json(200, &body)).await;
    let Ok(Response::Channels(channels)) = result else {
        panic!("{result:?}")
    };
    let channel = &channels[0];
    assert_eq!(channel.service, Service::Unknown("myspace".into()));
    assert_eq!(
        channel.channel_type,
        ChannelType::Unknown("community".into())
    );
    assert!(channel.is_disconnected);
    let days: Vec<Day> = channel.schedules.iter().map(|s| s.day.clone()).collect();
    assert_eq!(days, [Day::Mon, Day::Unknown("funday".into())]);

    let body = edited("update.json", |v| {
        v["status"] = json!("error");
        v["id"] = Value::Null;
        v["_id"] = json!("4eb8565e0acb04bb82000004");
    });
    let (result, _) = exchange(Request::Post { id: "u".into() }, json(200, &body)).await;
    let Ok(Response::Post(post)) = result else {
        panic!("{result:?}")
    };
    assert_eq!(post.status, PostStatus::Error);
    assert_eq!(
        post.id.as_str(),
        "4eb8565e0acb04bb82000004",
        "`_id` stands in for `id`"
    );
}

#[tokio::test]
async fn answers_missing_what_the_model_needs_are_protocol_errors() {
    let cases = [
        (Request::Post { id: "u".into() }, r#"{"text":"no id"}"#),
        (Request::Channels, r#"[{"service":"twitter"}]"#),
        (Request::LinkShares { url: "u".into() }, r#"{"shared":1}"#),
        (
            Request::EditPost {
                id: "u".into(),
                edit: buffer_bridge::model::PostEdit::default().text("x"),
            },
            r#"{"success":true}"#,
        ),
    ];
    for (request, body) in cases {
        let operation = request.operation();
        let (result, _) = exchange(request, json(200, body)).await;
        assert_eq!(
            result.unwrap_err().kind(),
            ErrorKind::Protocol,
            "{operation}: {body}"
        );
    }
}
