//! The classic backend's exact wire format, endpoint by endpoint: method, path, query, form
//! body and headers of what goes out, and the model read from the bodies Buffer recorded.

#[path = "common/rest.rs"]
mod common;

use buffer_bridge::model::{
    Asset, AssetKind, ChannelId, ChannelType, Day, Link, NewIdea, NewPost, PageRequest, PageToken,
    Patch, PostEdit, PostId, PostList, PostQuery, PostStatus, Schedule, Service, When,
};
use buffer_bridge::{Backend, BackendExt, BackendKind, Error, ErrorKind, Request, Response};
use chrono::DateTime;
use common::{Sent, TOKEN, backend, edited, exchange, fixture, json, sent, server_answering};
use futures::TryStreamExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const PROFILE: &str = "4eb854340acb04e870000010";
const OTHER_PROFILE: &str = "4eb9276e0acb04bb81000067";
const UPDATE: &str = "4ecda256512f7ee521000004";
const FORM: &str = "application/x-www-form-urlencoded";

/// Checks one request completely: method, path, query, body and headers.
fn assert_sent(sent: &[Sent], method: &str, path: &str, query: Option<&str>, body: &str) {
    assert_eq!(sent.len(), 1, "exactly one request: {sent:#?}");
    let request = &sent[0];
    assert_eq!(request.method, method);
    assert_eq!(request.path, path);
    assert_eq!(request.query.as_deref(), query);
    assert_eq!(request.body, body);
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let content_type = (method == "POST").then_some(FORM);
    assert_eq!(request.content_type.as_deref(), content_type);
}

async fn call(request: Request, fixture_name: &str) -> (Response, Vec<Sent>) {
    let (result, sent) = exchange(request, json(200, &fixture(fixture_name))).await;
    (result.expect("the recorded body decodes"), sent)
}

fn at(seconds: i64) -> Option<DateTime<chrono::Utc>> {
    DateTime::from_timestamp(seconds, 0)
}

#[tokio::test]
async fn account_reads_user() {
    let (response, sent) = call(Request::Account, "user.json").await;
    assert_sent(&sent, "GET", "/1/user.json", None, "");
    let Response::Account(account) = response else {
        panic!("{response:?}")
    };
    assert_eq!(account.id.as_str(), "4f0c0a06512f7ef214000000");
    assert_eq!(account.plan.as_deref(), Some("premium"));
    assert_eq!(account.timezone.as_deref(), Some("Asia/Tel_Aviv"));
    assert_eq!(account.created_at, at(1_326_189_062));
    assert!(account.organizations.is_empty());

    let (response, _) = call(Request::Account, "user_official.json").await;
    assert!(matches!(response, Response::Account(a) if a.plan.as_deref() == Some("free")));
}

#[tokio::test]
async fn deauthorize_posts_an_empty_form() {
    let (response, sent) = call(Request::Deauthorize, "deauthorize.json").await;
    assert_sent(&sent, "POST", "/1/user/deauthorize.json", None, "");
    assert!(matches!(response, Response::Deauthorized));
}

#[tokio::test]
async fn channels_read_the_captured_profiles() {
    let (response, sent) = call(Request::Channels, "profiles.json").await;
    assert_sent(&sent, "GET", "/1/profiles.json", None, "");
    let Response::Channels(channels) = response else {
        panic!("{response:?}")
    };
    assert_eq!(channels.len(), 1);
    let channel = &channels[0];
    assert_eq!(channel.id.as_str(), "5160746d13d04a5e3a00000f");
    assert_eq!(channel.service, Service::Twitter);
    assert_eq!(channel.channel_type, ChannelType::Profile);
    assert_eq!(channel.name, "example");
    assert_eq!(channel.display_name.as_deref(), Some("@example"));
    assert_eq!(channel.service_id.as_deref(), Some("737649619"));
    assert_eq!(
        channel.avatar.as_deref(),
        Some("https://twimg0-a.akamaihd.net/profile_images/3604112130.jpeg")
    );
    assert_eq!(channel.timezone.as_deref(), Some("America/New_York"));
    assert!(!channel.is_disconnected);
    assert_eq!(channel.created_at, at(1_365_275_757));
    assert_eq!(channel.schedules.len(), 7);
    assert!(
        channel
            .schedules
            .iter()
            .all(|s| s.times.len() == 8 && !s.paused)
    );
    assert_eq!(channel.schedules[0].times[0], "06:13");

    let (response, _) = call(Request::Channels, "profiles_official.json").await;
    let Response::Channels(channels) = response else {
        panic!("{response:?}")
    };
    assert_eq!(channels[0].id.as_str(), PROFILE);
    assert_eq!(channels[0].name, "skinnyoteam");
    let days: Vec<&str> = channels[0]
        .schedules
        .iter()
        .map(|s| s.day.as_str())
        .collect();
    assert_eq!(days, ["mon", "tue", "wed", "thu", "fri"]);
}

