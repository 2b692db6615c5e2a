//! The network rules table, enforced per API: what the classic API accepts and GraphQL refuses
//! behaves that way here, in each API's recorded error shape. Asserted on the store.

mod common;

use buffer_sim::{ChannelSpec, Service, Simulator};
use common::{channel_id, frozen, gql, rest_post};
use serde_json::{Value, json};

const CREATE: &str = r#"mutation($input: CreatePostInput!) { createPost(input: $input) {
    __typename ... on PostActionSuccess { post { id } } ... on MutationError { message } } }"#;

async fn create(sim: &Simulator, input: Value) -> Value {
    let (status, body) = gql(sim, CREATE, json!({ "input": input })).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["createPost"].clone()
}

fn input(channel: &str, text: &str) -> Value {
    json!({ "channelId": channel, "text": text, "mode": "addToQueue", "schedulingType": "automatic" })
}

/// A simulator with one channel on `service` besides the demo ones.
async fn with_channel(service: Service) -> (Simulator, String) {
    let sim = frozen().await;
    let spec = ChannelSpec::new(sim.organization_id(), service, "rules");
    let id = sim.store().add_channel(spec).id;
    (sim, id)
}

#[tokio::test]
async fn graphql_answers_every_broken_rule_at_once_as_buffer_recorded_it() {
    let sim = frozen().await;
    let instagram = channel_id(&sim, Service::Instagram);
    let answer = create(&sim, input(&instagram, "No picture, no type")).await;
    assert_eq!(answer["__typename"], "InvalidInputError");
    // Recorded from Buffer (reference/graphql.md §4.1), word for word.
    assert_eq!(
        answer["message"],
        "Invalid post: Instagram posts require at least one image or video., \
         Instagram posts require a type (post, story, or reel)."
    );
    assert_eq!(
        sim.store()
            .count_with_text(&instagram, "No picture, no type"),
        0
    );

    let mut complete = input(&instagram, "Picture and type");
    complete["assets"] = json!([{ "image": { "url": "https://cdn.example.com/a.png" } }]);
    complete["metadata"] = json!({ "instagram": { "type": "post", "shouldShareToFeed": true } });
    let answer = create(&sim, complete).await;
    assert_eq!(answer["__typename"], "PostActionSuccess", "{answer}");
    assert_eq!(
        sim.store().count_with_text(&instagram, "Picture and type"),
        1
    );
}

