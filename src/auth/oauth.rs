//! The OAuth flows: Buffer's OAuth 2.0 for GraphQL (authorization code with PKCE S256, refresh,
//! revocation) and the classic API's code exchange.
//!
//! Written on the library's own transport rather than on the `oauth2` crate: the token
//! endpoint is three form POSTs, and going through the transport gives them what every other
//! request has (body cap, one deadline, redirects refused, HTTPS except loopback) without a
//! second HTTP stack or an adapter; rotation and single-flight, the hard parts, are the
//! caller's job with any crate ([`RefreshingToken`](super::RefreshingToken)).

use super::{Clock, Tokens, system_clock};
use crate::http::transport::{Authorization, Transport};
use crate::http::{Credential, HttpSettings, endpoint_url};
use crate::{Error, Result};
use base64::Engine as _;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;
use url::Url;

/// Buffer's authorization server.
pub const DEFAULT_ISSUER: &str = "https://auth.buffer.com";

/// The GraphQL API, as the `resource` an access token is for.
pub const GRAPHQL_RESOURCE: &str = "https://api.buffer.com";

/// The scopes asked for by default: everything a backend does, and `offline_access` for a
/// refresh token.
pub const DEFAULT_SCOPES: &[&str] = &[
    "account:read",
    "posts:read",
    "posts:write",
    "ideas:read",
    "ideas:write",
    "offline_access",
];

/// The longest lifetime believed from a token response: a server number is clamped.
const MAX_EXPIRES_IN_SECS: i64 = 366 * 24 * 3600;

/// What to ask the user to consent to.
#[derive(Clone, Debug)]
pub struct Consent {
    scopes: Vec<String>,
    resource: Option<String>,
    login_hint: Option<String>,
}

impl Default for Consent {
    fn default() -> Self {
        Self {
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            resource: Some(GRAPHQL_RESOURCE.to_owned()),
            login_hint: None,
        }
    }
}

impl Consent {
    /// Other scopes than [`DEFAULT_SCOPES`] (keep `offline_access` to get a refresh token).
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The API the token is for (RFC 8707; default [`GRAPHQL_RESOURCE`]).
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Which account is expected to sign in (the simulator consents for it).
    pub fn login_hint(mut self, hint: impl Into<String>) -> Self {
        self.login_hint = Some(hint.into());
        self
    }
}

/// One authorization in progress: the URL to send the user to, and the `state` and PKCE
/// verifier that must come back with the code. Its `Debug` hides the verifier.
pub struct AuthorizationRequest {
    url: Url,
    state: String,
    verifier: SecretString,
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl AuthorizationRequest {
    /// Where the user consents.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The `state` the redirect must carry back.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The code from the URL the user was redirected to, after checking its `state` (a
    /// redirect with another state is someone else's, or forged). `error=access_denied` and
    /// the other OAuth errors become [`Error::OAuth`].
    pub fn code_from_redirect(&self, redirect: &str) -> Result<String> {
        let url = Url::parse(redirect)
            .map_err(|e| Error::invalid_input(format!("the redirect is not a URL: {e}")))?;
        let mut code = None;
        let mut state = None;
        let mut error = None;
        let mut description = None;
        for (name, value) in url.query_pairs() {
            match &*name {
                "code" => code = Some(value.into_owned()),
                "state" => state = Some(value.into_owned()),
                "error" => error = Some(value.into_owned()),
                "error_description" => description = Some(value.into_owned()),
                _ => {}
            }
        }
        if state.as_deref() != Some(self.state.as_str()) {
            return Err(Error::invalid_input(
                "the redirect's state is not this authorization's: refused (it may be forged)",
            ));
        }
        if let Some(error) = error {
            return Err(Error::oauth(
                bounded(&error),
                bounded(
                    description
                        .as_deref()
                        .unwrap_or("the authorization was refused"),
                ),
            ));
        }
        code.filter(|c| !c.is_empty())
            .ok_or_else(|| Error::invalid_input("the redirect carries no code"))
    }
}

/// Buffer's OAuth 2.0 for one registered client (public, or confidential with a secret).
/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct OAuth {
    inner: Arc<Inner>,
}

struct Inner {
    client_id: String,
    client_secret: Option<Credential>,
    redirect_uri: String,
    authorization_endpoint: Url,
    token_endpoint: Url,
    revocation_endpoint: Url,
    transport: Transport,
    clock: Clock,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("client_id", &self.client_id)
            .field("confidential", &self.client_secret.is_some())
            .field("token_endpoint", &self.token_endpoint.as_str())
            .finish_non_exhaustive()
    }
}

