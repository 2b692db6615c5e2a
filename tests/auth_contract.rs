//! The exact wire format of the token requests, and what a hostile token endpoint can and
//! cannot make the client print.

use buffer_bridge::Error;
use buffer_bridge::auth::{AuthorizationRequest, ClassicOAuth, Consent, OAuth};
use buffer_bridge::http::Credential;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REDIRECT: &str = "http://127.0.0.1:9/cb";

fn oauth(server: &MockServer, secret: Option<&str>) -> OAuth {
    let mut builder = OAuth::builder()
        .client_id("client-1")
        .redirect_uri(REDIRECT)
        .issuer(server.uri());
    if let Some(secret) = secret {
        builder = builder.client_secret(secret);
    }
    builder.build().unwrap()
}

fn request(oauth: &OAuth) -> AuthorizationRequest {
    oauth.authorize(&Consent::default())
}

fn tokens_body() -> serde_json::Value {
    serde_json::json!({
        "access_token": "at-1", "token_type": "Bearer", "expires_in": 3600,
        "refresh_token": "rt-2", "scope": "posts:read offline_access",
    })
}

/// The form fields of the one request the server received.
async fn form_of(server: &MockServer) -> Vec<(String, String)> {
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    serde_urlencoded::from_bytes(&requests[0].body).unwrap()
}

#[tokio::test]
async fn a_code_exchange_sends_the_verifier_and_a_confidential_client_its_secret_too() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tokens_body()))
        .mount(&server)
        .await;
    let oauth = oauth(&server, Some("client-secret-9"));
    let request = request(&oauth);
    let tokens = oauth.exchange(&request, "code-1").await.unwrap();
    assert_eq!(tokens.scopes(), ["posts:read", "offline_access"]);
    let form = form_of(&server).await;
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field("grant_type"), Some("authorization_code"));
    assert_eq!(field("code"), Some("code-1"));
    assert_eq!(field("redirect_uri"), Some(REDIRECT));
    assert_eq!(field("client_id"), Some("client-1"));
    assert_eq!(field("client_secret"), Some("client-secret-9"));
    assert_eq!(field("code_verifier").map(str::len), Some(43));
    assert!(
        server.received_requests().await.unwrap()[0]
            .headers
            .get("authorization")
            .is_none()
    );
}

#[tokio::test]
async fn a_refresh_sends_the_refresh_token_and_a_refused_one_is_grant_revoked_without_echo() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_grant",
            "error_description": "refresh token rt-secret-123456 was already used",
        })))
        .mount(&server)
        .await;
    let oauth = oauth(&server, None);
    let error = oauth
        .refresh(&Credential::new("rt-secret-123456"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::GrantRevoked { .. }), "{error}");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("rt-secret-123456"), "{shown}");
    let form = form_of(&server).await;
    assert!(form.contains(&("refresh_token".into(), "rt-secret-123456".into())));
    assert!(form.contains(&("client_id".into(), "client-1".into())));
    assert!(
        !form.iter().any(|(k, _)| k == "client_secret"),
        "a public client"
    );
}

#[tokio::test]
async fn a_token_answer_that_does_not_read_is_refused_without_quoting_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("{\"access_token\": \"leaky-token-777\""),
        )
        .mount(&server)
        .await;
    let oauth = oauth(&server, None);
    let error = oauth.exchange(&request(&oauth), "c").await.unwrap_err();
    assert!(matches!(error, Error::Protocol { .. }), "{error}");
    assert!(!format!("{error} {error:?}").contains("leaky-token-777"));
}

#[tokio::test]
async fn a_token_answer_past_the_body_cap_is_not_read() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(64 * 1024)))
        .mount(&server)
        .await;
    let mut settings = buffer_bridge::http::HttpSettings::default();
    settings.max_body_size = 1024;
    let oauth = OAuth::builder()
        .client_id("client-1")
        .redirect_uri(REDIRECT)
        .issuer(server.uri())
        .http_settings(settings)
        .build()
        .unwrap();
    let error = oauth.exchange(&request(&oauth), "c").await.unwrap_err();
    assert!(
        error.to_string().contains("larger than the 1024 bytes"),
        "{error}"
    );
}

#[tokio::test]
async fn the_classic_exchange_sends_the_code_unencoded_as_buffer_asks() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/1/oauth2/token.json"))
        .and(body_string_contains("code=1/mWot20jTwojsd00jFlaaR45"))
        .and(body_string_contains("grant_type=authorization_code"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({ "access_token": "1/classic" })),
        )
        .mount(&server)
        .await;
    let classic = ClassicOAuth::builder()
        .client_id("cid")
        .client_secret("csecret")
        .redirect_uri(REDIRECT)
        .api_base_url(format!("{}/1/", server.uri()))
        .build()
        .unwrap();
    let url = classic.authorize_url("st");
    assert!(
        url.starts_with("https://bufferapp.com/oauth2/authorize?client_id=cid"),
        "{url}"
    );
    classic.exchange("1/mWot20jTwojsd00jFlaaR45").await.unwrap();
    let form = form_of(&server).await;
    assert!(form.contains(&("client_secret".into(), "csecret".into())));
}

/// Hands out one token, as a provider would after a refresh.
#[derive(Debug)]
struct OneToken(Credential);

#[async_trait::async_trait]
impl buffer_bridge::auth::ProvideToken for OneToken {
    async fn access_token(&self) -> buffer_bridge::Result<Credential> {
        Ok(self.0.clone())
    }

    async fn rejected(&self, _: &Credential) -> buffer_bridge::Result<Credential> {
        Err(Error::grant_revoked("no other token"))
    }
}

#[tokio::test]
async fn a_provider_token_echoed_by_the_api_is_redacted_in_every_encoding() {
    use buffer_bridge::BackendExt;
    let token = "echo/token+abcdef123456";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "errors": [{
                "message": format!(
                    "token {token} or {} refused",
                    token.replace('/', "%2F").replace('+', "%2B")
                ),
                "extensions": { "code": "UNAUTHORIZED" },
            }],
        })))
        .mount(&server)
        .await;
    let buffer = buffer_bridge::graphql::GraphQl::builder()
        .token_provider(std::sync::Arc::new(OneToken(Credential::new(token))))
        .base_url(server.uri())
        .build()
        .unwrap();
    let error = buffer.account().await.unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("refused"), "{shown}");
    assert!(!shown.contains("abcdef123456"), "{shown}");
}
