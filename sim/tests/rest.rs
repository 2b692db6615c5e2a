//! The classic REST API: each endpoint's shape, codes and statuses.

mod common;

use buffer_sim::{Service, Simulator};
use common::{channel_id, frozen, http, monday, rest_get, rest_post};
use serde_json::Value;

fn ids(updates: &Value) -> Vec<String> {
    updates
        .as_array()
        .expect("updates array")
        .iter()
        .map(|u| u["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn user_and_profiles_have_the_recorded_shapes() {
    let sim = frozen().await;
    let (status, user) = rest_get(&sim, "user.json").await;
    assert_eq!(status, 200);
    assert_eq!(user["id"], user["_id"]);
    assert!(user["created_at"].is_i64() && user["activity_at"].is_i64());
    assert_eq!(user["plan"], "free");

    let (status, profiles) = rest_get(&sim, "profiles.json").await;
    assert_eq!(status, 200);
    let profiles = profiles.as_array().expect("array");
    assert_eq!(profiles.len(), 5);
    let services: Vec<&str> = profiles
        .iter()
        .map(|p| p["service"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        services,
        ["twitter", "facebook", "instagram", "linkedin", "mastodon"]
    );
    assert_eq!(profiles[0]["formatted_username"], "@buffer_sim");
    assert_eq!(profiles[0]["default"], true);
    assert_eq!(profiles[0]["counts"]["pending"], 4);
    assert_eq!(profiles[0]["counts"]["sent"], 2);

    let twitter = channel_id(&sim, Service::Twitter);
    let (status, one) = rest_get(&sim, &format!("profiles/{twitter}.json")).await;
    assert_eq!(status, 200);
    assert_eq!(one["timezone"], "America/New_York");

    let (status, schedules) = rest_get(&sim, &format!("profiles/{twitter}/schedules.json")).await;
    assert_eq!(status, 200);
    assert_eq!(
        schedules,
        serde_json::json!([
            {"days": ["mon", "tue", "wed", "thu", "fri"], "times": ["09:00", "12:30", "17:45"]},
            {"days": ["sat", "sun"], "times": ["10:00"]}
        ])
    );

    let (status, missing) = rest_get(&sim, "profiles/0123456789abcdef01234567.json").await;
    assert_eq!(status, 404);
    assert_eq!(
        missing,
        serde_json::json!({"success": false, "code": 1010, "error": "Profile could not be found."})
    );
}

#[tokio::test]
async fn auth_failures_follow_the_classic_api() {
    let sim = frozen().await;
    let response = http()
        .get(format!("{}user.json", sim.rest_url()))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap_or_default()
            .starts_with("OAuth realm='Service'")
    );
    assert!(response.text().await.expect("body").is_empty());

    let response = http()
        .get(format!("{}user.json", sim.rest_url()))
        .bearer_auth("wrong")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 403);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["code"], 1001);

    let url = format!(
        "{}user.json?access_token={}",
        sim.rest_url(),
        sim.access_token()
    );
    assert_eq!(
        http()
            .get(url.clone())
            .send()
            .await
            .expect("request")
            .status()
            .as_u16(),
        200
    );

    let (status, body) = rest_post(&sim, "user/deauthorize.json", "").await;
    assert_eq!((status, body["success"].clone()), (200, Value::Bool(true)));
    assert_eq!(
        http()
            .get(url)
            .send()
            .await
            .expect("request")
            .status()
            .as_u16(),
        403
    );
}

#[tokio::test]
async fn unknown_routes_methods_and_formats() {
    let sim = frozen().await;
    let (status, body) = rest_get(&sim, "nothing/here.json").await;
    assert_eq!((status, body["code"].clone()), (404, 404.into()));
    let (status, body) = rest_post(&sim, "profiles.json", "").await;
    assert_eq!((status, body["code"].clone()), (405, 405.into()));
    let (status, body) = rest_get(&sim, "user.xml").await;
    assert_eq!((status, body["code"].clone()), (406, 1005.into()));
}

