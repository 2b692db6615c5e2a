//! The simulator as Buffer's OAuth 2.0 authorization server, and the classic OAuth code
//! exchange.
//!
//! Served on the simulator's own address where Buffer's discovery document puts each endpoint:
//! `/.well-known/oauth-authorization-server`, `/reg` (dynamic client registration), `/auth`
//! (authorization code with PKCE S256; consent is automatic unless [`OAuthServer::set_consent`]
//! turns it off), `/token` (code exchange, and refresh with single-use rotation: presenting a
//! refresh token that was already used revokes the whole grant, as Buffer does) and
//! `/token/revocation`. Access tokens live 3,600 s on the simulator's clock; the GraphQL API
//! accepts them while they live and their grant stands, and checks their scopes per root field.
//!
//! The classic API's OAuth is here too: `/oauth2/authorize` and `POST /1/oauth2/token.json`,
//! which hands out the account's long-lived classic access token.
//!
//! These requests are logged like the others (`/token`, `/auth` … under [`Api::GraphQl`],
//! the classic exchange under [`Api::Rest`]), so `requests_to("/token")` counts token
//! requests.
//!
//! [`Api::GraphQl`]: crate::Api::GraphQl
//! [`Api::Rest`]: crate::Api::Rest

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::model::Account;
use crate::reply::Reply;
use crate::store::{SimError, Store};

/// How long an access token lives, as Buffer's tokens do.
pub const ACCESS_TOKEN_LIFETIME_SECS: i64 = 3_600;
/// How long an authorization code may wait for its exchange.
const CODE_LIFETIME_SECS: i64 = 60;
/// Every scope Buffer's discovery document lists.
pub const SCOPES: &[&str] = &[
    "posts:read",
    "posts:write",
    "ideas:read",
    "ideas:write",
    "account:read",
    "account:write",
    "offline_access",
    "insights:read",
    "engagements:read",
    "engagements:write",
    "notes:read",
    "notes:write",
];
/// What an OAuth access token starts with, so the API can tell one from an API key.
const ACCESS_PREFIX: &str = "sim-oat-";
const REFRESH_PREFIX: &str = "sim-ort-";

/// What the authorization server has done, for tests to assert on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthStats {
    /// Clients registered (dynamic registration or [`OAuthServer::register_client`]).
    pub registrations: usize,
    /// Authorization codes issued.
    pub codes_issued: usize,
    /// Codes exchanged for tokens.
    pub code_exchanges: usize,
    /// Refresh requests that rotated the refresh token and issued a new access token.
    pub refreshes: usize,
    /// Refresh tokens presented a second time (each revoked its grant).
    pub reuse_detections: usize,
    /// Grants revoked, by reuse detection or by `/token/revocation`.
    pub grants_revoked: usize,
    /// Classic OAuth codes exchanged at `/1/oauth2/token.json`.
    pub classic_exchanges: usize,
}

/// A registered client, as [`OAuthServer::register_client`] returns it.
#[derive(Clone, Debug)]
pub struct OAuthClient {
    /// The client's id.
    pub client_id: String,
    /// The secret of a confidential client; `None` for a public one.
    pub client_secret: Option<String>,
    /// The redirect URIs it registered.
    pub redirect_uris: Vec<String>,
}

#[derive(Debug)]
struct PendingCode {
    client_id: String,
    redirect_uri: String,
    /// `None` for a classic code (the classic API has no PKCE).
    challenge: Option<String>,
    account_id: String,
    scopes: Vec<String>,
    expires_at: DateTime<Utc>,
}

#[derive(Debug)]
struct Grant {
    client_id: String,
    account_id: String,
    scopes: Vec<String>,
    /// The digest of the only refresh token that may be presented next.
    current_refresh: String,
    revoked: bool,
}

#[derive(Debug, Default)]
struct State {
    clients: HashMap<String, OAuthClient>,
    codes: HashMap<String, PendingCode>,
    grants: Vec<Grant>,
    /// The digest of every refresh token ever issued, to its grant: a used one is recognised
    /// when replayed. Tokens are kept as digests only, as a server should, so that the grants
    /// can be saved ([`OAuthServer::save_grants`]) without a usable token.
    refresh_tokens: HashMap<String, usize>,
    /// Access token digest → (grant, expiry).
    access_tokens: HashMap<String, (usize, DateTime<Utc>)>,
    deny_consent: bool,
    stats: OAuthStats,
    serial: u64,
}