#[tokio::test]
async fn channel_reads_one_profile() {
    let request = Request::Channel { id: PROFILE.into() };
    let (response, sent) = call(request, "profile.json").await;
    assert_sent(
        &sent,
        "GET",
        &format!("/1/profiles/{PROFILE}.json"),
        None,
        "",
    );
    let Response::Channel(channel) = response else {
        panic!("{response:?}")
    };
    assert_eq!(channel.id.as_str(), "5160746d13d04a5e3a00000f");
    assert_eq!(channel.name, "example");
}

#[tokio::test]
async fn schedules_expand_to_one_entry_per_day() {
    let request = Request::Schedules {
        channel_id: PROFILE.into(),
    };
    let (response, sent) = call(request, "schedules.json").await;
    assert_sent(
        &sent,
        "GET",
        &format!("/1/profiles/{PROFILE}/schedules.json"),
        None,
        "",
    );
    let Response::Schedules(days) = response else {
        panic!("{response:?}")
    };
    assert_eq!(
        days.iter().map(|d| d.day.clone()).collect::<Vec<_>>(),
        Day::WEEK
    );
    assert_eq!(days[6].times.last().map(String::as_str), Some("22:13"));
}

#[tokio::test]
async fn update_schedules_sends_the_documented_example() {
    let times = ["12:45", "15:30", "17:43"];
    let request = Request::UpdateSchedules {
        channel_id: PROFILE.into(),
        schedules: vec![
            Schedule::new(Day::Mon, times),
            Schedule::new(Day::Tue, times),
            Schedule::new(Day::Thu, times),
        ],
    };
    let (response, sent) = call(request, "schedules_update.json").await;
    // The documented body, with `:` percent-encoded as Buffer's Ruby encoder does.
    assert_sent(
        &sent,
        "POST",
        &format!("/1/profiles/{PROFILE}/schedules/update.json"),
        None,
        "schedules[0][days][]=mon&schedules[0][days][]=tue&schedules[0][days][]=thu\
         &schedules[0][times][]=12%3A45&schedules[0][times][]=15%3A30&schedules[0][times][]=17%3A43",
    );
    assert!(matches!(response, Response::SchedulesUpdated));
}

#[tokio::test]
async fn queued_posts_read_the_captured_pending_page() {
    let query = PostQuery::new(PROFILE, PostList::Queue).since(at(1_368_679_666).unwrap());
    let (response, sent) = call(Request::Posts { query }, "pending.json").await;
    assert_sent(
        &sent,
        "GET",
        &format!("/1/profiles/{PROFILE}/updates/pending.json"),
        Some("page=1&count=20&since=1368679666"),
        "",
    );
    let Response::Posts(page) = response else {
        panic!("{response:?}")
    };
    assert_eq!(page.total, Some(1));
    assert!(page.next.is_none(), "one of one: no next page");
    let post = &page.items[0];
    assert_eq!(post.id.as_str(), "519464f2872cad3734000028");
    assert_eq!(post.channel_id.as_str(), "5160746d13d04a5e3a00000f");
    assert_eq!(
        post.status,
        PostStatus::Scheduled,
        "classic `buffer` is scheduled"
    );
    assert_eq!(post.service, Service::Twitter);
    assert_eq!(post.due_at, at(1_368_699_180));
    assert_eq!(post.updated_at, at(1_368_679_666));
    assert!(!post.shared_now);
    assert!(
        post.text
            .contains("jaysonlane/buffer-ruby \u{b7} GitHub http://bit.ly/15OS4ap")
    );

    let official = PostQuery::new(PROFILE, PostList::Queue);
    let (response, _) = call(Request::Posts { query: official }, "pending_official.json").await;
    let Response::Posts(page) = response else {
        panic!("{response:?}")
    };
    assert_eq!(page.total, Some(8));
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.next.map(|t| t.offset()), Some(1), "7 more remain");
}