/// Builds an [`OAuth`].
#[derive(Clone, Default)]
pub struct OAuthBuilder {
    client_id: Option<String>,
    client_secret: Option<Credential>,
    redirect_uri: Option<String>,
    issuer: Option<String>,
    http: HttpSettings,
    client: Option<reqwest::Client>,
    clock: Option<Clock>,
}

impl fmt::Debug for OAuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthBuilder")
            .field("client_id", &self.client_id)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl OAuth {
    /// A builder; the client id and redirect URI are required.
    pub fn builder() -> OAuthBuilder {
        OAuthBuilder::default()
    }

    /// The client's id.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The clock expiries are reckoned by.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// A new authorization: a fresh `state` and PKCE verifier, and the URL with the S256
    /// challenge, the scopes and the resource.
    pub fn authorize(&self, consent: &Consent) -> AuthorizationRequest {
        let state = random_token(16);
        let verifier = random_token(32);
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        let mut url = self.inner.authorization_endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.inner.client_id)
                .append_pair("redirect_uri", &self.inner.redirect_uri)
                .append_pair("scope", &consent.scopes.join(" "))
                .append_pair("state", &state)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256");
            if let Some(resource) = &consent.resource {
                query.append_pair("resource", resource);
            }
            if let Some(hint) = &consent.login_hint {
                query.append_pair("login_hint", hint);
            }
        }
        AuthorizationRequest {
            url,
            state,
            verifier: SecretString::from(verifier),
        }
    }

    /// Exchanges the code the redirect brought for tokens, proving with the request's PKCE
    /// verifier that this is the client that asked.
    pub async fn exchange(&self, request: &AuthorizationRequest, code: &str) -> Result<Tokens> {
        let code = Credential::new(code);
        let verifier = Credential::new(request.verifier.expose_secret());
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", &self.inner.redirect_uri),
            ("code_verifier", verifier.expose()),
        ];
        let answer = self.post_token(&form, &[&code, &verifier]).await?;
        answer.map_err(|(code, message)| Error::oauth(code, message))
    }

    /// New tokens for a refresh token, which is spent by this call: store the new refresh
    /// token before anything else. A refused refresh token means the grant is gone
    /// ([`Error::GrantRevoked`]): revoked, expired, or already used, and Buffer revokes the
    /// grant when a used one is presented again.
    pub async fn refresh(&self, refresh_token: &Credential) -> Result<Tokens> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        let answer = self.post_token(&form, &[refresh_token]).await?;
        let mut tokens = answer.map_err(|(code, message)| match code.as_str() {
            "invalid_grant" => Error::grant_revoked(message),
            _ => Error::oauth(code, message),
        })?;
        if tokens.refresh_token().is_none() {
            // A server that does not rotate keeps the old one valid.
            tokens = Tokens::new(
                tokens.access_token().clone(),
                Some(refresh_token.clone()),
                tokens.expires_at(),
                tokens.scopes().to_vec(),
            );
        }
        Ok(tokens)
    }

    /// Revokes the grant behind `tokens` (its refresh token, or its access token when it has
    /// none): the user's consent ends, as at sign-out.
    pub async fn revoke(&self, tokens: &Tokens) -> Result<()> {
        let token = tokens.refresh_token().unwrap_or(tokens.access_token());
        let mut form = vec![
            ("token", token.expose()),
            ("client_id", &self.inner.client_id),
        ];
        if let Some(secret) = &self.inner.client_secret {
            form.push(("client_secret", secret.expose()));
        }
        let request = self
            .inner
            .transport
            .request(Method::POST, self.inner.revocation_endpoint.clone())
            .header(CONTENT_TYPE, form_type())
            .body(encode(&form));
        let received = self.inner.transport.send(request).await?;
        match received.status {
            200..=299 => Ok(()),
            status => Err(oauth_error(status, &received.body, &[token])),
        }
    }

    /// POSTs a token request with the client's credentials; a success is read as tokens, an
    /// OAuth refusal returned as its code and description for the caller to type.
    async fn post_token(
        &self,
        form: &[(&str, &str)],
        secrets: &[&Credential],
    ) -> Result<std::result::Result<Tokens, (String, String)>> {
        let mut form = form.to_vec();
        form.push(("client_id", &self.inner.client_id));
        if let Some(secret) = &self.inner.client_secret {
            form.push(("client_secret", secret.expose()));
        }
        let request = self
            .inner
            .transport
            .request(Method::POST, self.inner.token_endpoint.clone())
            .header(CONTENT_TYPE, form_type())
            .body(encode(&form));
        let received = self.inner.transport.send(request).await?;
        if !(200..300).contains(&received.status) {
            // The client's own secret was sent too: a server that echoes it must not put it
            // in an error.
            let mut sent: Vec<&Credential> = secrets.to_vec();
            sent.extend(self.inner.client_secret.as_ref());
            return match oauth_error(received.status, &received.body, &sent) {
                Error::OAuth { code, message, .. } => Ok(Err((code, message))),
                other => Err(other),
            };
        }
        received
            .deadline
            .check(self.tokens_from(&received.body))
            .map(Ok)
    }

    /// A token response: tokens become credentials at once, and a body that does not read
    /// is refused without quoting it (it holds tokens).
    fn tokens_from(&self, body: &[u8]) -> Result<Tokens> {
        #[derive(Deserialize)]
        struct Answer {
            access_token: String,
            #[serde(default)]
            refresh_token: Option<String>,
            /// Read leniently (a float, a string, a number past `i64`): refusing the answer
            /// over it would drop the refresh token the server has just rotated, and the next
            /// refresh would revoke the grant.
            #[serde(default, deserialize_with = "crate::rest::wire::lenient::scalar")]
            expires_in: serde_json::Value,
            #[serde(default)]
            scope: Option<String>,
        }
        let unreadable = || {
            Error::protocol(
                Some(200),
                "the token endpoint's answer is not a token response (not quoted: it may hold \
                 tokens)",
                "",
            )
        };
        // serde reads a struct from a list too: `["x"]` would pass with `x` as the token.
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(unreadable());
        }
        let answer: Answer = serde_json::from_slice(body).map_err(|_| unreadable())?;
        let expires_in = match &answer.expires_in {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|secs| !secs.is_nan());
        let expires_at = expires_in.map(|secs| {
            // `as` saturates; the clamp keeps the time representable.
            let secs = (secs as i64).clamp(0, MAX_EXPIRES_IN_SECS);
            (self.inner.clock)() + chrono::Duration::seconds(secs)
        });
        Ok(Tokens::new(
            Credential::new(answer.access_token),
            answer.refresh_token.map(Credential::new),
            expires_at,
            answer
                .scope
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
        ))
    }
}