#[tokio::test]
async fn create_fans_out_with_bracket_arrays_and_media() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let linkedin = channel_id(&sim, Service::Linkedin);
    let form = format!(
        "text=Launch+day&profile_ids%5B%5D={twitter}&profile_ids[]={linkedin}&profile_ids[]=0123456789abcdef01234567&media[link]=https%3A%2F%2Fexample.com&media%5Bdescription%5D=Our+site"
    );
    let (status, body) = rest_post(&sim, "updates/create.json", &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    let updates = body["updates"].as_array().expect("updates");
    assert_eq!(updates.len(), 2, "the unknown profile id is ignored");
    assert_eq!(updates[0]["profile_id"], twitter.as_str());
    assert_eq!(updates[0]["status"], "buffer");
    // Twitter (which ignores previews when publishing) and LinkedIn both keep the link on the
    // update, as the recorded `create.json` on a Twitter profile answers it.
    assert_eq!(
        updates[0]["media"]["link"], "https://example.com",
        "{}",
        updates[0]
    );
    assert_eq!(updates[1]["media"]["link"], "https://example.com");
    assert_eq!(updates[1]["media"]["description"], "Our site");
    assert!(updates[0]["due_at"].is_i64() && updates[0]["created_at"].is_i64());
    assert_eq!(body["buffer_count"], 5);

    let (status, again) = rest_post(
        &sim,
        "updates/create.json",
        &format!("text=Launch+day&profile_ids[]={twitter}"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(again["code"], 1025);
    assert_eq!(again["success"], false);

    let (status, none) = rest_post(&sim, "updates/create.json", "text=Hi").await;
    assert_eq!((status, none["code"].clone()), (400, 1004.into()));
}

#[tokio::test]
async fn create_modes_now_top_and_scheduled_at() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);

    let (_, now) = rest_post(
        &sim,
        "updates/create.json",
        &format!("text=Right+now&now=true&profile_ids[]={twitter}"),
    )
    .await;
    assert_eq!(now["updates"][0]["status"], "sent");
    assert_eq!(now["updates"][0]["sent_at"], monday().timestamp());

    let (_, top) = rest_post(
        &sim,
        "updates/create.json",
        &format!("text=Next+up&top=true&profile_ids[]={twitter}"),
    )
    .await;
    let top_id = top["updates"][0]["id"].as_str().expect("id").to_owned();
    let (_, pending) = rest_get(&sim, &format!("profiles/{twitter}/updates/pending.json")).await;
    assert_eq!(pending["updates"][0]["id"], top_id.as_str());

    let past = monday().timestamp() - 60;
    let (status, body) = rest_post(
        &sim,
        "updates/create.json",
        &format!("text=Late&scheduled_at={past}&profile_ids[]={twitter}"),
    )
    .await;
    assert_eq!((status, body["code"].clone()), (400, 1034.into()));

    let (status, body) = rest_post(
        &sim,
        "updates/create.json",
        &format!("text=Later&scheduled_at=2026-03-05T08%3A15%3A00&profile_ids[]={twitter}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let expected = monday().timestamp() + 3 * 86_400 - 6_300;
    assert_eq!(
        body["updates"][0]["due_at"], expected,
        "ISO 8601 without offset is UTC"
    );
}

#[tokio::test]
async fn pending_and_sent_pages_and_order() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let (_, all) = rest_get(&sim, &format!("profiles/{twitter}/updates/pending.json")).await;
    assert_eq!(all["total"], 4);
    let due: Vec<i64> = all["updates"]
        .as_array()
        .expect("updates")
        .iter()
        .map(|u| u["due_at"].as_i64().unwrap_or(0))
        .collect();
    assert!(
        due.windows(2).all(|w| w[0] <= w[1]),
        "pending is in due order: {due:?}"
    );

    let (_, page) = rest_get(
        &sim,
        &format!("profiles/{twitter}/updates/pending.json?page=2&count=3"),
    )
    .await;
    assert_eq!(page["total"], 4);
    assert_eq!(ids(&page["updates"]), ids(&all["updates"])[3..].to_vec());

    let (status, body) = rest_get(
        &sim,
        &format!("profiles/{twitter}/updates/pending.json?count=101"),
    )
    .await;
    assert_eq!((status, body["code"].clone()), (400, 1006.into()));

    let (_, sent) = rest_get(&sim, &format!("profiles/{twitter}/updates/sent.json")).await;
    assert_eq!(sent["total"], 2);
    let sent_at: Vec<i64> = sent["updates"]
        .as_array()
        .expect("updates")
        .iter()
        .map(|u| u["sent_at"].as_i64().unwrap_or(0))
        .collect();
    assert!(sent_at[0] > sent_at[1], "sent is newest first");
    assert!(sent["updates"][0]["statistics"]["reach"].is_u64());
}

#[tokio::test]
async fn single_update_edit_share_destroy() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let (_, pending) = rest_get(&sim, &format!("profiles/{twitter}/updates/pending.json")).await;
    let id = pending["updates"][0]["id"].as_str().expect("id").to_owned();

    let (status, update) = rest_get(&sim, &format!("updates/{id}.json")).await;
    assert_eq!(status, 200);
    assert_eq!(update["id"], id.as_str());
    assert!(update.get("success").is_none(), "GET answers a bare update");

    let (status, body) = rest_post(&sim, &format!("updates/{id}/update.json"), "now=false").await;
    assert_eq!((status, body["code"].clone()), (400, 1004.into()));
    let (status, body) = rest_post(
        &sim,
        &format!("updates/{id}/update.json"),
        "text=Edited+text",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], true);
    assert_eq!(body["update"]["text"], "Edited text");

    let (status, body) = rest_post(&sim, &format!("updates/{id}/share.json"), "").await;
    assert_eq!((status, body), (200, serde_json::json!({"success": true})));
    let (_, shared) = rest_get(&sim, &format!("updates/{id}.json")).await;
    assert_eq!(shared["status"], "sent");

    let (status, body) = rest_post(&sim, &format!("updates/{id}/destroy.json"), "").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        serde_json::json!({"success": true, "message": "Update deleted successfully"})
    );
    let (status, body) = rest_get(&sim, &format!("updates/{id}.json")).await;
    assert_eq!((status, body["code"].clone()), (404, 1020.into()));
}

