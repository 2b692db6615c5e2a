//! Both APIs are views of one store: what one writes, the other reads.

mod common;

use buffer_sim::Service;
use common::{channel_id, frozen, gql, rest_get, rest_post};
use serde_json::{Value, json};

#[tokio::test]
async fn profiles_and_channels_share_ids() {
    let sim = frozen().await;
    let (_, profiles) = rest_get(&sim, "profiles.json").await;
    let mut rest: Vec<String> = profiles
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let (_, body) = gql(
        &sim,
        "query($org: OrganizationId!) { channels(input: { organizationId: $org }) { id } }",
        json!({ "org": sim.organization_id() }),
    )
    .await;
    let mut graphql: Vec<String> = body["data"]["channels"]
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    rest.sort();
    graphql.sort();
    assert_eq!(rest, graphql);
}

#[tokio::test]
async fn a_post_made_through_rest_reads_back_through_graphql() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let (_, created) = rest_post(
        &sim,
        "updates/create.json",
        &format!(
            "text=Made+in+REST&profile_ids[]={twitter}&media[photo]=https%3A%2F%2Fi.example%2Fr.png"
        ),
    )
    .await;
    let update = &created["updates"][0];
    let id = update["id"].as_str().expect("id");
    let query = r#"query($id: PostId!) { post(input: { id: $id }) { id text status channelId dueAt assets { source } channel { service } } }"#;
    let (_, body) = gql(&sim, query, json!({ "id": id })).await;
    let post = &body["data"]["post"];
    assert_eq!(post["text"], "Made in REST");
    assert_eq!(post["status"], "scheduled");
    assert_eq!(post["channelId"], twitter.as_str());
    assert_eq!(post["channel"]["service"], "twitter");
    assert_eq!(post["assets"][0]["source"], "https://i.example/r.png");
    let due =
        chrono::DateTime::parse_from_rfc3339(post["dueAt"].as_str().expect("dueAt")).expect("time");
    assert_eq!(Value::from(due.timestamp()), update["due_at"]);
}