#[tokio::test]
async fn sent_posts_page_by_offset_and_by_token() {
    let query = PostQuery::new(PROFILE, PostList::Sent).page(PageRequest::first(1));
    let (response, sent) = call(
        Request::Posts {
            query: query.clone(),
        },
        "sent.json",
    )
    .await;
    let sent_path = format!("/1/profiles/{PROFILE}/updates/sent.json");
    assert_sent(&sent, "GET", &sent_path, Some("page=1&count=1"), "");
    let Response::Posts(page) = response else {
        panic!("{response:?}")
    };
    assert_eq!(page.total, Some(97));
    let post = &page.items[0];
    assert_eq!(post.status, PostStatus::Sent);
    assert_eq!(post.sent_at, at(1_320_744_001));
    assert_eq!(post.service_post_id.as_deref(), Some("133667319959392256"));
    assert_eq!(post.metrics["reach"], 2460.0);
    assert_eq!(post.metrics["retweets"], 20.0);
    assert_eq!(post.metrics.len(), 5);

    // The token continues where the page stopped.
    let token = page.next.expect("96 more remain");
    assert_eq!(token.backend(), BackendKind::ClassicRest);
    let next = query.clone().page(PageRequest::after(token, 1));
    let (_, sent) = call(Request::Posts { query: next }, "sent.json").await;
    assert_sent(&sent, "GET", &sent_path, Some("page=2&count=1"), "");

    // A GraphQL token resumes at its offset; 30 is no multiple of 20, so the page of 25 that
    // holds items 30..50 is read and cut.
    let foreign = PageToken::new(
        BackendKind::GraphQl,
        &query.scope(),
        30,
        Some("Y3Vy".into()),
    );
    let resumed = query.clone().page(PageRequest::after(foreign, 20));
    let (_, sent) = call(Request::Posts { query: resumed }, "sent.json").await;
    assert_sent(&sent, "GET", &sent_path, Some("page=2&count=25"), "");
}

#[tokio::test]
async fn all_posts_follows_classic_tokens_to_the_last_page() {
    // The captured pending page, claiming two posts in all, answers every page of one.
    let body = edited("pending.json", |v| v["total"] = 2.into());
    let server = server_answering(json(200, &body)).await;
    let rest = backend(&server);
    let query = PostQuery::new(PROFILE, PostList::Queue).page(PageRequest::first(1));
    let posts: Vec<_> = rest.all_posts(query).try_collect().await.unwrap();
    assert_eq!(posts.len(), 2);
    let queries: Vec<Option<String>> = sent(&server).await.into_iter().map(|s| s.query).collect();
    assert_eq!(
        queries,
        [
            Some("page=1&count=1".to_owned()),
            Some("page=2&count=1".to_owned())
        ]
    );
}

#[tokio::test]
async fn bad_pages_are_refused_before_sending() {
    let server = server_answering(json(200, &fixture("sent.json"))).await;
    let rest = backend(&server);
    let query = PostQuery::new(PROFILE, PostList::Sent);
    for page in [
        PageRequest::first(0),
        PageRequest::first(101),
        PageRequest::offset(0, 10),
        PageRequest::after(
            PageToken::new(BackendKind::ClassicRest, "another query", 20, None),
            20,
        ),
    ] {
        let error = rest
            .posts(&query.clone().page(page.clone()))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{page:?}");
    }
    assert!(sent(&server).await.is_empty());
}

#[tokio::test]
async fn post_reads_one_update() {
    let request = Request::Post {
        id: "4eb8565e0acb04bb82000004".into(),
    };
    let (response, sent) = call(request, "update.json").await;
    assert_sent(
        &sent,
        "GET",
        "/1/updates/4eb8565e0acb04bb82000004.json",
        None,
        "",
    );
    let Response::Post(post) = response else {
        panic!("{response:?}")
    };
    assert_eq!(post.id.as_str(), "4eb8565e0acb04bb82000004");
    assert_eq!(post.channel_id.as_str(), PROFILE);
    assert_eq!(
        post.text,
        "This is just the beginning, the very beginning..."
    );
    assert_eq!(post.created_at, at(1_320_703_582));
    assert_eq!(post.metrics["favorites"], 1.0);
}

