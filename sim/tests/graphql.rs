//! The GraphQL API: documents are validated against Buffer's schema and executed field by
//! field; invalid ones are refused with HTTP 400 as Buffer refuses them.

mod common;

use buffer_sim::Service;
use common::{channel_id, frozen, gql, gql_full};
use serde_json::{Value, json};

const CREATE: &str = r#"
mutation Create($input: CreatePostInput!) {
  createPost(input: $input) {
    __typename
    ... on PostActionSuccess { post { ...PostFields } }
    ... on MutationError { message }
  }
}
fragment PostFields on Post { id text status dueAt isCustomScheduled shareMode channelId assets { __typename source } }
"#;

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn valid_documents_execute_with_aliases_fragments_and_variables() {
    let sim = frozen().await;
    let query = r#"
      query Overview($org: OrganizationId!) {
        me: account { __typename id email orgs: organizations { id name limits { scheduledPosts } } }
        channels(input: { organizationId: $org }) { ...Ch }
      }
      fragment Ch on Channel { id service timezone postingSchedule { day times paused } metadata { __typename ... on MastodonMetadata { serverUrl } } }
    "#;
    let (status, body) = gql(&sim, query, json!({ "org": sim.organization_id() })).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["me"]["__typename"], "Account");
    assert_eq!(body["data"]["me"]["orgs"][0]["id"], sim.organization_id());
    let channels = body["data"]["channels"].as_array().expect("channels");
    assert_eq!(channels.len(), 5);
    assert_eq!(channels[4]["metadata"]["__typename"], "MastodonMetadata");
    assert_eq!(
        channels[0]["postingSchedule"].as_array().map(Vec::len),
        Some(7)
    );
    // Keys come back in selection order (read from the raw text: serde_json's map sorts them).
    let raw = common::http()
        .post(sim.graphql_url())
        .bearer_auth(sim.api_key())
        .json(&json!({ "query": "{ account { name id email } }" }))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    let at = |key: &str| raw.find(&format!("\"{key}\"")).expect("key present");
    assert!(at("name") < at("id") && at("id") < at("email"), "{raw}");
}

#[tokio::test]
async fn invalid_documents_get_400_like_buffer() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let cases = [
        (
            "{ account { id nope } }".to_owned(),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("{ account { id ".to_owned(), "GRAPHQL_PARSE_FAILED"),
        (
            format!(
                r#"mutation {{ createPost(input: {{channelId: "{twitter}", text: "x", mode: addToQueue, schedulingType: automatic}}) {{ ... on VoidMutationError {{ message }} }} }}"#
            ),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            format!(
                r#"mutation {{ createPost(input: {{channelId: "{twitter}", text: "x", mode: addToQueue, schedulingType: automatic_publishing}}) {{ __typename }} }}"#
            ),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            r#"mutation { deletePost(input: {id: "x"}) { ... on NotFoundError { message } } }"#
                .to_owned(),
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ];
    for (query, expected) in cases {
        let (status, body) = gql(&sim, &query, Value::Null).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(code(&body), expected, "{query}: {body}");
        assert!(body.get("data").is_none());
    }
    assert!(
        sim.store().posts().iter().all(|p| p.text != "x"),
        "nothing ran"
    );
}

#[tokio::test]
async fn one_of_inputs_and_query_limits_are_enforced() {
    let sim = frozen().await;
    let facebook = channel_id(&sim, Service::Facebook);
    let input = json!({
        "channelId": facebook, "text": "two kinds", "mode": "addToQueue", "schedulingType": "automatic",
        "assets": [{ "image": { "url": "https://i.example/a.png" }, "video": { "url": "https://i.example/a.mp4" } }],
    });
    let (status, body) = gql(&sim, CREATE, json!({ "input": input })).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED");

    let aliases: String = (0..31)
        .map(|i| format!("a{i}: account {{ id }} "))
        .collect();
    let (status, body) = gql(&sim, &format!("{{ {aliases} }}"), Value::Null).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("aliases")
    );
}