impl OAuthBuilder {
    /// The client's id (Settings → API → App Clients, or dynamic registration).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The secret of a confidential client (sent with the PKCE verifier, never instead).
    pub fn client_secret(mut self, secret: impl Into<Credential>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// Where the user's browser comes back with the code (registered with the client).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// The authorization server (default [`DEFAULT_ISSUER`]); its endpoints are where
    /// Buffer's discovery document puts them: `/auth`, `/token`, `/token/revocation`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Timeouts, body cap, user agent.
    pub fn http_settings(mut self, settings: HttpSettings) -> Self {
        self.http = settings;
        self
    }

    /// A reqwest client of your own (proxies, TLS roots); redirects are refused whatever it
    /// is set to do.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Where "now" comes from for expiries (default the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Builds the client, with the endpoints where Buffer's discovery document puts them
    /// under the issuer (no request).
    pub fn build(self) -> Result<OAuth> {
        let endpoints = Endpoints::buffer(&self.issuer_url()?)?;
        let transport = self.transport()?;
        self.finish(endpoints, transport)
    }

    /// Builds the client with the endpoints the issuer's discovery document
    /// (`/.well-known/oauth-authorization-server`) names, after checking that it is the
    /// issuer's own and that it takes PKCE S256.
    pub async fn discover(self) -> Result<OAuth> {
        let transport = self.transport()?;
        let endpoints = Endpoints::discover(&transport, &self.issuer_url()?).await?;
        self.finish(endpoints, transport)
    }

    /// Registers a public client for the redirect URI (dynamic client registration, RFC
    /// 7591, at the endpoint discovery names) and builds it: keep
    /// [`OAuth::client_id`] for the next run.
    pub async fn register(mut self, client_name: &str) -> Result<OAuth> {
        let transport = self.transport()?;
        let endpoints = Endpoints::discover(&transport, &self.issuer_url()?).await?;
        let registration = endpoints.registration.clone().ok_or_else(|| {
            Error::invalid_input("the issuer does not offer dynamic client registration")
        })?;
        let redirect_uri = self.redirect_uri.clone().ok_or_else(|| {
            Error::invalid_input("no redirect URI: call redirect_uri() on the builder")
        })?;
        let body = serde_json::json!({
            "client_name": client_name,
            "redirect_uris": [redirect_uri],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
        });
        let request = transport
            .request(Method::POST, registration)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body.to_string());
        let received = transport.send(request).await?;
        #[derive(Deserialize)]
        struct Registered {
            client_id: String,
        }
        match received.status {
            200..=299 => {
                let registered: Registered =
                    serde_json::from_slice(&received.body).map_err(|_| {
                        Error::protocol(
                            Some(received.status),
                            "the registration answer has no client_id",
                            "",
                        )
                    })?;
                self.client_id = Some(registered.client_id);
                self.finish(endpoints, transport)
            }
            status => Err(oauth_error(status, &received.body, &[])),
        }
    }