#[tokio::test]
async fn interactions_send_event_and_page() {
    let request = Request::Interactions {
        post_id: UPDATE.into(),
        event: "retweet".into(),
        page: PageRequest::offset(1, 50),
    };
    let (response, sent) = call(request, "interactions.json").await;
    assert_sent(
        &sent,
        "GET",
        &format!("/1/updates/{UPDATE}/interactions.json"),
        Some("event=retweet&page=1&count=50"),
        "",
    );
    let Response::Interactions(page) = response else {
        panic!("{response:?}")
    };
    assert_eq!(page.total, Some(2));
    assert!(page.next.is_none());
    let first = &page.items[0];
    assert_eq!(first.id.as_str(), "50f98310c5ac415d7f2e74fd");
    assert_eq!(first.event, "favorite");
    assert_eq!(first.created_at, at(1_358_509_258));
    assert_eq!(
        first.service_interaction_id.as_deref(),
        Some("292235127847788544")
    );
    let user = first.user.as_ref().unwrap();
    assert_eq!(user.username, "Crispy Potatoes");
    assert_eq!(user.followers, Some(160));
    assert_eq!(
        user.avatar.as_deref(),
        Some("https://si0.twimg.com/profile_images/...")
    );

    let request = Request::Interactions {
        post_id: UPDATE.into(),
        event: "likes".into(),
        page: PageRequest::default(),
    };
    let (response, _) = call(request, "interactions_empty.json").await;
    assert!(
        matches!(response, Response::Interactions(p) if p.items.is_empty() && p.total == Some(0))
    );
}

#[tokio::test]
async fn create_with_a_link_sends_the_documented_body_and_reports_each_channel() {
    let post = NewPost::new("This is an example update")
        .channel(PROFILE)
        .channel(OTHER_PROFILE)
        .link(Link::new("http://google.com").with_description("The google homepage"));
    let (response, sent) = call(Request::CreatePost { post }, "create.json").await;
    assert_sent(
        &sent,
        "POST",
        "/1/updates/create.json",
        None,
        "text=This+is+an+example+update&profile_ids[]=4eb854340acb04e870000010\
         &profile_ids[]=4eb9276e0acb04bb81000067&media[link]=http%3A%2F%2Fgoogle.com\
         &media[description]=The+google+homepage",
    );
    let Response::Created(outcome) = response else {
        panic!("{response:?}")
    };
    let channels: Vec<&str> = outcome
        .channels
        .iter()
        .map(|c| c.channel_id.as_str())
        .collect();
    assert_eq!(channels, [PROFILE, OTHER_PROFILE], "request order");
    let created = outcome.channels[0].result.post().unwrap();
    assert_eq!(created.id.as_str(), UPDATE);
    assert_eq!(created.status, PostStatus::Scheduled);
    let link = created.link.as_ref().unwrap();
    assert_eq!(
        (link.url.as_str(), link.title.as_deref()),
        ("http://google.com", Some("Google"))
    );
    // The recorded answer has no update for the second profile: classic skipped it.
    let missing = outcome.channels[1].result.error().unwrap();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert!(missing.to_string().contains(OTHER_PROFILE), "{missing}");
}

#[tokio::test]
async fn create_with_an_image_sends_photo_and_thumbnail() {
    let post = NewPost::new("This is an example image based update")
        .channels([PROFILE, OTHER_PROFILE])
        .asset(
            Asset::image("http://google.com/images/logo.png")
                .with_thumbnail("http://google.com/images/logo_thumb.png"),
        );
    let (response, sent) = call(Request::CreatePost { post }, "create_photo.json").await;
    assert_sent(
        &sent,
        "POST",
        "/1/updates/create.json",
        None,
        "text=This+is+an+example+image+based+update&profile_ids[]=4eb854340acb04e870000010\
         &profile_ids[]=4eb9276e0acb04bb81000067\
         &media[photo]=http%3A%2F%2Fgoogle.com%2Fimages%2Flogo.png\
         &media[thumbnail]=http%3A%2F%2Fgoogle.com%2Fimages%2Flogo_thumb.png",
    );
    let Response::Created(outcome) = response else {
        panic!("{response:?}")
    };
    let post = outcome.posts().next().unwrap();
    assert_eq!(post.assets.len(), 1);
    assert_eq!(post.assets[0].kind, AssetKind::Image);
    assert_eq!(post.assets[0].url, "http://google.com/images/logo.png");
    assert_eq!(
        post.assets[0].thumbnail.as_deref(),
        Some("http://google.com/images/logo_thumb.png")
    );
    assert_eq!(outcome.failures().count(), 1);
}