/// The simulator's authorization server: its state, its switches and its counters.
#[derive(Debug)]
pub struct OAuthServer {
    issuer: String,
    state: Mutex<State>,
    random: RandomState,
}

/// Who an API request's bearer token speaks for.
pub(crate) enum Bearer {
    /// Not an OAuth access token: an API key or nothing, checked by the API as before.
    NotOAuth,
    /// A live OAuth access token: the account's API key stands in for it, with its scopes.
    Granted {
        api_key: String,
        scopes: Vec<String>,
    },
    /// An OAuth access token that is unknown, expired or of a revoked grant.
    Refused(Reply),
}

impl OAuthServer {
    pub(crate) fn new(issuer: String) -> Self {
        Self {
            issuer,
            state: Mutex::new(State::default()),
            random: RandomState::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The issuer, the simulator's base URL without a trailing slash.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// What was done so far.
    pub fn stats(&self) -> OAuthStats {
        self.lock().stats
    }

    /// With `false`, `/auth` redirects with `error=access_denied`, as when a user clicks Deny.
    pub fn set_consent(&self, consent: bool) {
        self.lock().deny_consent = !consent;
    }

    /// Registers a client directly (what dynamic registration does over HTTP): confidential
    /// clients get a secret.
    pub fn register_client(&self, redirect_uris: &[&str], confidential: bool) -> OAuthClient {
        let mut state = self.lock();
        let client = OAuthClient {
            client_id: self.token(&mut state, "sim-client-"),
            client_secret: confidential.then(|| self.token(&mut state, "sim-secret-")),
            redirect_uris: redirect_uris.iter().map(|u| (*u).to_owned()).collect(),
        };
        state.stats.registrations += 1;
        state
            .clients
            .insert(client.client_id.clone(), client.clone());
        client
    }

    /// The clients and grants, as JSON: what a simulator started later needs to honour the
    /// grants given by this one (the command line starts one per command, and `login --sim`
    /// must outlive its command). Tokens appear as digests only, so the saved grants hold no
    /// usable token; each grant names its account by e-mail, which a simulator with the same
    /// demo account recognises although its ids are new.
    pub fn save_grants(&self, store: &Store) -> serde_json::Value {
        let state = self.lock();
        let clients: Vec<_> = state
            .clients
            .values()
            .map(|c| {
                json!({
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "redirect_uris": c.redirect_uris,
                })
            })
            .collect();
        let grants: Vec<_> = state
            .grants
            .iter()
            .enumerate()
            .filter_map(|(index, grant)| {
                let email = account_field(store, &grant.account_id, |a| a.email.clone())?;
                let refresh: Vec<_> = (state.refresh_tokens.iter())
                    .filter(|(_, owner)| **owner == index)
                    .map(|(token, _)| token)
                    .collect();
                let access: Vec<_> = state
                    .access_tokens
                    .iter()
                    .filter(|(_, (owner, _))| *owner == index)
                    .map(|(token, (_, expiry))| json!([token, expiry.to_rfc3339()]))
                    .collect();
                Some(json!({
                    "client_id": grant.client_id,
                    "account": email,
                    "scopes": grant.scopes,
                    "current_refresh": grant.current_refresh,
                    "revoked": grant.revoked,
                    "refresh_tokens": refresh,
                    "access_tokens": access,
                }))
            })
            .collect();
        json!({ "version": 1, "clients": clients, "grants": grants })
    }

    /// Takes on the clients and grants [`save_grants`](Self::save_grants) returned, as if this
    /// server had given them; a grant whose account this simulator lacks is left out. Returns
    /// how many grants were taken on.
    pub fn load_grants(&self, store: &Store, saved: &serde_json::Value) -> Result<usize, SimError> {
        let malformed = || SimError::Invalid("the saved grants are malformed".to_owned());
        if saved["version"] != 1 {
            return Err(malformed());
        }
        let strings = |value: &serde_json::Value| -> Result<Vec<String>, SimError> {
            value
                .as_array()
                .ok_or_else(malformed)?
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(malformed))
                .collect()
        };
        let text =
            |value: &serde_json::Value| value.as_str().map(str::to_owned).ok_or_else(malformed);
        let mut clients = Vec::new();
        for client in saved["clients"].as_array().ok_or_else(malformed)? {
            clients.push(OAuthClient {
                client_id: text(&client["client_id"])?,
                client_secret: client["client_secret"].as_str().map(str::to_owned),
                redirect_uris: strings(&client["redirect_uris"])?,
            });
        }
        let mut grants = Vec::new();
        for grant in saved["grants"].as_array().ok_or_else(malformed)? {
            let mut access = Vec::new();
            for pair in grant["access_tokens"].as_array().ok_or_else(malformed)? {
                let expiry = DateTime::parse_from_rfc3339(&text(&pair[1])?)
                    .map_err(|_| malformed())?
                    .with_timezone(&Utc);
                access.push((text(&pair[0])?, expiry));
            }
            let account = text(&grant["account"])?;
            let account_id = store.with(|state, _, _| {
                (state.accounts.iter())
                    .find(|a| a.email == account)
                    .map(|a| a.id.clone())
            });
            grants.push((
                Grant {
                    client_id: text(&grant["client_id"])?,
                    account_id: account_id.unwrap_or_default(),
                    scopes: strings(&grant["scopes"])?,
                    current_refresh: text(&grant["current_refresh"])?,
                    revoked: grant["revoked"].as_bool().ok_or_else(malformed)?,
                },
                strings(&grant["refresh_tokens"])?,
                access,
            ));
        }
        let mut state = self.lock();
        for client in clients {
            state.clients.insert(client.client_id.clone(), client);
        }
        let mut taken = 0;
        for (grant, refresh, access) in grants {
            if grant.account_id.is_empty() {
                continue;
            }
            let index = state.grants.len();
            state.grants.push(grant);
            state
                .refresh_tokens
                .extend(refresh.into_iter().map(|t| (t, index)));
            (state.access_tokens).extend(access.into_iter().map(|(t, e)| (t, (index, e))));
            taken += 1;
        }
        Ok(taken)
    }

    fn token(&self, state: &mut State, prefix: &str) -> String {
        state.serial += 1;
        let a = self.random.hash_one(state.serial);
        let b = self.random.hash_one((state.serial, a));
        format!("{prefix}{a:016x}{b:016x}")
    }

    /// Whether this server answers `method path`.
    pub(crate) fn serves(method: &str, path: &str) -> bool {
        matches!(
            (method, path),
            ("GET", "/.well-known/oauth-authorization-server")
                | ("POST", "/reg")
                | ("GET", "/auth")
                | ("POST", "/token")
                | ("POST", "/token/revocation")
                | ("GET", "/oauth2/authorize")
                | ("POST", "/1/oauth2/token.json")
        )
    }

    /// Answers one request to an endpoint [`serves`](Self::serves) names.
    pub(crate) fn handle(&self, store: &Store, path: &str, query: &str, body: &[u8]) -> Reply {
        match path {
            "/.well-known/oauth-authorization-server" => self.discovery(),
            "/reg" => self.registration(body),
            "/auth" => self.authorize(store, query, true),
            "/oauth2/authorize" => self.authorize(store, query, false),
            "/token" => self.exchange(store, body),
            "/token/revocation" => self.revoke(body),
            "/1/oauth2/token.json" => self.classic_exchange(store, body),
            _ => oauth_error(404, "invalid_request", "no such endpoint"),
        }
    }

    fn discovery(&self) -> Reply {
        let issuer = &self.issuer;
        Reply::json(
            200,
            &json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/auth"),
                "token_endpoint": format!("{issuer}/token"),
                "registration_endpoint": format!("{issuer}/reg"),
                "revocation_endpoint": format!("{issuer}/token/revocation"),
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none", "client_secret_post"],
                "scopes_supported": SCOPES,
                "resource_parameter_supported": true,
            }),
        )
    }

    fn registration(&self, body: &[u8]) -> Reply {
        let Ok(metadata) = serde_json::from_slice::<serde_json::Value>(body) else {
            return oauth_error(400, "invalid_client_metadata", "the body is not JSON");
        };
        let uris: Vec<&str> = metadata["redirect_uris"]
            .as_array()
            .map(|uris| uris.iter().filter_map(|u| u.as_str()).collect())
            .unwrap_or_default();
        if uris.is_empty() || uris.iter().any(|u| url_of(u).is_none()) {
            return oauth_error(400, "invalid_redirect_uri", "redirect_uris must be URLs");
        }
        let confidential = metadata["token_endpoint_auth_method"] == "client_secret_post";
        let client = self.register_client(&uris, confidential);
        let mut answer = json!({
            "client_id": client.client_id,
            "redirect_uris": client.redirect_uris,
            "token_endpoint_auth_method": if confidential { "client_secret_post" } else { "none" },
            "grant_types": ["authorization_code", "refresh_token"],
        });
        if let Some(secret) = &client.client_secret {
            answer["client_secret"] = json!(secret);
        }
        Reply::json(201, &answer)
    }

    /// `/auth` (PKCE required) or the classic `/oauth2/authorize` (no PKCE): a redirect to the
    /// client with a code, or with the error, or a 400 when the redirect target is not the
    /// client's (an open redirect would hand codes to anyone).
    fn authorize(&self, store: &Store, query: &str, pkce: bool) -> Reply {
        let params = form(query.as_bytes());
        let get = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
        let mut state = self.lock();
        let Some(client) = state.clients.get(get("client_id")) else {
            return oauth_error(400, "invalid_client", "unknown client_id");
        };
        let redirect_uri = get("redirect_uri").to_owned();
        if !client.redirect_uris.contains(&redirect_uri) {
            return oauth_error(400, "invalid_request", "redirect_uri is not registered");
        }
        let client_id = client.client_id.clone();
        let Some(target) = url_of(&redirect_uri) else {
            return oauth_error(400, "invalid_request", "redirect_uri is not a URL");
        };
        let back = |outcome: &[(&str, &str)]| {
            let mut target = target.clone();
            {
                let mut pairs = target.query_pairs_mut();
                for (name, value) in outcome {
                    pairs.append_pair(name, value);
                }
                if let Some(s) = params.get("state") {
                    pairs.append_pair("state", s);
                }
            }
            Reply::empty(302).header("location", target.to_string())
        };
        if get("response_type") != "code" {
            return back(&[("error", "unsupported_response_type")]);
        }
        let challenge = params.get("code_challenge").cloned();
        if pkce && (challenge.is_none() || get("code_challenge_method") != "S256") {
            return back(&[
                ("error", "invalid_request"),
                ("error_description", "PKCE with S256 is required"),
            ]);
        }
        let scopes: Vec<String> = get("scope").split_whitespace().map(str::to_owned).collect();
        if pkce && scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
            return back(&[("error", "invalid_scope")]);
        }
        if state.deny_consent {
            return back(&[
                ("error", "access_denied"),
                ("error_description", "The user denied the request"),
            ]);
        }
        let hint = params.get("login_hint");
        let account_id = store.with(|state, _, _| {
            let mut accounts = state.accounts.iter();
            match hint {
                Some(hint) => accounts.find(|a| &a.email == hint || &a.id == hint),
                None => accounts.next(),
            }
            .map(|a| a.id.clone())
        });
        let Some(account_id) = account_id else {
            return back(&[
                ("error", "access_denied"),
                ("error_description", "no such user"),
            ]);
        };
        let code = self.token(&mut state, "sim-code-");
        state.codes.insert(
            code.clone(),
            PendingCode {
                client_id,
                redirect_uri: redirect_uri.clone(),
                challenge: challenge.filter(|_| pkce),
                account_id,
                scopes,
                expires_at: store.clock().now() + Duration::seconds(CODE_LIFETIME_SECS),
            },
        );
        state.stats.codes_issued += 1;
        back(&[("code", &code)])
    }

    fn exchange(&self, store: &Store, body: &[u8]) -> Reply {
        let params = form(body);
        let get = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
        let now = store.clock().now();
        let mut state = self.lock();
        let Some(client) = state.clients.get(get("client_id")).cloned() else {
            return oauth_error(401, "invalid_client", "unknown client_id");
        };
        if client.client_secret.as_deref() != params.get("client_secret").map(String::as_str) {
            return oauth_error(401, "invalid_client", "client authentication failed");
        }
        match get("grant_type") {
            "authorization_code" => {
                let Some(code) =
                    take_code(&mut state, get("code"), &client, get("redirect_uri"), now)
                else {
                    return invalid_grant("the authorization code is invalid or has expired");
                };
                let Some(challenge) = &code.challenge else {
                    return invalid_grant("the code was issued without PKCE");
                };
                if &s256(get("code_verifier")) != challenge {
                    return invalid_grant("PKCE verification failed");
                }
                state.grants.push(Grant {
                    client_id: client.client_id.clone(),
                    account_id: code.account_id,
                    scopes: code.scopes,
                    current_refresh: String::new(),
                    revoked: false,
                });
                state.stats.code_exchanges += 1;
                let grant = state.grants.len() - 1;
                self.issue(&mut state, grant, now)
            }
            "refresh_token" => {
                let presented = digest(get("refresh_token"));
                let Some(&grant) = state.refresh_tokens.get(&presented) else {
                    return invalid_grant("unknown refresh token");
                };
                let standing = &state.grants[grant];
                if standing.client_id != client.client_id || standing.revoked {
                    return invalid_grant("the grant has been revoked");
                }
                if standing.current_refresh != presented {
                    state.stats.reuse_detections += 1;
                    revoke_grant(&mut state, grant);
                    return invalid_grant(
                        "refresh token reuse detected; every token of the grant is revoked",
                    );
                }
                state.stats.refreshes += 1;
                self.issue(&mut state, grant, now)
            }
            _ => oauth_error(400, "unsupported_grant_type", "grant_type is not supported"),
        }
    }

    /// A new access token and a new refresh token for `grant`; the old refresh token becomes
    /// one that revokes the grant if it is ever presented again.
    fn issue(&self, state: &mut State, grant: usize, now: DateTime<Utc>) -> Reply {
        let access = self.token(state, ACCESS_PREFIX);
        let refresh = self.token(state, REFRESH_PREFIX);
        let expires_at = now + Duration::seconds(ACCESS_TOKEN_LIFETIME_SECS);
        // Expired access tokens are refused whether known or not: forgetting them keeps a
        // long-running simulator's memory bounded by the tokens alive.
        state.access_tokens.retain(|_, (_, expiry)| *expiry > now);
        state
            .access_tokens
            .insert(digest(&access), (grant, expires_at));
        state.refresh_tokens.insert(digest(&refresh), grant);
        state.grants[grant].current_refresh = digest(&refresh);
        Reply::json(
            200,
            &json!({
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_LIFETIME_SECS,
                "refresh_token": refresh,
                "scope": state.grants[grant].scopes.join(" "),
            }),
        )
        .header("cache-control", "no-store")
    }

    /// RFC 7009: revoking either token of a grant revokes the grant; unknown tokens are fine.
    fn revoke(&self, body: &[u8]) -> Reply {
        let params = form(body);
        let token = digest(params.get("token").map(String::as_str).unwrap_or_default());
        let mut state = self.lock();
        let grant = state
            .refresh_tokens
            .get(&token)
            .copied()
            .or_else(|| state.access_tokens.get(&token).map(|(g, _)| *g));
        if let Some(grant) = grant {
            revoke_grant(&mut state, grant);
        }
        Reply::empty(200)
    }

    /// The classic exchange: a confidential client's code for the account's classic token.
    fn classic_exchange(&self, store: &Store, body: &[u8]) -> Reply {
        let params = form(body);
        let get = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
        let now = store.clock().now();
        let mut state = self.lock();
        let client = state.clients.get(get("client_id")).cloned();
        let Some(client) = client.filter(|c| {
            c.client_secret.is_some() && c.client_secret.as_deref() == Some(get("client_secret"))
        }) else {
            return classic_error(401, "client authentication failed");
        };
        if get("grant_type") != "authorization_code" {
            return classic_error(400, "grant_type must be authorization_code");
        }
        let code = take_code(&mut state, get("code"), &client, get("redirect_uri"), now);
        let Some(code) = code.filter(|c| c.challenge.is_none()) else {
            return classic_error(400, "the code is invalid or has expired");
        };
        let Some(account) = store
            .accounts()
            .into_iter()
            .find(|a| a.id == code.account_id)
        else {
            return classic_error(400, "the account no longer exists");
        };
        state.stats.classic_exchanges += 1;
        Reply::json(200, &json!({ "access_token": account.access_token }))
    }

    /// Who `bearer` speaks for on the GraphQL API, at `now`.
    pub(crate) fn bearer(&self, store: &Store, bearer: Option<&str>, now: DateTime<Utc>) -> Bearer {
        let Some(token) = bearer.filter(|t| t.starts_with(ACCESS_PREFIX)) else {
            return Bearer::NotOAuth;
        };
        let state = self.lock();
        let refused = |message: &str| {
            Bearer::Refused(Reply::json(
                401,
                &json!({ "errors": [{
                    "message": message,
                    "extensions": { "code": "UNAUTHENTICATED" },
                }]}),
            ))
        };
        let Some(&(grant, expires_at)) = state.access_tokens.get(&digest(token)) else {
            return refused("The access token is invalid or has expired");
        };
        let grant = &state.grants[grant];
        if grant.revoked {
            return refused("The access token has been revoked");
        }
        if now >= expires_at {
            return refused("The access token has expired");
        }
        match account_field(store, &grant.account_id, |a| a.api_key.clone()) {
            Some(api_key) => Bearer::Granted {
                api_key,
                scopes: grant.scopes.clone(),
            },
            None => refused("The account no longer exists"),
        }
    }
}