#[tokio::test]
async fn move_to_top_only_for_queued_posts() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let (_, pending) = rest_get(&sim, &format!("profiles/{twitter}/updates/pending.json")).await;
    let updates = pending["updates"].as_array().expect("updates").clone();
    let first_due = updates[0]["due_at"].clone();
    let third = updates[2]["id"].as_str().expect("id").to_owned();
    let (status, moved) = rest_post(&sim, &format!("updates/{third}/move_to_top.json"), "").await;
    assert_eq!(status, 200);
    assert_eq!(moved["id"], third.as_str());
    assert_eq!(moved["due_at"], first_due, "it takes the first slot");

    let custom = updates
        .iter()
        .find(|u| u["text"] == "Custom-scheduled launch announcement")
        .and_then(|u| u["id"].as_str())
        .expect("custom post")
        .to_owned();
    let (status, body) = rest_post(&sim, &format!("updates/{custom}/move_to_top.json"), "").await;
    assert_eq!((status, body["code"].clone()), (400, 1027.into()));
}

#[tokio::test]
async fn reorder_and_seeded_shuffle() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let queue: Vec<String> = sim.store().channel(&twitter).expect("channel").queue;
    let form = format!(
        "order[]={}&order[]={}&order[]={}",
        queue[2], queue[1], queue[0]
    );
    let (status, body) = rest_post(
        &sim,
        &format!("profiles/{twitter}/updates/reorder.json"),
        &form,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    let order = ids(&body["updates"]);
    assert_eq!(
        order[..3],
        [queue[2].clone(), queue[1].clone(), queue[0].clone()]
    );

    let (status, body) = rest_post(
        &sim,
        &format!("profiles/{twitter}/updates/reorder.json"),
        "",
    )
    .await;
    assert_eq!((status, body["code"].clone()), (400, 1004.into()));

    // Same seed, same shuffle.
    let mut orders = Vec::new();
    for _ in 0..2 {
        let sim = Simulator::builder()
            .start_time(monday())
            .clock_scale(0.0)
            .seed(7)
            .start()
            .await;
        let channel = channel_id(&sim, Service::Twitter);
        for n in 0..6 {
            rest_post(
                &sim,
                "updates/create.json",
                &format!("text=Post+{n}&profile_ids[]={channel}"),
            )
            .await;
        }
        let (_, body) = rest_post(
            &sim,
            &format!("profiles/{channel}/updates/shuffle.json"),
            "count=5",
        )
        .await;
        assert_eq!(body["updates"].as_array().map(Vec::len), Some(5));
        let texts: Vec<String> = body["updates"]
            .as_array()
            .expect("updates")
            .iter()
            .map(|u| u["text"].to_string())
            .collect();
        orders.push(texts);
    }
    assert_eq!(orders[0], orders[1]);
}

#[tokio::test]
async fn schedules_update_with_nested_brackets() {
    let sim = frozen().await;
    let mastodon = channel_id(&sim, Service::Mastodon);
    let form = "schedules%5B0%5D%5Bdays%5D%5B%5D=mon&schedules[0][days][]=tue&schedules[0][times][]=12%3A45&schedules[0][times][]=15:30&schedules[1][days][]=sat&schedules[1][times][]=10:00";
    let (status, body) = rest_post(
        &sim,
        &format!("profiles/{mastodon}/schedules/update.json"),
        form,
    )
    .await;
    assert_eq!((status, body), (200, serde_json::json!({"success": true})));
    let (_, schedules) = rest_get(&sim, &format!("profiles/{mastodon}/schedules.json")).await;
    assert_eq!(
        schedules,
        serde_json::json!([
            {"days": ["mon", "tue"], "times": ["12:45", "15:30"]},
            {"days": ["sat"], "times": ["10:00"]}
        ])
    );
    let (_, pending) = rest_get(&sim, &format!("profiles/{mastodon}/updates/pending.json")).await;
    assert_eq!(
        pending["updates"][0]["due_time"], "12:45 pm",
        "the queue moved onto the new slots"
    );

    let (status, body) = rest_post(
        &sim,
        &format!("profiles/{mastodon}/schedules/update.json"),
        "schedules[0][days][]=someday&schedules[0][times][]=10:00",
    )
    .await;
    assert_eq!((status, body["code"].clone()), (400, 1006.into()));
}