    fn issuer_url(&self) -> Result<Url> {
        let issuer = self.issuer.as_deref().unwrap_or(DEFAULT_ISSUER);
        endpoint_url(issuer.trim_end_matches('/'))
    }

    fn transport(&self) -> Result<Transport> {
        Transport::new(
            &self.http,
            Authorization::Nothing,
            self.client.clone(),
            "Buffer's authorization server",
        )
    }

    fn finish(self, endpoints: Endpoints, transport: Transport) -> Result<OAuth> {
        let client_id = self
            .client_id
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| Error::invalid_input("no client id: call client_id() on the builder"))?;
        let redirect_uri = self.redirect_uri.ok_or_else(|| {
            Error::invalid_input("no redirect URI: call redirect_uri() on the builder")
        })?;
        Url::parse(&redirect_uri)
            .map_err(|e| Error::invalid_input(format!("the redirect URI is not a URL: {e}")))?;
        Ok(OAuth {
            inner: Arc::new(Inner {
                client_id,
                client_secret: self.client_secret,
                redirect_uri,
                authorization_endpoint: endpoints.authorization,
                token_endpoint: endpoints.token,
                revocation_endpoint: endpoints.revocation,
                transport,
                clock: self.clock.unwrap_or_else(system_clock),
            }),
        })
    }
}

/// Where an authorization server's endpoints are.
struct Endpoints {
    authorization: Url,
    token: Url,
    revocation: Url,
    registration: Option<Url>,
}

impl Endpoints {
    /// Where Buffer's discovery document puts them under `issuer`.
    fn buffer(issuer: &Url) -> Result<Self> {
        let at =
            |path: &str| endpoint_url(&format!("{}{path}", issuer.as_str().trim_end_matches('/')));
        Ok(Self {
            authorization: at("/auth")?,
            token: at("/token")?,
            revocation: at("/token/revocation")?,
            registration: Some(at("/reg")?),
        })
    }

    /// Read from the issuer's discovery document. Every endpoint must be HTTPS (or loopback),
    /// the document must name this issuer, and S256 must be among its PKCE methods.
    async fn discover(transport: &Transport, issuer: &Url) -> Result<Self> {
        #[derive(Deserialize)]
        struct Document {
            issuer: String,
            authorization_endpoint: String,
            token_endpoint: String,
            #[serde(default)]
            revocation_endpoint: Option<String>,
            #[serde(default)]
            registration_endpoint: Option<String>,
            #[serde(default)]
            code_challenge_methods_supported: Vec<String>,
        }
        let base = issuer.as_str().trim_end_matches('/');
        let url = endpoint_url(&format!("{base}/.well-known/oauth-authorization-server"))?;
        let received = transport.send(transport.request(Method::GET, url)).await?;
        if received.status != 200 {
            return Err(Error::from_status(
                received.status,
                Some(format!(
                    "the issuer's discovery document answered HTTP {}",
                    received.status
                )),
            ));
        }
        let document: Document = serde_json::from_slice(&received.body).map_err(|e| {
            Error::protocol(
                Some(200),
                format!("the discovery document is not readable: {e}"),
                "",
            )
        })?;
        if document.issuer.trim_end_matches('/') != base {
            return Err(Error::invalid_input(format!(
                "the discovery document names another issuer ({}); refused",
                bounded(&document.issuer)
            )));
        }
        if !document
            .code_challenge_methods_supported
            .iter()
            .any(|m| m == "S256")
        {
            return Err(Error::invalid_input(
                "the issuer does not list PKCE S256, which buffer-bridge requires",
            ));
        }
        let fallback = Self::buffer(issuer)?;
        Ok(Self {
            authorization: endpoint_url(&document.authorization_endpoint)?,
            token: endpoint_url(&document.token_endpoint)?,
            revocation: match document.revocation_endpoint {
                Some(url) => endpoint_url(&url)?,
                None => fallback.revocation,
            },
            registration: document
                .registration_endpoint
                .map(|url| endpoint_url(&url))
                .transpose()?,
        })
    }
}