#[tokio::test]
async fn create_edit_delete_round_trip() {
    let sim = frozen().await;
    let facebook = channel_id(&sim, Service::Facebook);
    let input = json!({
        "channelId": facebook, "text": "Photo day", "mode": "addToQueue", "schedulingType": "automatic",
        "assets": [{ "image": { "url": "https://i.example/a.png", "metadata": { "altText": "A" } } }],
    });
    let (_, body) = gql(&sim, CREATE, json!({ "input": input })).await;
    let post = &body["data"]["createPost"]["post"];
    assert_eq!(
        body["data"]["createPost"]["__typename"], "PostActionSuccess",
        "{body}"
    );
    assert_eq!(post["status"], "scheduled");
    assert_eq!(post["assets"][0]["__typename"], "ImageAsset");
    let id = post["id"].as_str().expect("id").to_owned();

    let edit = r#"mutation E($input: EditPostInput!) { editPost(input: $input) {
        __typename ... on PostActionSuccess { post { text dueAt isCustomScheduled } } ... on MutationError { message } } }"#;
    // Absent text keeps it.
    let (_, body) = gql(
        &sim,
        edit,
        json!({ "input": { "id": id, "dueAt": "2026-03-10T09:00:00Z" } }),
    )
    .await;
    assert_eq!(
        body["data"]["editPost"]["post"]["text"], "Photo day",
        "{body}"
    );
    assert_eq!(body["data"]["editPost"]["post"]["isCustomScheduled"], true);
    assert_eq!(
        body["data"]["editPost"]["post"]["dueAt"],
        "2026-03-10T09:00:00.000Z"
    );
    // Null clears it.
    let (_, body) = gql(&sim, edit, json!({ "input": { "id": id, "text": null } })).await;
    assert_eq!(body["data"]["editPost"]["post"]["text"], "", "{body}");

    let (_, body) = gql(
        &sim,
        edit,
        json!({ "input": { "id": "0123456789abcdef01234567", "text": "x" } }),
    )
    .await;
    assert_eq!(body["data"]["editPost"]["__typename"], "NotFoundError");

    let delete = r#"mutation D($id: PostId!) { deletePost(input: { id: $id }) { __typename ... on DeletePostSuccess { id } ... on MutationError { message } } }"#;
    let (_, body) = gql(&sim, delete, json!({ "id": id })).await;
    assert_eq!(
        body["data"]["deletePost"],
        json!({ "__typename": "DeletePostSuccess", "id": id })
    );
    let (_, body) = gql(&sim, delete, json!({ "id": id })).await;
    assert_eq!(
        body["data"]["deletePost"]["__typename"],
        "VoidMutationError"
    );
}

#[tokio::test]
async fn unknown_ids_are_not_found_errors() {
    let sim = frozen().await;
    let (status, body) = gql(
        &sim,
        r#"{ post(input: { id: "0123456789abcdef01234567" }) { id } }"#,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"], Value::Null);
    assert_eq!(code(&body), "NOT_FOUND");
    assert_eq!(body["errors"][0]["message"], "Post not found");
    assert_eq!(body["errors"][0]["path"], json!(["post"]));

    let (_, body) = gql(
        &sim,
        r#"{ channel(input: { id: "0123456789abcdef01234567" }) { id } }"#,
        Value::Null,
    )
    .await;
    assert_eq!(code(&body), "NOT_FOUND");
}

#[tokio::test]
async fn posts_pages_with_opaque_cursors() {
    let sim = frozen().await;
    let query = r#"query P($org: OrganizationId!, $after: String, $first: Int) {
      posts(input: { organizationId: $org, filter: { status: [scheduled] }, sort: [{ field: dueAt, direction: asc }] }, first: $first, after: $after) {
        edges { cursor node { id dueAt } }
        pageInfo { startCursor endCursor hasNextPage hasPreviousPage }
      } }"#;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let (_, body) = gql(
            &sim,
            query,
            json!({ "org": sim.organization_id(), "after": after, "first": 4 }),
        )
        .await;
        let page = &body["data"]["posts"];
        for edge in page["edges"].as_array().expect("edges") {
            seen.push((
                edge["node"]["id"].as_str().unwrap_or_default().to_owned(),
                edge["node"]["dueAt"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ));
        }
        assert_eq!(page["pageInfo"]["hasPreviousPage"], false);
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let scheduled = sim
        .store()
        .posts()
        .iter()
        .filter(|p| p.status == buffer_sim::PostStatus::Scheduled)
        .count();
    assert_eq!(seen.len(), scheduled);
    assert!(seen.windows(2).all(|w| w[0].1 <= w[1].1), "dueAt ascending");

    let (_, body) = gql(
        &sim,
        query,
        json!({ "org": sim.organization_id(), "first": 101 }),
    )
    .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    let (_, body) = gql(
        &sim,
        query,
        json!({ "org": sim.organization_id(), "after": "garbage" }),
    )
    .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn filters_by_channel_status_and_dates() {
    let sim = frozen().await;
    let twitter = channel_id(&sim, Service::Twitter);
    let query = r#"query P($org: OrganizationId!, $filter: PostsFiltersInput) {
      posts(input: { organizationId: $org, filter: $filter, sort: [{ field: createdAt, direction: desc }] }, first: 100) { edges { node { channelId status dueAt } } } }"#;
    let filter = json!({ "channelIds": [twitter], "status": ["sent"] });
    let (_, body) = gql(
        &sim,
        query,
        json!({ "org": sim.organization_id(), "filter": filter }),
    )
    .await;
    let edges = body["data"]["posts"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert_eq!(edges.len(), 2);
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["channelId"] == twitter.as_str() && e["node"]["status"] == "sent")
    );

    let filter = json!({ "dueAt": { "start": "2026-03-02T00:00:00Z", "end": "2026-03-02T23:59:59Z" }, "status": ["scheduled"] });
    let (_, body) = gql(
        &sim,
        query,
        json!({ "org": sim.organization_id(), "filter": filter }),
    )
    .await;
    let edges = body["data"]["posts"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert!(!edges.is_empty());
    assert!(edges.iter().all(|e| {
        e["node"]["dueAt"]
            .as_str()
            .unwrap_or_default()
            .starts_with("2026-03-02")
    }));
}