#[tokio::test]
async fn a_post_made_through_graphql_reads_back_through_rest_and_deletes_across() {
    let sim = frozen().await;
    let linkedin = channel_id(&sim, Service::Linkedin);
    let create = r#"mutation($input: CreatePostInput!) { createPost(input: $input) { ... on PostActionSuccess { post { id } } } }"#;
    let input = json!({
        "channelId": linkedin, "text": "Made in GraphQL", "mode": "addToQueue", "schedulingType": "automatic",
        "metadata": { "linkedin": { "linkAttachment": { "url": "https://example.com/l", "title": "L" } } },
    });
    let (_, body) = gql(&sim, create, json!({ "input": input })).await;
    let id = body["data"]["createPost"]["post"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (_, pending) = rest_get(
        &sim,
        &format!("profiles/{linkedin}/updates/pending.json?count=100"),
    )
    .await;
    let found = pending["updates"]
        .as_array()
        .expect("updates")
        .iter()
        .find(|u| u["id"] == id.as_str())
        .cloned()
        .expect("listed");
    assert_eq!(found["text"], "Made in GraphQL");
    assert_eq!(found["status"], "buffer");
    assert_eq!(found["media"]["link"], "https://example.com/l");
    assert_eq!(found["via"], "api");

    let delete = r#"mutation($id: PostId!) { deletePost(input: { id: $id }) { __typename } }"#;
    gql(&sim, delete, json!({ "id": id })).await;
    let (status, body) = rest_get(&sim, &format!("updates/{id}.json")).await;
    assert_eq!((status, body["code"].clone()), (404, 1020.into()));
}

#[tokio::test]
async fn other_accounts_are_out_of_reach_through_both_apis() {
    let sim = frozen().await;
    let other = sim
        .store()
        .add_account("other@example.invalid", "other-token", "other-key");
    let org = sim.store().add_organization(&other.id, "Other Org");
    let channel = sim.store().add_channel(buffer_sim::ChannelSpec::new(
        &org.id,
        Service::Facebook,
        "someone",
    ));

    let (status, body) = rest_get(&sim, &format!("profiles/{}.json", channel.id)).await;
    assert_eq!((status, body["code"].clone()), (403, 1011.into()));
    let (status, body) = rest_post(
        &sim,
        "updates/create.json",
        &format!("text=Hi&profile_ids[]={}", channel.id),
    )
    .await;
    assert_eq!((status, body["code"].clone()), (403, 1011.into()));

    let (_, body) = gql(
        &sim,
        "query($id: ChannelId!) { channel(input: { id: $id }) { id } }",
        json!({ "id": channel.id }),
    )
    .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let (_, body) = gql(
        &sim,
        "query($org: OrganizationId!) { channels(input: { organizationId: $org }) { id } }",
        json!({ "org": org.id }),
    )
    .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");

    let (_, body) = gql(
        &sim,
        "query($org: String!) { account { organizations(filter: { organizationId: $org }) { id } } }",
        json!({ "org": sim.organization_id() }),
    )
    .await;
    assert_eq!(
        body["data"]["account"]["organizations"],
        json!([{ "id": sim.organization_id() }])
    );
}

#[tokio::test]
async fn a_sent_post_has_the_same_figures_under_each_api_s_names() {
    let sim = frozen().await;
    for (service, renamed) in [
        (
            Service::Twitter,
            &[("retweets", "reposts"), ("favorites", "reactions")][..],
        ),
        (
            Service::Facebook,
            &[("likes", "likes"), ("shares", "shares")][..],
        ),
    ] {
        let channel = channel_id(&sim, service);
        let (_, sent) = rest_get(&sim, &format!("profiles/{channel}/updates/sent.json")).await;
        let update = &sent["updates"][0];
        let statistics = &update["statistics"];
        let query = r#"query($id: PostId!) { post(input: { id: $id }) { metrics { name type unit value } } }"#;
        let (_, body) = gql(&sim, query, json!({ "id": update["id"] })).await;
        let metrics = body["data"]["post"]["metrics"]
            .as_array()
            .expect("metrics of a sent post")
            .clone();
        let metric = |name: &str| {
            metrics
                .iter()
                .find(|m| m["name"] == name)
                .map(|m| m["value"].as_f64().unwrap_or(-1.0))
        };
        for (classic, graphql) in [("reach", "reach"), ("clicks", "clicks")]
            .iter()
            .chain(renamed)
        {
            assert_eq!(
                metric(graphql),
                statistics[classic].as_f64(),
                "{service:?}: classic {classic} is GraphQL {graphql}"
            );
        }
        assert!(
            metrics
                .iter()
                .all(|m| m["unit"] == "count" && m["type"] == m["name"])
        );
        if service == Service::Twitter {
            assert!(statistics["mentions"].is_number());
            assert_eq!(metric("mentions"), None, "GraphQL has no mentions metric");
        }
    }
    // Queued posts have no metrics yet.
    let (_, queue) = rest_get(
        &sim,
        &format!(
            "profiles/{}/updates/pending.json",
            channel_id(&sim, Service::Twitter)
        ),
    )
    .await;
    let query = r#"query($id: PostId!) { post(input: { id: $id }) { metrics { name } } }"#;
    let (_, body) = gql(&sim, query, json!({ "id": queue["updates"][0]["id"] })).await;
    assert_eq!(body["data"]["post"]["metrics"], Value::Null);
}

#[tokio::test]
async fn an_edit_through_graphql_sets_and_removes_the_link_preview_read_through_rest() {
    let sim = frozen().await;
    let facebook = channel_id(&sim, Service::Facebook);
    let (_, created) = rest_post(
        &sim,
        "updates/create.json",
        &format!(
            "text=Read+this&profile_ids[]={facebook}&media[link]=https%3A%2F%2Fold.example%2F&media[title]=Old"
        ),
    )
    .await;
    let id = created["updates"][0]["id"].as_str().expect("id").to_owned();
    let edit = r#"mutation($input: EditPostInput!) { editPost(input: $input) { __typename } }"#;
    let link = |attachment: Value| json!({ "input": { "id": id, "metadata": { "facebook": { "type": "post", "linkAttachment": attachment } } } });

    let (_, body) = gql(
        &sim,
        edit,
        link(json!({ "url": "https://new.example/", "title": "New" })),
    )
    .await;
    assert_eq!(
        body["data"]["editPost"]["__typename"], "PostActionSuccess",
        "{body}"
    );
    let (_, update) = rest_get(&sim, &format!("updates/{id}.json")).await;
    assert_eq!(update["media"]["link"], "https://new.example/");
    assert_eq!(update["media"]["title"], "New");
    assert_eq!(update["text"], "Read this", "the text is kept");

    let (_, body) = gql(&sim, edit, link(Value::Null)).await;
    assert_eq!(
        body["data"]["editPost"]["__typename"], "PostActionSuccess",
        "{body}"
    );
    let (_, update) = rest_get(&sim, &format!("updates/{id}.json")).await;
    assert!(
        update.get("media").is_none(),
        "the preview is gone: {update}"
    );
}