#[tokio::test]
async fn create_maps_when_shorten_and_video() {
    let cases = [
        (
            NewPost::new("a").channel(PROFILE),
            "text=a&profile_ids[]=4eb854340acb04e870000010",
        ),
        (
            NewPost::new("a").channel(PROFILE).when(When::Next),
            "text=a&profile_ids[]=4eb854340acb04e870000010&top=true",
        ),
        (
            NewPost::new("a").channel(PROFILE).when(When::Now),
            "text=a&profile_ids[]=4eb854340acb04e870000010&now=true",
        ),
        (
            NewPost::new("a")
                .channel(PROFILE)
                .when(When::At(at(1_320_742_680).unwrap())),
            "text=a&profile_ids[]=4eb854340acb04e870000010&scheduled_at=1320742680",
        ),
        (
            {
                let mut post = NewPost::new("a").channel(PROFILE);
                post.shorten = Some(false);
                post
            },
            "text=a&profile_ids[]=4eb854340acb04e870000010&shorten=false",
        ),
        (
            NewPost::new("a")
                .channel(PROFILE)
                .asset(Asset::video("https://x.test/v.mp4")),
            "text=a&profile_ids[]=4eb854340acb04e870000010&media[video]=https%3A%2F%2Fx.test%2Fv.mp4",
        ),
        (
            {
                let mut post = NewPost::default().channel(PROFILE);
                post.text = None;
                post
            },
            "profile_ids[]=4eb854340acb04e870000010",
        ),
    ];
    for (post, body) in cases {
        let (_, sent) = call(Request::CreatePost { post }, "create.json").await;
        assert_sent(&sent, "POST", "/1/updates/create.json", None, body);
    }
}

#[tokio::test]
async fn create_refuses_what_classic_cannot_carry_before_sending() {
    let server = server_answering(json(200, &fixture("create.json"))).await;
    let rest = backend(&server);
    let image = Asset::image("https://x.test/a.png");
    let refused = [
        (NewPost::new("no channels"), "channel"),
        (
            NewPost::new("two")
                .channel(PROFILE)
                .asset(image.clone())
                .asset(image.clone()),
            "2 attachments",
        ),
        (
            NewPost::new("doc").channel(PROFILE).asset(Asset::document(
                "https://x.test/d.pdf",
                "Deck",
                "https://x.test/t.png",
            )),
            "document",
        ),
        (
            NewPost::new("alt")
                .channel(PROFILE)
                .asset(image.with_alt_text("a cat")),
            "alt text",
        ),
    ];
    for (post, said) in refused {
        let error = rest.create_post(&post).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert!(error.to_string().contains(said), "{error}");
    }
    assert!(sent(&server).await.is_empty());
}

#[tokio::test]
async fn a_refused_create_fails_every_channel_but_a_bad_token_fails_the_call() {
    let post = NewPost::new("full").channels([PROFILE, OTHER_PROFILE]);
    let body =
        r#"{"success":false,"code":1023,"error":"Update limit for profile has been reached."}"#;
    let (result, _) = exchange(Request::CreatePost { post: post.clone() }, json(403, body)).await;
    let Ok(Response::Created(outcome)) = result else {
        panic!("{result:?}")
    };
    assert_eq!(outcome.channels.len(), 2);
    for channel in &outcome.channels {
        let error = channel.result.error().unwrap();
        assert_eq!(error.kind(), ErrorKind::LimitReached);
        assert_eq!(error.legacy_code(), Some(1023));
    }

    let empty_401 = wiremock::ResponseTemplate::new(401)
        .insert_header("content-type", "text/html; charset=UTF-8");
    let (result, _) = exchange(Request::CreatePost { post }, empty_401).await;
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Unauthorized);
}

