//! Buffer's queue: slots from each channel's schedule and timezone, share modes, publishing
//! when a slot passes, duplicates and drafts.

mod common;

use std::time::Duration;

use buffer_sim::{ChannelSpec, Day, NewPost, PostStatus, Service, Simulator, When, weekly};
use chrono::{TimeZone, Utc};
use common::{channel_id, frozen, gql, monday, rest_get, rest_post};
use serde_json::json;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid time")
}

#[tokio::test]
async fn queue_takes_the_next_free_slot_in_the_channels_timezone() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    // New York is UTC-5 on 2 March: 09:00, 12:30, 17:45 local are 14:00, 17:30, 22:45 UTC.
    let queue = sim.store().queue(&twitter);
    let due: Vec<_> = queue
        .iter()
        .filter(|p| !p.custom_scheduled)
        .filter_map(|p| p.due_at)
        .collect();
    assert_eq!(
        due,
        [
            utc(2026, 3, 2, 14, 0),
            utc(2026, 3, 2, 17, 30),
            utc(2026, 3, 2, 22, 45)
        ]
    );

    let post = sim
        .store()
        .add_post(NewPost::new(&twitter, "Fourth", When::Queue))
        .expect("created");
    assert_eq!(
        post.due_at,
        Some(utc(2026, 3, 3, 14, 0)),
        "the next morning's slot"
    );
}

#[tokio::test]
async fn slots_follow_daylight_saving_time() {
    let sim = Simulator::builder()
        .start_time(utc(2026, 3, 7, 12, 0))
        .clock_scale(0.0)
        .demo(false)
        .start()
        .await;
    let mut spec = ChannelSpec::new(sim.organization_id(), Service::Twitter, "dst");
    spec.timezone = "America/New_York".to_owned();
    spec.schedule = weekly(&Day::ALL, &["09:00"]);
    let channel = sim.store().add_channel(spec);
    let due: Vec<_> = (0..3)
        .map(|n| {
            sim.store()
                .add_post(NewPost::new(&channel.id, &format!("Post {n}"), When::Queue))
                .expect("created")
                .due_at
        })
        .collect();
    // Clocks spring forward on Sunday 8 March 2026: 09:00 is 14:00 UTC before, 13:00 after.
    assert_eq!(
        due,
        [
            Some(utc(2026, 3, 7, 14, 0)),
            Some(utc(2026, 3, 8, 13, 0)),
            Some(utc(2026, 3, 9, 13, 0))
        ]
    );
}

#[tokio::test]
async fn posts_are_published_when_their_slot_passes() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let first = sim.store().queue(&twitter)[0].clone();
    sim.clock().advance(Duration::from_secs(4 * 3600 + 60));
    let (_, sent) = rest_get(&sim, &format!("profiles/{twitter}/updates/sent.json")).await;
    assert_eq!(sent["total"], 3);
    assert_eq!(sent["updates"][0]["id"], first.id.as_str());
    assert_eq!(
        sent["updates"][0]["sent_at"],
        utc(2026, 3, 2, 14, 0).timestamp()
    );
    let (_, pending) = rest_get(&sim, &format!("profiles/{twitter}/updates/pending.json")).await;
    assert_eq!(pending["total"], 3);
    // The rest of the queue keeps its slots.
    assert_eq!(
        pending["updates"][0]["due_at"],
        utc(2026, 3, 2, 17, 30).timestamp()
    );
}