#[tokio::test]
async fn fields_the_simulator_does_not_model_still_answer() {
    let sim = frozen().await;
    let query = r#"query Q($org: OrganizationId!, $orgId: ID!) {
      postTemplates(input: { organizationId: $org }) { edges { node { id } } pageInfo { hasNextPage } }
      ideaGroups(input: { organizationId: $orgId }) { id }
      aggregatedPostMetrics(input: { organizationId: $org, startDateTime: "2026-01-01T00:00:00Z", endDateTime: "2026-02-01T00:00:00Z" }) { metrics { name } metricsUpdatedAt }
      account { preferences { defaultScheduleOption } connectedApps { clientId } avatar }
      posts(input: { organizationId: $org }, first: 1) { edges { node { notes { id } error { message } metrics { value } author { email } tags { id } } } }
    }"#;
    let (status, body) = gql(
        &sim,
        query,
        json!({ "org": sim.organization_id(), "orgId": sim.organization_id() }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let data = &body["data"];
    assert_eq!(data["postTemplates"]["edges"], json!([]));
    assert_eq!(data["postTemplates"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(data["ideaGroups"], json!([]));
    assert_eq!(data["aggregatedPostMetrics"]["metrics"], json!([]));
    assert_eq!(
        data["account"]["preferences"]["defaultScheduleOption"],
        "Queue"
    );
    assert_eq!(data["posts"]["edges"][0]["node"]["notes"], json!([]));

    let (_, body) = gql(
        &sim,
        r#"{ contentItem(input: { id: "x" }) { id } }"#,
        Value::Null,
    )
    .await;
    assert_eq!(code(&body), "NOT_FOUND");

    let mutation = r#"mutation { createPostTemplate(input: { organizationId: "x", title: "t", body: "b" }) { __typename ... on VoidMutationError { message } } }"#;
    let (status, body) = gql(&sim, mutation, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["createPostTemplate"]["__typename"], "VoidMutationError",
        "{body}"
    );
}

#[tokio::test]
async fn ideas_daily_limits_and_introspection() {
    let sim = frozen().await;
    let create = r#"mutation I($input: CreateIdeaInput!) { createIdea(input: $input) {
        __typename ... on Idea { id content { title services } } ... on IdeaResponse { idea { id } } ... on MutationError { message } } }"#;
    let input = json!({ "organizationId": sim.organization_id(), "content": { "title": "New idea", "services": ["twitter"] } });
    let (_, body) = gql(&sim, create, json!({ "input": input })).await;
    assert_eq!(body["data"]["createIdea"]["__typename"], "Idea", "{body}");
    assert_eq!(
        body["data"]["createIdea"]["content"]["services"],
        json!(["twitter"])
    );
    let (_, body) = gql(
        &sim,
        create,
        json!({ "input": { "organizationId": sim.organization_id(), "content": {} } }),
    )
    .await;
    assert_eq!(
        body["data"]["createIdea"]["__typename"],
        "InvalidInputError"
    );

    let ideas = r#"query($org: OrganizationId!) { ideas(input: { organizationId: $org }, first: 10) { edges { node { id content { title } } } pageInfo { hasNextPage } } }"#;
    let (_, body) = gql(&sim, ideas, json!({ "org": sim.organization_id() })).await;
    assert_eq!(
        body["data"]["ideas"]["edges"].as_array().map(Vec::len),
        Some(3),
        "{body}"
    );

    let twitter = channel_id(&sim, Service::Twitter);
    let limits = r#"query($ids: [ChannelId!]!) { dailyPostingLimits(input: { channelIds: $ids }) { channelId scheduled sent limit isAtLimit } }"#;
    let (_, body) = gql(&sim, limits, json!({ "ids": [twitter] })).await;
    let status = &body["data"]["dailyPostingLimits"][0];
    assert_eq!(status["channelId"], twitter.as_str());
    assert_eq!(status["scheduled"], 3, "{body}");
    assert_eq!(status["limit"], Value::Null);

    let (_, headers, body) = gql_full(
        &sim,
        "{ __schema { queryType { name } } __type(name: \"ShareMode\") { enumValues { name } } }",
        Value::Null,
    )
    .await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    assert!(headers.contains_key("ratelimit"));
}

#[tokio::test]
async fn operation_name_selects_among_several() {
    let sim = frozen().await;
    let doc = "query A { account { id } } query B { account { email } }";
    let (status, body) = gql(&sim, doc, Value::Null).await;
    assert_eq!(status, 400, "{body}");
    let response = common::http()
        .post(sim.graphql_url())
        .bearer_auth(sim.api_key())
        .json(&json!({ "query": doc, "operationName": "B" }))
        .send()
        .await
        .expect("request");
    let body: Value = response.json().await.expect("json");
    assert!(body["data"]["account"]["email"].is_string());
    assert_eq!(
        sim.requests()
            .last()
            .and_then(|e| e.operation.clone())
            .as_deref(),
        Some("B")
    );
}

#[tokio::test]
async fn graphql_auth_failures() {
    let sim = frozen().await;
    for key in [None, Some("wrong-key"), Some(sim.access_token())] {
        let mut request = common::http()
            .post(sim.graphql_url())
            .json(&json!({ "query": "{ account { id } }" }));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status().as_u16(), 401);
        let body: Value = response.json().await.expect("json");
        assert_eq!(
            body,
            json!({"errors":[{"message":"An authentication JWT or Access Token is required","extensions":{"code":"UNAUTHENTICATED"}}]})
        );
    }
}