/// A server answering GET and POST of one update differently, for edits that read first.
async fn edit_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/1/updates/{UPDATE}.json")))
        .respond_with(json(200, &fixture("update.json")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/1/updates/{UPDATE}/update.json")))
        .respond_with(json(200, &fixture("edit.json")))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn edit_sends_text_and_returns_the_update() {
    let request = Request::EditPost {
        id: UPDATE.into(),
        edit: PostEdit::default().text("This is an edited update"),
    };
    let (response, sent) = call(request, "edit.json").await;
    assert_sent(
        &sent,
        "POST",
        &format!("/1/updates/{UPDATE}/update.json"),
        None,
        "text=This+is+an+edited+update",
    );
    let Response::Post(post) = response else {
        panic!("{response:?}")
    };
    assert_eq!(post.text, "This is an edited update");
    assert_eq!(
        post.link.as_ref().map(|l| l.url.as_str()),
        Some("http://google.com")
    );
}

#[tokio::test]
async fn edit_keeping_the_text_reads_the_post_first() {
    let server = edit_server().await;
    let rest = backend(&server);
    let edit = PostEdit::default()
        .link(Link::new("http://google.com").with_title("Google"))
        .when(When::At(at(1_320_742_680).unwrap()));
    let post = rest.edit_post(&PostId::new(UPDATE), &edit).await.unwrap();
    assert_eq!(post.id.as_str(), UPDATE);
    let requests = sent(&server).await;
    assert_eq!(requests.len(), 2, "one read, one edit: {requests:#?}");
    assert_eq!(
        (requests[0].method.as_str(), requests[0].body.as_str()),
        ("GET", "")
    );
    assert_sent(
        &requests[1..],
        "POST",
        &format!("/1/updates/{UPDATE}/update.json"),
        None,
        "text=This+is+just+the+beginning%2C+the+very+beginning...\
         &media[link]=http%3A%2F%2Fgoogle.com&media[title]=Google&scheduled_at=1320742680",
    );

    // An edit that changes nothing is only the read.
    let unchanged = rest
        .edit_post(&PostId::new(UPDATE), &PostEdit::default())
        .await
        .unwrap();
    assert_eq!(
        unchanged.text,
        "This is just the beginning, the very beginning..."
    );
    assert_eq!(sent(&server).await.len(), 3);

    // Now, and a picture under the edit endpoint's documented key.
    let edit = PostEdit::default()
        .text("x")
        .assets(vec![Asset::image("https://x.test/a.png")])
        .when(When::Now);
    rest.edit_post(&PostId::new(UPDATE), &edit).await.unwrap();
    let last = sent(&server).await.pop().unwrap();
    assert_eq!(
        last.body,
        "text=x&media[picture]=https%3A%2F%2Fx.test%2Fa.png&now=true"
    );
}

#[tokio::test]
async fn edits_classic_cannot_express_are_refused_before_sending() {
    let server = edit_server().await;
    let rest = backend(&server);
    let id = PostId::new(UPDATE);
    let mut clear_text = PostEdit::default();
    clear_text.text = Patch::Clear;
    let clear_link = PostEdit::default().text("x").clear_link();
    let refused = [
        (clear_text, "clear a post's text"),
        (
            PostEdit::default().text("x").assets(Vec::new()),
            "remove media",
        ),
        (clear_link, "remove a link preview"),
        (
            PostEdit::default().text("x").when(When::Queue),
            "move_post_to_top",
        ),
        (
            PostEdit::default().text("x").when(When::Next),
            "move_post_to_top",
        ),
    ];
    for (edit, said) in refused {
        let error = rest.edit_post(&id, &edit).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert!(error.to_string().contains(said), "{error}");
    }
    assert!(sent(&server).await.is_empty());
}

#[tokio::test]
async fn share_destroy_and_move_to_top_post_empty_forms() {
    let (response, sent) = call(Request::SharePost { id: UPDATE.into() }, "share.json").await;
    assert_sent(
        &sent,
        "POST",
        &format!("/1/updates/{UPDATE}/share.json"),
        None,
        "",
    );
    assert!(matches!(response, Response::Shared));

    let (response, sent) = call(Request::DeletePost { id: UPDATE.into() }, "destroy.json").await;
    assert_sent(
        &sent,
        "POST",
        &format!("/1/updates/{UPDATE}/destroy.json"),
        None,
        "",
    );
    assert!(matches!(response, Response::Deleted));

    let (response, sent) = call(
        Request::MovePostToTop { id: UPDATE.into() },
        "move_to_top.json",
    )
    .await;
    assert_sent(
        &sent,
        "POST",
        &format!("/1/updates/{UPDATE}/move_to_top.json"),
        None,
        "",
    );
    let Response::Post(post) = response else {
        panic!("{response:?}")
    };
    assert_eq!(post.id.as_str(), "4eb8565e0acb04bb82000004");
    assert_eq!(post.due_at, at(1_320_742_680));
}

#[tokio::test]
async fn reorder_sends_offset_and_order_and_returns_the_queue() {
    let request = Request::ReorderQueue {
        channel_id: PROFILE.into(),
        order: vec![
            "4eb854340acb04e870000010".into(),
            "4eb9276e0acb04bb81000067".into(),
            "4eb2567e0ade04ba51000001".into(),
        ],
        offset: Some(10),
    };
    let (response, sent) = call(request, "reorder.json").await;
    assert_sent(
        &sent,
        "POST",
        &format!("/1/profiles/{PROFILE}/updates/reorder.json"),
        None,
        "offset=10&order[]=4eb854340acb04e870000010&order[]=4eb9276e0acb04bb81000067\
         &order[]=4eb2567e0ade04ba51000001",
    );
    let Response::Queue(queue) = response else {
        panic!("{response:?}")
    };
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].status, PostStatus::Scheduled);
    assert_eq!(
        queue[0].text,
        "3 Incredible Stories Made Possible Through Twitter j.mp/u..."
    );
}