#[tokio::test]
async fn share_modes_through_graphql() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let create = r#"mutation C($input: CreatePostInput!) { createPost(input: $input) {
        __typename ... on PostActionSuccess { post { id status dueAt sentAt sharedNow isCustomScheduled shareMode } } ... on MutationError { message } } }"#;
    let input = |text: &str, mode: &str| json!({ "channelId": twitter, "text": text, "mode": mode, "schedulingType": "automatic" });

    let (_, body) = gql(
        &sim,
        create,
        json!({ "input": input("Next!", "shareNext") }),
    )
    .await;
    let post = &body["data"]["createPost"]["post"];
    assert_eq!(post["dueAt"], "2026-03-02T14:00:00.000Z", "{body}");
    assert_eq!(post["shareMode"], "shareNext");

    let (_, body) = gql(&sim, create, json!({ "input": input("Now!", "shareNow") })).await;
    let post = &body["data"]["createPost"]["post"];
    assert_eq!(post["status"], "sent");
    assert_eq!(post["sentAt"], "2026-03-02T10:00:00.000Z");
    assert_eq!(post["sharedNow"], true);

    let mut custom = input("At a time", "customScheduled");
    custom["dueAt"] = json!("2026-03-01T10:00:00Z");
    let (_, body) = gql(&sim, create, json!({ "input": custom.clone() })).await;
    assert_eq!(
        body["data"]["createPost"]["__typename"], "InvalidInputError",
        "{body}"
    );
    custom["dueAt"] = json!("2026-03-04T10:00:00+01:00");
    let (_, body) = gql(&sim, create, json!({ "input": custom })).await;
    let post = &body["data"]["createPost"]["post"];
    assert_eq!(post["isCustomScheduled"], true);
    assert_eq!(post["dueAt"], "2026-03-04T09:00:00.000Z");

    let mut draft = input("Just a draft", "addToQueue");
    draft["saveToDraft"] = json!(true);
    let (_, body) = gql(&sim, create, json!({ "input": draft })).await;
    let post = &body["data"]["createPost"]["post"];
    assert_eq!(post["status"], "draft");
    assert_eq!(post["dueAt"], serde_json::Value::Null);
    let (_, pending) = rest_get(&sim, &format!("profiles/{twitter}/updates/pending.json")).await;
    assert!(
        pending["updates"]
            .as_array()
            .expect("updates")
            .iter()
            .all(|u| u["text"] != "Just a draft")
    );
}

#[tokio::test]
async fn move_post_in_queue_and_its_rule() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let queued: Vec<_> = sim
        .store()
        .queue(&twitter)
        .into_iter()
        .filter(|p| !p.custom_scheduled)
        .collect();
    let custom = sim
        .store()
        .queue(&twitter)
        .into_iter()
        .find(|p| p.custom_scheduled)
        .expect("custom");
    let mutation = r#"mutation M($id: PostId!, $position: QueuePosition!) { movePostInQueue(input: { id: $id, position: $position }) {
        __typename ... on PostActionSuccess { post { id dueAt } } ... on MutationError { message } } }"#;
    let (_, body) = gql(
        &sim,
        mutation,
        json!({ "id": queued[2].id, "position": "top" }),
    )
    .await;
    assert_eq!(
        body["data"]["movePostInQueue"]["post"]["dueAt"], "2026-03-02T14:00:00.000Z",
        "{body}"
    );
    let (_, body) = gql(
        &sim,
        mutation,
        json!({ "id": queued[2].id, "position": "bottom" }),
    )
    .await;
    assert_eq!(
        body["data"]["movePostInQueue"]["post"]["dueAt"], "2026-03-02T22:45:00.000Z",
        "{body}"
    );
    let (_, body) = gql(
        &sim,
        mutation,
        json!({ "id": custom.id, "position": "top" }),
    )
    .await;
    assert_eq!(
        body["data"]["movePostInQueue"]["__typename"],
        "VoidMutationError"
    );
}