/// The classic API's OAuth (`bufferapp.com/oauth2/authorize`, `POST /1/oauth2/token.json`),
/// for applications still onboarding users there: its tokens are long-lived and have no
/// refresh.
#[derive(Debug)]
pub struct ClassicOAuth {
    client_id: String,
    client_secret: Credential,
    redirect_uri: String,
    authorize_url: Url,
    token_url: Url,
    transport: Transport,
}

/// Builds a [`ClassicOAuth`].
#[derive(Clone, Debug, Default)]
pub struct ClassicOAuthBuilder {
    client_id: Option<String>,
    client_secret: Option<Credential>,
    redirect_uri: Option<String>,
    authorize_url: Option<String>,
    api_base_url: Option<String>,
    http: HttpSettings,
}

impl ClassicOAuth {
    /// A builder; client id, secret and redirect URI are required.
    pub fn builder() -> ClassicOAuthBuilder {
        ClassicOAuthBuilder::default()
    }

    /// Where the user consents (`state` comes back with the code).
    pub fn authorize_url(&self, state: &str) -> String {
        let mut url = self.authorize_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("state", state);
        url.into()
    }

    /// The long-lived classic access token for a code (valid 30 s). Buffer wants the code
    /// as it came (`1/abc`, not `1%2Fabc`), so a code of URL-safe characters is sent so.
    pub async fn exchange(&self, code: &str) -> Result<Credential> {
        let code = Credential::new(code);
        let raw_code = code
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-~".contains(c));
        let mut body = encode(&[
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
            ("redirect_uri", &self.redirect_uri),
            ("grant_type", "authorization_code"),
        ]);
        body.push_str("&code=");
        match raw_code {
            true => body.push_str(code.expose()),
            false => body.push_str(&encode(&[("", code.expose())])[1..]),
        }
        let request = self
            .transport
            .request(Method::POST, self.token_url.clone())
            .header(CONTENT_TYPE, form_type())
            .body(body);
        let received = self.transport.send(request).await?;
        #[derive(Deserialize)]
        struct Answer {
            access_token: String,
        }
        match received.status {
            200..=299 => serde_json::from_slice::<Answer>(&received.body)
                .map(|a| Credential::new(a.access_token))
                .map_err(|_| {
                    Error::protocol(
                        Some(received.status),
                        "the classic token answer has no access_token (not quoted: it may \
                         hold tokens)",
                        "",
                    )
                }),
            status => {
                let secrets = [&code, &self.client_secret];
                let message = serde_json::from_slice::<serde_json::Value>(&received.body)
                    .ok()
                    .and_then(|v| v["error"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| format!("HTTP {status}"));
                Err(Error::oauth("invalid_grant", redact(&message, &secrets)))
            }
        }
    }
}

impl ClassicOAuthBuilder {
    /// The application's client id.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The application's client secret.
    pub fn client_secret(mut self, secret: impl Into<Credential>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// The registered redirect URI.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// Where users consent (default `https://bufferapp.com/oauth2/authorize`).
    pub fn authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = Some(url.into());
        self
    }

    /// The classic API (default `https://api.bufferapp.com/1/`): the token endpoint is
    /// `oauth2/token.json` under it.
    pub fn api_base_url(mut self, url: impl Into<String>) -> Self {
        self.api_base_url = Some(url.into());
        self
    }

