//! OAuth on the simulator: PKCE, refresh across an expiry with many callers, a 401 answered by
//! one refresh, a revoked grant, scopes, the classic code exchange. Every count is read from
//! the simulator (its OAuth counters and request log). The crash test is in `auth_crash.rs`,
//! alone in its binary so that it can capture every log line.

mod auth_support;

use auth_support::{REDIRECT, authorize, follow, oauth, start};
use buffer_bridge::auth::{
    ClassicOAuth, Consent, MemoryStore, OAuth, ProvideToken, RefreshingToken, TokenStore,
};
use buffer_bridge::graphql::GraphQl;
use buffer_bridge::model::NewPost;
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::{BackendExt, Error};
use std::sync::Arc;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3_600);

fn graphql(sim: &buffer_sim::Simulator, provider: Arc<dyn ProvideToken>) -> GraphQl {
    GraphQl::builder()
        .token_provider(provider)
        .base_url(sim.graphql_url())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_callers_across_an_expiry_send_exactly_one_refresh() {
    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    let store = Arc::new(MemoryStore::new());
    store
        .save("u1", &authorize(&oauth, &Consent::default()).await)
        .await
        .unwrap();
    let provider = Arc::new(RefreshingToken::new(oauth, store, "u1"));
    let buffer = graphql(&sim, provider);
    buffer.account().await.unwrap();
    assert_eq!(sim.oauth().stats().refreshes, 0, "a live token is reused");

    sim.clock().advance(HOUR);
    sim.clear_requests();
    let calls = (0..50).map(|_| {
        let buffer = buffer.clone();
        tokio::spawn(async move { buffer.account().await })
    });
    for call in futures::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    let stats = sim.oauth().stats();
    assert_eq!(stats.refreshes, 1, "{stats:?}");
    assert_eq!((stats.reuse_detections, stats.grants_revoked), (0, 0));
    assert_eq!(sim.requests_to("/token"), 1);
    let api: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|e| e.root_fields.iter().any(|f| f == "account"))
        .collect();
    assert_eq!(api.len(), 50);
    assert!(
        api.iter().all(|e| e.status == Some(200)),
        "no call met an expired token"
    );
}

/// An OAuth client whose clock stands at the simulator's start, whatever the simulator's
/// clock does: its tokens look live to it while the API has stopped taking them.
fn lagging_oauth(sim: &buffer_sim::Simulator, client: &buffer_sim::OAuthClient) -> OAuth {
    let frozen = sim.clock().now();
    OAuth::builder()
        .client_id(&client.client_id)
        .redirect_uri(REDIRECT)
        .issuer(sim.issuer_url())
        .clock(Arc::new(move || frozen))
        .build()
        .unwrap()
}

/// The statuses of the GraphQL API's answers, oldest first.
fn api_statuses(sim: &buffer_sim::Simulator) -> Vec<Option<u16>> {
    sim.requests()
        .iter()
        .filter(|e| e.path == "/" || e.path == "/graphql")
        .map(|e| e.status)
        .collect()
}

#[tokio::test]
async fn a_refused_token_gets_one_refresh_and_one_retry() {
    let (sim, client) = start().await;
    let oauth = lagging_oauth(&sim, &client);
    let store = Arc::new(MemoryStore::new());
    store
        .save("u1", &authorize(&oauth, &Consent::default()).await)
        .await
        .unwrap();
    let buffer = graphql(&sim, Arc::new(RefreshingToken::new(oauth, store, "u1")));
    sim.clock().advance(HOUR);
    sim.clear_requests();
    buffer.account().await.unwrap();
    assert_eq!(api_statuses(&sim), [Some(401), Some(200)]);
    assert_eq!(sim.oauth().stats().refreshes, 1);
}

#[tokio::test]
async fn a_revoked_grant_costs_one_401_and_one_refused_refresh() {
    let (sim, client) = start().await;
    let oauth = lagging_oauth(&sim, &client);
    let tokens = authorize(&oauth, &Consent::default()).await;
    let store = Arc::new(MemoryStore::new());
    store.save("u1", &tokens).await.unwrap();
    oauth.revoke(&tokens).await.unwrap();
    let buffer = graphql(&sim, Arc::new(RefreshingToken::new(oauth, store, "u1")));
    sim.clear_requests();
    let error = buffer.account().await.unwrap_err();
    assert!(matches!(error, Error::GrantRevoked { .. }), "{error}");
    let again = buffer.account().await.unwrap_err();
    assert!(matches!(again, Error::GrantRevoked { .. }), "{again}");
    assert_eq!(api_statuses(&sim), [Some(401)]);
    assert_eq!(sim.requests_to("/token"), 1);
}