/// The scope a GraphQL root field needs, by Buffer's documented scope names.
pub(crate) fn scope_for(root_field: &str, mutation: bool) -> &'static str {
    match (root_field, mutation) {
        ("createIdea", _) => "ideas:write",
        ("ideas" | "idea", _) => "ideas:read",
        (_, true) => "posts:write",
        ("posts" | "post" | "dailyPostingLimits", false) => "posts:read",
        (_, false) => "account:read",
    }
}

/// A GraphQL `FORBIDDEN` answer naming the scope a token lacks.
pub(crate) fn forbidden(scope: &str) -> Reply {
    Reply::json(
        200,
        &json!({ "data": null, "errors": [{
            "message": format!("The access token lacks the {scope} scope"),
            "extensions": { "code": "FORBIDDEN" },
        }]}),
    )
}

/// A field of the account `id`, read in place.
fn account_field<T>(store: &Store, id: &str, field: impl FnOnce(&Account) -> T) -> Option<T> {
    store.with(|state, _, _| state.accounts.iter().find(|a| a.id == id).map(field))
}

fn take_code(
    state: &mut State,
    code: &str,
    client: &OAuthClient,
    redirect_uri: &str,
    now: DateTime<Utc>,
) -> Option<PendingCode> {
    // Single use: removed whether or not the rest matches.
    let pending = state.codes.remove(code)?;
    (pending.client_id == client.client_id
        && pending.redirect_uri == redirect_uri
        && now < pending.expires_at)
        .then_some(pending)
}

fn revoke_grant(state: &mut State, grant: usize) {
    if !state.grants[grant].revoked {
        state.grants[grant].revoked = true;
        state.stats.grants_revoked += 1;
    }
}

/// How the server keeps a token: its SHA-256, in hex.
fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// BASE64URL(SHA-256(verifier)) without padding: the S256 challenge of a verifier.
fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn form(bytes: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

fn url_of(text: &str) -> Option<url::Url> {
    url::Url::parse(text).ok().filter(|u| u.has_host())
}

fn oauth_error(status: u16, code: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({ "error": code, "error_description": description }),
    )
    .header("cache-control", "no-store")
}

fn invalid_grant(description: &str) -> Reply {
    oauth_error(400, "invalid_grant", description)
}

fn classic_error(status: u16, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({ "success": false, "code": status, "error": message }),
    )
}