#[tokio::test]
async fn duplicates_expire_after_the_window() {
    let sim = Simulator::builder()
        .start_time(monday())
        .clock_scale(0.0)
        .duplicate_window(Duration::from_secs(3600))
        .start()
        .await;
    let linkedin = channel_id(&sim, Service::Linkedin);
    let form = format!("text=Same+words&now=true&profile_ids[]={linkedin}");
    assert_eq!(rest_post(&sim, "updates/create.json", &form).await.0, 200);
    let (status, body) = rest_post(&sim, "updates/create.json", &form).await;
    assert_eq!((status, body["code"].clone()), (400, 1025.into()));
    let create = r#"mutation C($input: CreatePostInput!) { createPost(input: $input) { __typename ... on MutationError { message } } }"#;
    let input = json!({ "channelId": linkedin, "text": "Same words", "mode": "addToQueue", "schedulingType": "automatic" });
    let (_, body) = gql(&sim, create, json!({ "input": input.clone() })).await;
    assert_eq!(
        body["data"]["createPost"]["__typename"],
        "InvalidInputError"
    );
    assert!(
        body["data"]["createPost"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("duplicate")
    );
    // Another channel is fine; so is the same channel once the window has passed.
    let twitter = channel_id(&sim, Service::Twitter);
    assert_eq!(
        rest_post(
            &sim,
            "updates/create.json",
            &format!("text=Same+words&profile_ids[]={twitter}")
        )
        .await
        .0,
        200
    );
    sim.clock().advance(Duration::from_secs(3601));
    let (_, body) = gql(&sim, create, json!({ "input": input })).await;
    assert_eq!(
        body["data"]["createPost"]["__typename"], "PostActionSuccess",
        "{body}"
    );
    assert_eq!(sim.store().count_with_text(&linkedin, "Same words"), 2);
}

#[tokio::test]
async fn instagram_needs_an_image_or_video() {
    let sim = frozen().await;
    let instagram = channel_id(&sim, Service::Instagram);
    let (status, body) = rest_post(
        &sim,
        "updates/create.json",
        &format!("text=No+picture&profile_ids[]={instagram}"),
    )
    .await;
    assert_eq!((status, body["code"].clone()), (400, 1004.into()));
    assert!(body["error"].as_str().unwrap_or_default().contains("image"));
    let (status, body) = rest_post(
        &sim,
        "updates/create.json",
        &format!(
            "text=Picture&media[photo]=https%3A%2F%2Fi.example%2Fp.jpg&profile_ids[]={instagram}"
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["updates"][0]["media"]["picture"],
        "https://i.example/p.jpg"
    );
    let post = sim
        .store()
        .post(body["updates"][0]["id"].as_str().expect("id"))
        .expect("stored");
    assert_eq!(post.status, PostStatus::Scheduled);
}

#[tokio::test]
async fn editing_a_queued_post_keeps_its_place_unless_asked() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let first = sim.store().queue(&twitter)[0].clone();
    let edit = r#"mutation E($input: EditPostInput!) { editPost(input: $input) {
        ... on PostActionSuccess { post { text dueAt } } ... on MutationError { message } } }"#;
    let (_, body) = gql(
        &sim,
        edit,
        json!({ "input": { "id": first.id, "text": "Reworded", "mode": "addToQueue" } }),
    )
    .await;
    assert_eq!(
        body["data"]["editPost"]["post"]["dueAt"], "2026-03-02T14:00:00.000Z",
        "{body}"
    );
    let (_, body) = gql(
        &sim,
        edit,
        json!({ "input": { "id": first.id, "mode": "shareNow" } }),
    )
    .await;
    assert_eq!(body["data"]["editPost"]["post"]["text"], "Reworded");
    assert_eq!(
        sim.store().post(&first.id).map(|p| p.status),
        Some(PostStatus::Sent)
    );
    assert_eq!(
        sim.store().queue(&twitter)[0].due_at,
        Some(utc(2026, 3, 2, 14, 0)),
        "the next post moved up into the freed slot"
    );
}

/// The store remembers when the next scheduled post falls due, to spare each request a scan;
/// a post scheduled earlier after that must still go out at its own time.
#[tokio::test]
async fn a_post_scheduled_before_the_next_due_one_still_publishes_on_time() {
    let sim = frozen().await;
    let store = sim.store();
    let channel = channel_id(&sim, Service::Twitter);
    let now = sim.clock().now();
    let late = store
        .add_post(NewPost::new(
            &channel,
            "two hours from now",
            When::At(now + chrono::TimeDelta::hours(2)),
        ))
        .expect("scheduled");
    // A read in between lets the store note the earliest due time it knows.
    assert!(store.post(&late.id).is_some());
    let early = store
        .add_post(NewPost::new(
            &channel,
            "one hour from now",
            When::At(now + chrono::TimeDelta::hours(1)),
        ))
        .expect("scheduled");
    sim.clock().advance(Duration::from_secs(90 * 60));
    let status = |id: &str| store.post(id).map(|p| p.status);
    assert_eq!(status(&early.id), Some(PostStatus::Sent));
    assert_eq!(status(&late.id), Some(PostStatus::Scheduled));
    sim.clock().advance(Duration::from_secs(60 * 60));
    assert_eq!(status(&late.id), Some(PostStatus::Sent));
}