    /// Timeouts, body cap, user agent.
    pub fn http_settings(mut self, settings: HttpSettings) -> Self {
        self.http = settings;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<ClassicOAuth> {
        let missing =
            |what: &str| Error::invalid_input(format!("no {what}: set it on the builder"));
        let client_id = self.client_id.ok_or_else(|| missing("client id"))?;
        let client_secret = self.client_secret.ok_or_else(|| missing("client secret"))?;
        let redirect_uri = self.redirect_uri.ok_or_else(|| missing("redirect URI"))?;
        let authorize_url = endpoint_url(
            self.authorize_url
                .as_deref()
                .unwrap_or("https://bufferapp.com/oauth2/authorize"),
        )?;
        let base = crate::http::base_url(
            self.api_base_url
                .as_deref()
                .unwrap_or(crate::rest::DEFAULT_BASE_URL),
        )?;
        let token_url = base
            .join("oauth2/token.json")
            .map_err(|e| Error::invalid_input(format!("bad classic API base URL: {e}")))?;
        Ok(ClassicOAuth {
            client_id,
            client_secret,
            redirect_uri,
            authorize_url,
            token_url,
            transport: Transport::new(
                &self.http,
                Authorization::Nothing,
                None,
                "the classic authorization server",
            )?,
        })
    }
}

/// An OAuth error answer as [`Error::OAuth`], its description cleared of the secrets sent;
/// an answer that is not one becomes an error of its status, without the body.
fn oauth_error(status: u16, body: &[u8], secrets: &[&Credential]) -> Error {
    #[derive(Deserialize)]
    struct Refusal {
        error: String,
        #[serde(default)]
        error_description: Option<String>,
    }
    match serde_json::from_slice::<Refusal>(body) {
        Ok(refusal) => Error::oauth(
            redact(&bounded(&refusal.error), secrets),
            redact(
                &bounded(
                    refusal
                        .error_description
                        .as_deref()
                        .unwrap_or("no description"),
                ),
                secrets,
            ),
        ),
        Err(_) => Error::from_status(
            status,
            Some(format!(
                "the authorization server answered HTTP {status} without an OAuth error"
            )),
        ),
    }
}

fn redact(text: &str, secrets: &[&Credential]) -> String {
    secrets
        .iter()
        .fold(text.to_owned(), |text, secret| secret.redact(&text))
}

/// At most 200 characters of what a server said.
fn bounded(text: &str) -> String {
    text.chars().take(200).collect()
}

fn form_type() -> HeaderValue {
    HeaderValue::from_static("application/x-www-form-urlencoded")
}

fn encode(form: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(form).unwrap_or_default()
}

/// `bytes` random bytes from the operating system, base64url: PKCE verifiers (43 characters
/// for 32 bytes, as RFC 7636 asks) and `state`.
fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // The OS generator failing is not something to go on without: a predictable verifier
    // would defeat PKCE.
    getrandom::fill(&mut buffer).expect("the operating system's random generator failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oauth() -> OAuth {
        OAuth::builder()
            .client_id("client-1")
            .redirect_uri("http://127.0.0.1:1/cb")
            .build()
            .unwrap()
    }

    #[test]
    fn the_authorization_url_carries_pkce_state_scopes_and_resource() {
        let request = oauth().authorize(&Consent::default());
        let url = Url::parse(request.url()).unwrap();
        assert_eq!(
            url.as_str().split('?').next(),
            Some("https://auth.buffer.com/auth")
        );
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["code_challenge_method"], "S256");
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(request.verifier.expose_secret().as_bytes()));
        assert_eq!(query["code_challenge"], challenge);
        assert_eq!(request.verifier.expose_secret().len(), 43);
        assert_eq!(query["state"], request.state());
        assert!(query["scope"].contains("offline_access"));
        assert_eq!(query["resource"], GRAPHQL_RESOURCE);
        assert!(!format!("{request:?}").contains(request.verifier.expose_secret()));
        assert_ne!(
            oauth().authorize(&Consent::default()).state(),
            request.state()
        );
    }

    #[test]
    fn a_redirect_with_another_state_or_an_error_is_refused() {
        let request = oauth().authorize(&Consent::default());
        let forged = request.code_from_redirect("http://127.0.0.1:1/cb?code=c&state=other");
        assert!(forged.is_err());
        let denied = request
            .code_from_redirect(&format!(
                "http://127.0.0.1:1/cb?error=access_denied&state={}",
                request.state()
            ))
            .unwrap_err();
        assert_eq!(denied.oauth_code(), Some("access_denied"));
        let code = request
            .code_from_redirect(&format!(
                "http://127.0.0.1:1/cb?code=c1&state={}",
                request.state()
            ))
            .unwrap();
        assert_eq!(code, "c1");
    }
}