#[tokio::test]
async fn a_code_with_another_verifier_is_refused() {
    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    let asked = oauth.authorize(&Consent::default());
    let code = asked
        .code_from_redirect(&follow(asked.url()).await)
        .unwrap();
    let other = oauth.authorize(&Consent::default());
    let error = oauth.exchange(&other, &code).await.unwrap_err();
    assert_eq!(error.oauth_code(), Some("invalid_grant"), "{error}");
    assert_eq!(sim.oauth().stats().code_exchanges, 0);
}

#[tokio::test]
async fn a_user_who_says_no_is_access_denied() {
    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    sim.oauth().set_consent(false);
    let request = oauth.authorize(&Consent::default());
    let error = request
        .code_from_redirect(&follow(request.url()).await)
        .unwrap_err();
    assert_eq!(error.oauth_code(), Some("access_denied"), "{error}");
}

#[tokio::test]
async fn a_token_without_the_write_scope_is_told_so() {
    let (sim, client) = start().await;
    let oauth = oauth(&sim, &client);
    let consent = Consent::default().scopes(["account:read", "posts:read", "offline_access"]);
    let store = Arc::new(MemoryStore::new());
    store
        .save("u1", &authorize(&oauth, &consent).await)
        .await
        .unwrap();
    let buffer = graphql(&sim, Arc::new(RefreshingToken::new(oauth, store, "u1")));
    let channel = sim.demo().channels[0].id.clone();
    let outcome = buffer
        .create_post(&NewPost::new("scoped").channel(channel.as_str()))
        .await;
    let error = match outcome {
        Err(error) => error,
        Ok(outcome) => outcome.failures().next().map(|(_, e)| e.clone()).unwrap(),
    };
    assert!(error.is_missing_scope(), "{error}");
    assert_eq!(
        sim.store()
            .posts()
            .iter()
            .filter(|p| p.text == "scoped")
            .count(),
        0
    );
}

#[tokio::test]
async fn the_classic_code_exchange_gives_a_token_the_classic_api_takes() {
    let (sim, _) = start().await;
    let client = sim.oauth().register_client(&[REDIRECT], true);
    let classic = ClassicOAuth::builder()
        .client_id(&client.client_id)
        .client_secret(client.client_secret.clone().unwrap())
        .redirect_uri(REDIRECT)
        .authorize_url(format!("{}/oauth2/authorize", sim.issuer_url()))
        .api_base_url(sim.rest_url())
        .build()
        .unwrap();
    let redirect = follow(&classic.authorize_url("s1")).await;
    let query: Vec<(String, String)> = url::Url::parse(&redirect)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert!(query.contains(&("state".into(), "s1".into())));
    let code = &query.iter().find(|(k, _)| k == "code").unwrap().1;
    let token = classic.exchange(code).await.unwrap();
    let rest = ClassicRest::builder()
        .access_token(token)
        .base_url(sim.rest_url())
        .build()
        .unwrap();
    assert_eq!(
        rest.account().await.unwrap().id.as_str(),
        sim.demo().account.id
    );
    assert_eq!(sim.oauth().stats().classic_exchanges, 1);
    let again = classic.exchange(code).await.unwrap_err();
    assert_eq!(
        again.oauth_code(),
        Some("invalid_grant"),
        "a code is single-use"
    );
}

#[tokio::test]
async fn a_client_registered_through_discovery_completes_the_flow() {
    let (sim, _) = start().await;
    let registered = OAuth::builder()
        .issuer(sim.issuer_url())
        .redirect_uri(REDIRECT)
        .clock(auth_support::sim_clock(&sim))
        .register("buffer-bridge tests")
        .await
        .unwrap();
    // One from `start`, one from the registration endpoint.
    assert_eq!(sim.oauth().stats().registrations, 2);
    let tokens = authorize(&registered, &Consent::default()).await;
    assert!(tokens.refresh_token().is_some());
    assert_eq!(sim.oauth().stats().code_exchanges, 1);

    // The same server under another name is another issuer: its document is refused.
    let renamed = sim.issuer_url().replace("127.0.0.1", "localhost");
    let error = OAuth::builder()
        .issuer(renamed)
        .client_id("x")
        .redirect_uri(REDIRECT)
        .discover()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("another issuer"), "{error}");
}
