//! The simulator as an authorization server: PKCE, rotation, reuse detection, expiry, scopes.

use base64::Engine as _;
use buffer_sim::{OAuthClient, Simulator};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::time::Duration;

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const VERIFIER: &str = "a-verifier-of-the-required-length-forty-three-chars-at-least";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Follows `/auth` and returns the query of the redirect back to the client.
async fn authorize(sim: &Simulator, client: &OAuthClient, scope: &str) -> Vec<(String, String)> {
    let url = format!(
        "{}/auth?{}",
        sim.issuer_url(),
        form(&[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "xyz"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ])
    );
    let answer = http().get(url).send().await.unwrap();
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn token(sim: &Simulator, pairs: &[(&str, &str)]) -> (u16, Value) {
    let answer = http()
        .post(format!("{}/token", sim.issuer_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs))
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

async fn exchange(sim: &Simulator, client: &OAuthClient, verifier: &str) -> (u16, Value) {
    let query = authorize(
        sim,
        client,
        "posts:read posts:write account:read offline_access",
    )
    .await;
    let code = query.iter().find(|(k, _)| k == "code").unwrap().1.clone();
    assert!(query.contains(&("state".into(), "xyz".into())));
    token(
        sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &client.client_id),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh(sim: &Simulator, client: &OAuthClient, refresh_token: &str) -> (u16, Value) {
    token(
        sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client.client_id),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

async fn account_status(sim: &Simulator, access_token: &str) -> u16 {
    http()
        .post(sim.graphql_url())
        .bearer_auth(access_token)
        .json(&serde_json::json!({ "query": "{ account { id } }" }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn discovery_points_at_the_simulator() {
    let sim = Simulator::start().await;
    let doc: Value = http()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            sim.issuer_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], sim.issuer_url());
    assert_eq!(doc["token_endpoint"], format!("{}/token", sim.issuer_url()));
    assert_eq!(doc["code_challenge_methods_supported"][0], "S256");
    let registered: Value = http()
        .post(doc["registration_endpoint"].as_str().unwrap())
        .json(&serde_json::json!({ "redirect_uris": [REDIRECT], "client_name": "t" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(registered["client_id"].is_string());
    assert!(registered.get("client_secret").is_none());
    assert_eq!(sim.oauth().stats().registrations, 1);
}

#[tokio::test]
async fn a_code_with_the_right_verifier_gives_tokens_the_api_accepts_until_they_expire() {
    let sim = Simulator::builder().clock_scale(0.0).start().await;
    let client = sim.oauth().register_client(&[REDIRECT], false);
    let (status, tokens) = exchange(&sim, &client, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["expires_in"], 3600);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(account_status(&sim, access).await, 200);
    sim.clock().advance(Duration::from_secs(3_601));
    assert_eq!(account_status(&sim, access).await, 401);
}

#[tokio::test]
async fn a_verifier_that_does_not_match_is_refused() {
    let sim = Simulator::start().await;
    let client = sim.oauth().register_client(&[REDIRECT], false);
    let (status, answer) = exchange(&sim, &client, "another-verifier-entirely").await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(sim.oauth().stats().code_exchanges, 0);
}

#[tokio::test]
async fn refresh_rotates_and_a_replayed_refresh_token_revokes_the_grant() {
    let sim = Simulator::start().await;
    let client = sim.oauth().register_client(&[REDIRECT], false);
    let (_, first) = exchange(&sim, &client, VERIFIER).await;
    let old = first["refresh_token"].as_str().unwrap();
    let (status, second) = refresh(&sim, &client, old).await;
    assert_eq!(status, 200);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let access = second["access_token"].as_str().unwrap();
    assert_eq!(account_status(&sim, access).await, 200);

    let (status, replay) = refresh(&sim, &client, old).await;
    assert_eq!(
        (status, replay["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let stats = sim.oauth().stats();
    assert_eq!((stats.refreshes, stats.reuse_detections), (1, 1));
    // Every token of the grant is gone: the newest refresh token and the access token.
    let (status, _) = refresh(&sim, &client, second["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(account_status(&sim, access).await, 401);
}

#[tokio::test]
async fn denied_consent_redirects_with_access_denied_and_the_state() {
    let sim = Simulator::start().await;
    let client = sim.oauth().register_client(&[REDIRECT], false);
    sim.oauth().set_consent(false);
    let query = authorize(&sim, &client, "posts:read").await;
    assert!(query.contains(&("error".into(), "access_denied".into())));
    assert!(query.contains(&("state".into(), "xyz".into())));
    assert_eq!(sim.oauth().stats().codes_issued, 0);
}

#[tokio::test]
async fn a_token_without_the_write_scope_cannot_create() {
    let sim = Simulator::start().await;
    let client = sim.oauth().register_client(&[REDIRECT], false);
    let query = authorize(&sim, &client, "posts:read account:read").await;
    let code = query.iter().find(|(k, _)| k == "code").unwrap().1.clone();
    let (_, tokens) = token(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &client.client_id),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    let answer: Value = http()
        .post(sim.graphql_url())
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .json(&serde_json::json!({ "query":
            "mutation { deletePost(input: { id: \"x\" }) { __typename } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(
        account_status(&sim, tokens["access_token"].as_str().unwrap()).await,
        200
    );
}

#[tokio::test]
async fn revocation_ends_the_grant() {
    let sim = Simulator::start().await;
    let client = sim.oauth().register_client(&[REDIRECT], false);
    let (_, tokens) = exchange(&sim, &client, VERIFIER).await;
    let answer = http()
        .post(format!("{}/token/revocation", sim.issuer_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[(
            "token",
            tokens["refresh_token"].as_str().unwrap(),
        )]))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        account_status(&sim, tokens["access_token"].as_str().unwrap()).await,
        401
    );
    assert_eq!(sim.oauth().stats().grants_revoked, 1);
}

/// Grants saved by one simulator and taken on by another (what the command line does between
/// commands): live tokens work there, rotation goes on, a replayed refresh token is still
/// recognised as reuse, and what is saved holds no usable token.
#[tokio::test]
async fn saved_grants_outlive_their_simulator_without_a_usable_token_in_them() {
    let first = Simulator::start().await;
    let client = first.oauth().register_client(&[REDIRECT], false);
    let (_, issued) = exchange(&first, &client, VERIFIER).await;
    let (_, rotated) = refresh(&first, &client, issued["refresh_token"].as_str().unwrap()).await;
    let saved = first.oauth().save_grants(first.store()).to_string();
    for token in [&issued, &rotated] {
        for name in ["access_token", "refresh_token"] {
            let token = token[name].as_str().unwrap();
            assert!(!saved.contains(token), "{name} in the saved grants");
        }
    }
    drop(first);

    let second = Simulator::start().await;
    let taken = second
        .oauth()
        .load_grants(second.store(), &serde_json::from_str(&saved).unwrap())
        .unwrap();
    assert_eq!(taken, 1);
    let access = rotated["access_token"].as_str().unwrap();
    assert_eq!(account_status(&second, access).await, 200);
    let (status, next) =
        refresh(&second, &client, rotated["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{next}");
    let (status, _) = refresh(&second, &client, issued["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(second.oauth().stats().reuse_detections, 1);
    assert_eq!(
        account_status(&second, next["access_token"].as_str().unwrap()).await,
        401
    );
}

#[tokio::test]
async fn malformed_saved_grants_are_refused_whole() {
    let sim = Simulator::start().await;
    for saved in [
        serde_json::json!({}),
        serde_json::json!({ "version": 2, "clients": [], "grants": [] }),
        serde_json::json!({ "version": 1, "clients": [{ "client_id": 7 }], "grants": [] }),
        serde_json::json!({ "version": 1, "clients": [], "grants": [{ "account": "x" }] }),
    ] {
        assert!(
            sim.oauth().load_grants(sim.store(), &saved).is_err(),
            "{saved}"
        );
    }
    let registered = sim.oauth().save_grants(sim.store());
    assert_eq!(registered["clients"], serde_json::json!([]));
}