#[tokio::test]
async fn queue_limit_gives_1023() {
    let sim = Simulator::builder()
        .start_time(monday())
        .clock_scale(0.0)
        .queue_limit(4)
        .start()
        .await;
    let twitter = channel_id(&sim, Service::Twitter);
    let (status, body) = rest_post(
        &sim,
        "updates/create.json",
        &format!("text=One+more&profile_ids[]={twitter}"),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], 1023);
}

#[tokio::test]
async fn interactions_shares_and_configuration() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let (_, sent) = rest_get(&sim, &format!("profiles/{twitter}/updates/sent.json")).await;
    let id = sent["updates"][0]["id"].as_str().expect("id").to_owned();
    let (status, body) = rest_get(&sim, &format!("updates/{id}/interactions.json")).await;
    assert_eq!((status, body["code"].clone()), (400, 1004.into()));
    // As many retweets as the update's statistics count, newest first, ten to a page.
    let retweets = sent["updates"][0]["statistics"]["retweets"]
        .as_u64()
        .expect("retweets");
    let (status, body) = rest_get(
        &sim,
        &format!("updates/{id}/interactions.json?event=retweets&count=100"),
    )
    .await;
    assert_eq!((status, body["total"].as_u64()), (200, Some(retweets)));
    let items = body["interactions"].as_array().expect("interactions");
    assert_eq!(items.len() as u64, retweets);
    assert!(items.iter().all(|i| i["event"] == "retweet"));
    let times: Vec<i64> = items
        .iter()
        .filter_map(|i| i["created_at"].as_i64())
        .collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]), "newest first");
    let (_, again) = rest_get(
        &sim,
        &format!("updates/{id}/interactions.json?event=retweets&count=100"),
    )
    .await;
    assert_eq!(again, body, "the same on every call");
    // Other networks' events are not counted on Twitter.
    let (status, body) =
        rest_get(&sim, &format!("updates/{id}/interactions.json?event=likes")).await;
    assert_eq!(
        (status, body),
        (200, serde_json::json!({"total": 0, "interactions": []}))
    );
    let (status, body) =
        rest_get(&sim, &format!("updates/{id}/interactions.json?event=hugs")).await;
    assert_eq!((status, body["code"].clone()), (400, 1029.into()));

    rest_post(
        &sim,
        "updates/create.json",
        &format!("text=Read+https://example.com/a&profile_ids[]={twitter}"),
    )
    .await;
    let response = http()
        .get(format!(
            "{}links/shares.json?url=https%3A%2F%2Fexample.com%2Fa",
            sim.rest_url()
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200, "shares needs no token");
    assert_eq!(
        response.json::<Value>().await.expect("json"),
        serde_json::json!({"shares": 1})
    );

    let (status, config) = rest_get(&sim, "info/configuration.json").await;
    assert_eq!(status, 200);
    assert!(config["services"]["twitter"]["types"]["profile"]["character_limit"].is_u64());
    assert_eq!(config["media"]["picture_size_max"], 5242880);
}

#[tokio::test]
async fn retweets_need_no_text_and_reach_graphql_metadata() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let (status, body) = rest_post(
        &sim,
        "updates/create.json",
        &format!("profile_ids[]={twitter}&retweet[tweet_id]=654043184394207232&retweet[comment]=Worth+a+read"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["updates"][0]["id"].as_str().expect("id").to_owned();
    let query = r#"query($id: PostId!) { post(input: { id: $id }) { metadata { ... on TwitterPostMetadata { retweet { id text } } } } }"#;
    let (_, body) = common::gql(&sim, query, serde_json::json!({ "id": id })).await;
    assert_eq!(
        body["data"]["post"]["metadata"]["retweet"],
        serde_json::json!({ "id": "654043184394207232", "text": "Worth a read" })
    );

    let long = "x".repeat(281);
    let (status, body) = rest_post(
        &sim,
        "updates/create.json",
        &format!("text={long}&profile_ids[]={twitter}"),
    )
    .await;
    assert_eq!((status, body["code"].clone()), (400, 1006.into()));
}