#[tokio::test]
async fn aliased_creates_report_each_channel() {
    let sim = frozen().await;
    let (twitter, linkedin) = (
        channel_id(&sim, Service::Twitter),
        channel_id(&sim, Service::Linkedin),
    );
    let doc = r#"mutation Batch($a: CreatePostInput!, $b: CreatePostInput!, $c: CreatePostInput!) {
      p0: createPost(input: $a) { ...R }
      p1: createPost(input: $b) { ...R }
      p2: createPost(input: $c) { ...R }
    }
    fragment R on PostActionPayload { __typename ... on PostActionSuccess { post { id channelId } } ... on MutationError { message } }"#;
    let input = |channel: &str| json!({ "channelId": channel, "text": "Same news", "mode": "addToQueue", "schedulingType": "automatic" });
    let (status, body) = gql(
        &sim,
        doc,
        json!({ "a": input(&twitter), "b": input(&linkedin), "c": input(&twitter) }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["p0"]["post"]["channelId"], twitter.as_str());
    assert_eq!(data["p1"]["post"]["channelId"], linkedin.as_str());
    assert_eq!(
        data["p2"]["__typename"], "InvalidInputError",
        "the third repeats the first on its channel"
    );
    assert_eq!(sim.requests().last().map(|e| e.root_fields.len()), Some(3));
}