#[tokio::test]
async fn shuffle_sends_count_and_returns_the_queue() {
    let request = Request::ShuffleQueue {
        channel_id: PROFILE.into(),
        count: Some(10),
    };
    let (response, sent) = call(request, "shuffle.json").await;
    assert_sent(
        &sent,
        "POST",
        &format!("/1/profiles/{PROFILE}/updates/shuffle.json"),
        None,
        "count=10",
    );
    assert!(matches!(response, Response::Queue(q) if q.len() == 1));

    let request = Request::ShuffleQueue {
        channel_id: PROFILE.into(),
        count: None,
    };
    let (_, sent) = call(request, "shuffle.json").await;
    assert_eq!(sent[0].body, "");
}

#[tokio::test]
async fn link_shares_send_the_url_in_the_query() {
    let request = Request::LinkShares {
        url: "http://google.com".into(),
    };
    let (response, sent) = call(request, "link_shares.json").await;
    assert_sent(
        &sent,
        "GET",
        "/1/links/shares.json",
        Some("url=http%3A%2F%2Fgoogle.com"),
        "",
    );
    assert!(matches!(response, Response::LinkShares(47348)));
}

#[tokio::test]
async fn configuration_reads_the_captured_limits() {
    let (response, sent) = call(Request::Configuration, "configuration.json").await;
    assert_sent(&sent, "GET", "/1/info/configuration.json", None, "");
    let Response::Configuration(configuration) = response else {
        panic!("{response:?}")
    };
    let twitter = &configuration.services["twitter"]["profile"];
    assert_eq!(twitter.name, "Twitter");
    assert_eq!(twitter.character_limit, Some(140));
    assert_eq!(twitter.schedule_limit, Some(288));
    assert_eq!(twitter.supported_interactions.len(), 6);
    assert_eq!(
        configuration.services["facebook"]["page"].name,
        "Facebook Page"
    );
    assert_eq!(
        configuration.services["linkedin"]["group"].schedule_limit,
        Some(100)
    );
    assert!(
        configuration.services["appdotnet"]["profile"]
            .supported_interactions
            .is_empty()
    );
    let media = configuration.media.unwrap();
    assert_eq!(media.picture_size_max, Some(5_242_880));
    assert_eq!(media.picture_filetypes, ["jpeg", "jpg", "gif", "png"]);
}

#[tokio::test]
async fn graphql_only_operations_send_nothing() {
    let server = server_answering(json(200, "{}")).await;
    let rest = backend(&server);
    let requests = [
        Request::Ideas {
            organization_id: "org".into(),
            page: PageRequest::default(),
        },
        Request::CreateIdea {
            idea: NewIdea::new("org", "an idea"),
        },
        Request::DailyPostingLimits {
            channel_ids: vec![ChannelId::new(PROFILE)],
        },
    ];
    for request in requests {
        let operation = request.operation();
        assert!(!rest.capabilities().supports(operation));
        let error = rest.execute(request).await.unwrap_err();
        let Error::Unsupported { backend, hint, .. } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(*backend, BackendKind::ClassicRest);
        assert!(hint.contains("GraphQL"), "{hint}");
    }
    assert!(sent(&server).await.is_empty(), "nothing may reach Buffer");
}