#[tokio::test]
async fn the_classic_api_asks_no_metadata_but_the_same_media() {
    let sim = frozen().await;
    let instagram = channel_id(&sim, Service::Instagram);
    let (status, body) = rest_post(
        &sim,
        "updates/create.json",
        &format!("text=A+picture&profile_ids[]={instagram}&media[photo]=https%3A%2F%2Fcdn.example.com%2Fa.png"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(sim.store().count_with_text(&instagram, "A picture"), 1);

    let (youtube_sim, youtube) = with_channel(Service::Youtube).await;
    let (status, body) = rest_post(
        &youtube_sim,
        "updates/create.json",
        &format!("text=Only+a+picture&profile_ids[]={youtube}&media[photo]=https%3A%2F%2Fcdn.example.com%2Fa.png"),
    )
    .await;
    assert_eq!((status, body["code"].clone()), (400, json!(1004)), "{body}");
    assert_eq!(body["error"], "YouTube posts require a video.");
    assert_eq!(
        youtube_sim
            .store()
            .count_with_text(&youtube, "Only a picture"),
        0
    );
}

#[tokio::test]
async fn a_preview_beside_media_is_refused_on_graphql_only() {
    let sim = frozen().await;
    let facebook = channel_id(&sim, Service::Facebook);
    let mut both = input(&facebook, "Image and preview, GraphQL");
    both["assets"] = json!([{ "image": { "url": "https://cdn.example.com/a.png" } }]);
    both["metadata"] = json!({ "facebook": { "type": "post", "linkAttachment": { "url": "https://example.com/" } } });
    let answer = create(&sim, both).await;
    assert_eq!(answer["__typename"], "InvalidInputError");
    assert_eq!(
        answer["message"],
        "Invalid post: A link attachment and assets cannot be used together"
    );
    assert_eq!(
        sim.store()
            .count_with_text(&facebook, "Image and preview, GraphQL"),
        0
    );

    let (status, body) = rest_post(
        &sim,
        "updates/create.json",
        &format!(
            "text=Image+and+preview,+classic&profile_ids[]={facebook}\
             &media[photo]=https%3A%2F%2Fcdn.example.com%2Fa.png&media[link]=https%3A%2F%2Fexample.com%2F"
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let post = &sim
        .store()
        .channel_posts(&facebook)
        .into_iter()
        .find(|p| p.text == "Image and preview, classic")
        .expect("created");
    let kinds: Vec<_> = post.assets.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [buffer_sim::AssetKind::Image, buffer_sim::AssetKind::Link]
    );
}

#[tokio::test]
async fn the_classic_api_keeps_a_preview_where_the_network_has_none_as_recorded() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let (status, body) = rest_post(
        &sim,
        "updates/create.json",
        &format!(
            "text=A+tweet+with+a+preview&profile_ids[]={twitter}\
             &media[link]=https%3A%2F%2Fexample.com%2F&media[title]=Example\
             &media[picture]=https%3A%2F%2Fcdn.example.com%2Fpreview.png"
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let post = sim
        .store()
        .channel_posts(&twitter)
        .into_iter()
        .find(|p| p.text == "A tweet with a preview")
        .expect("created");
    // tests/fixtures/rest/create.json: a Twitter update answered with its `media` link.
    let kinds: Vec<_> = post.assets.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, [buffer_sim::AssetKind::Link], "{:?}", post.assets);
    assert_eq!(
        body["updates"][0]["media"]["link"], "https://example.com/",
        "{body}"
    );
}

#[tokio::test]
async fn a_preview_picture_is_the_previews_not_an_image() {
    let sim = frozen().await;
    let linkedin = channel_id(&sim, Service::Linkedin);
    let (status, body) = rest_post(
        &sim,
        "updates/create.json",
        &format!(
            "text=A+preview+with+its+picture&profile_ids[]={linkedin}\
             &media[link]=https%3A%2F%2Fexample.com%2F&media[picture]=https%3A%2F%2Fcdn.example.com%2Fpreview.png"
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let post = sim
        .store()
        .channel_posts(&linkedin)
        .into_iter()
        .find(|p| p.text == "A preview with its picture")
        .expect("created");
    assert_eq!(post.assets.len(), 1, "{:?}", post.assets);
    assert_eq!(post.assets[0].kind, buffer_sim::AssetKind::Link);
    assert_eq!(
        post.assets[0].thumbnail.as_deref(),
        Some("https://cdn.example.com/preview.png")
    );
}

#[tokio::test]
async fn text_limits_are_the_tables_on_both_apis() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let long = "x".repeat(281);
    let answer = create(&sim, input(&twitter, &long)).await;
    assert_eq!(answer["__typename"], "InvalidInputError");
    assert_eq!(
        answer["message"],
        "Invalid post: Text is longer than 280 characters, the limit of Twitter"
    );
    let (status, body) = rest_post(
        &sim,
        "updates/create.json",
        &format!("text={long}&profile_ids[]={twitter}"),
    )
    .await;
    assert_eq!((status, body["code"].clone()), (400, json!(1006)), "{body}");
    assert_eq!(sim.store().count_with_text(&twitter, &long), 0);
    let just = "x".repeat(280);
    let answer = create(&sim, input(&twitter, &just)).await;
    assert_eq!(answer["__typename"], "PostActionSuccess", "{answer}");
}

#[tokio::test]
async fn graphql_asks_each_network_for_its_metadata() {
    for (service, metadata, message) in [
        (
            Service::Pinterest,
            json!({ "pinterest": { "boardServiceId": "board-1" } }),
            "Invalid post: Pinterest posts require a board (boardServiceId).",
        ),
        (
            Service::Googlebusiness,
            json!({ "google": { "type": "whats_new" } }),
            "Invalid post: Google Business Profile posts require a type (whats_new, offer, or event).",
        ),
    ] {
        let (sim, channel) = with_channel(service).await;
        let mut bare = input(&channel, "Without metadata");
        bare["assets"] = json!([{ "image": { "url": "https://cdn.example.com/a.png" } }]);
        let answer = create(&sim, bare.clone()).await;
        assert_eq!(answer["message"], message, "{service:?}");
        assert_eq!(sim.store().count_with_text(&channel, "Without metadata"), 0);
        bare["metadata"] = metadata;
        let answer = create(&sim, bare).await;
        assert_eq!(
            answer["__typename"], "PostActionSuccess",
            "{service:?}: {answer}"
        );
    }
}
