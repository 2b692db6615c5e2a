//! [`ClassicRest`]: the classic REST API, `https://api.bufferapp.com/1/`.
//!
//! - `form`: the bracket form encoding of parameters (`profile_ids[]=…`, `media[link]=…`).
//! - `answer`: HTTP answers into values or typed errors (numeric codes, empty 401s, HTML).
//! - `wire`: the classic JSON, read leniently, and its translation into the model.
//! - `paging`: offset pages and continuation tokens.
//! - `calls`: one function per operation.

mod answer;
mod calls;
mod form;
mod paging;
mod probe;
pub(crate) mod wire;

pub(crate) use calls::{create_form, edit_changes};

use crate::auth::ProvideToken;
use crate::backend::{Backend, BackendKind, Request, Response};
use crate::http::rate_limit::RateLimits;
use crate::http::transport::{Authorization, Transport};
use crate::http::{Credential, HttpSettings};
use crate::{Error, Result};
use answer::Answer;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use form::Form;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;
use url::Url;
use wire::Shape;

/// The classic API's address.
pub const DEFAULT_BASE_URL: &str = "https://api.bufferapp.com/1/";

/// A [`Backend`] for Buffer's classic REST API (`api.bufferapp.com/1`, retiring 2027-02-01).
///
/// The token goes in an `Authorization: Bearer` header, never in a URL; GET parameters go in
/// the query string, POST parameters in an `application/x-www-form-urlencoded` body with
/// bracket arrays. Each operation is one classic call:
///
/// | operation | classic call |
/// |---|---|
/// | [`account`](crate::BackendExt::account) | `GET user.json` |
/// | [`deauthorize`](crate::BackendExt::deauthorize) | `POST user/deauthorize.json` |
/// | [`channels`](crate::BackendExt::channels) | `GET profiles.json` |
/// | [`channel`](crate::BackendExt::channel) | `GET profiles/:id.json` |
/// | [`schedules`](crate::BackendExt::schedules) | `GET profiles/:id/schedules.json` |
/// | [`update_schedules`](crate::BackendExt::update_schedules) | `POST profiles/:id/schedules/update.json` |
/// | [`posts`](crate::BackendExt::posts) | `GET profiles/:id/updates/pending.json` or `sent.json` |
/// | [`post`](crate::BackendExt::post) | `GET updates/:id.json` |
/// | [`interactions`](crate::BackendExt::interactions) | `GET updates/:id/interactions.json` |
/// | [`create_post`](crate::BackendExt::create_post) | `POST updates/create.json`, all channels at once |
/// | [`create_posts`](crate::BackendExt::create_posts) | `POST updates/create.json` once per post |
/// | [`edit_post`](crate::BackendExt::edit_post) | `POST updates/:id/update.json` (plus `GET updates/:id.json` when the text is kept) |
/// | [`share_post`](crate::BackendExt::share_post) | `POST updates/:id/share.json` |
/// | [`delete_post`](crate::BackendExt::delete_post) | `POST updates/:id/destroy.json` |
/// | [`move_post_to_top`](crate::BackendExt::move_post_to_top) | `POST updates/:id/move_to_top.json` |
/// | [`reorder_queue`](crate::BackendExt::reorder_queue) | `POST profiles/:id/updates/reorder.json` |
/// | [`shuffle_queue`](crate::BackendExt::shuffle_queue) | `POST profiles/:id/updates/shuffle.json` |
/// | [`link_shares`](crate::BackendExt::link_shares) | `GET links/shares.json` |
/// | [`configuration`](crate::BackendExt::configuration) | `GET info/configuration.json` |
///
/// Ideas and daily posting limits exist only on GraphQL: they fail with
/// [`Error::Unsupported`] without sending anything.
///
/// Where the model says more than the classic API can, the choices are:
///
/// - **Creating on several channels** is one request. The outcome has one entry per channel,
///   in request order, matched by profile id. A channel the answer has no update for failed
///   with [`Error::NotFound`] (the classic API silently skips profile ids it cannot use). A
///   refusal of the whole request with a code about its content (full queue 1023, duplicate
///   1025, …) becomes every channel's error; a bad token, a rate limit, a server or transport
///   failure is the call's `Err`.
/// - **Media**: one image (`media[photo]`, thumbnail optional) or one video (`media[video]`,
///   which Buffer never documented) plus a link preview. Several attachments, documents, alt
///   text and asset titles are refused with [`Error::InvalidInput`] before sending.
/// - **Times** go out as Unix seconds (`scheduled_at`, `since`), the form the API answers in.
/// - **Editing** requires text on the classic API: an edit that keeps the text reads the post
///   first, one request more. It cannot clear text or media, nor requeue a post.
/// - **Schedules**: days with equal times are sent as one classic group; paused days are left
///   out, as the classic API has no pause.
/// - **Pages**: a continuation token from either backend resumes at its offset, exactly, in
///   one request, even when that offset is not a multiple of the page size.
///
/// ```no_run
/// use buffer_bridge::model::{NewPost, PageRequest, PostList, PostQuery, When};
/// use buffer_bridge::{BackendExt, rest::ClassicRest};
/// use std::time::Duration;
///
/// # async fn run() -> buffer_bridge::Result<()> {
/// let buffer = ClassicRest::builder()
///     .access_token(std::env::var("BUFFER_ACCESS_TOKEN").unwrap_or_default())
///     .timeout(Duration::from_secs(20))
///     .build()?;
/// let channels = buffer.channels().await?;
/// let outcome = buffer
///     .create_post(&NewPost::new("Shipping today").channels(channels.iter().map(|c| c.id.clone())).when(When::Next))
///     .await?;
/// for (channel, error) in outcome.failures() {
///     eprintln!("not posted to {channel}: {error}");
/// }
/// let queue = buffer
///     .posts(&PostQuery::new(channels[0].id.clone(), PostList::Queue).page(PageRequest::first(50)))
///     .await?;
/// println!("{} of {:?} queued posts", queue.items.len(), queue.total);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ClassicRest {
    transport: Arc<Transport>,
    base_url: Url,
    credential: Credential,
}

/// Builds a [`ClassicRest`].
#[derive(Debug, Clone, Default)]
pub struct ClassicRestBuilder {
    credential: Option<Credential>,
    provider: Option<Arc<dyn ProvideToken>>,
    base_url: Option<String>,
    http: HttpSettings,
    client: Option<reqwest::Client>,
}

impl ClassicRest {
    /// A builder; only the access token is required.
    pub fn builder() -> ClassicRestBuilder {
        ClassicRestBuilder::default()
    }

    /// The budget announced by the latest answer that carried rate-limit headers (the
    /// classic API documents none; a proxy in front of it may send them).
    pub fn rate_limits(&self) -> Option<RateLimits> {
        self.transport.rate_limits()
    }

    /// The latest `Date` an answer carried: the server's clock was at least this.
    pub fn server_time(&self) -> Option<DateTime<Utc>> {
        self.transport.server_time()
    }

    /// `GET path.json?query`.
    async fn get<T: DeserializeOwned + Shape>(
        &self,
        path: &[&str],
        query: &Form,
        what: &str,
    ) -> Result<T> {
        self.exchange(Method::GET, path, query, what).await
    }

    /// `POST path.json` with a form body.
    async fn post<T: DeserializeOwned + Shape>(
        &self,
        path: &[&str],
        form: &Form,
        what: &str,
    ) -> Result<T> {
        self.exchange(Method::POST, path, form, what).await
    }

    /// One request and its decoded answer. `path` is the endpoint's segments without the
    /// `.json` every classic path ends in; ids are percent-encoded as path segments.
    async fn exchange<T: DeserializeOwned + Shape>(
        &self,
        method: Method,
        path: &[&str],
        form: &Form,
        what: &str,
    ) -> Result<T> {
        let url = self.endpoint(path, (method == Method::GET).then_some(form))?;
        let span = tracing::debug_span!("classic_rest", %method, path = url.path());
        async {
            let mut request = self.transport.request(method.clone(), url);
            if method != Method::GET {
                request = request
                    .header(
                        CONTENT_TYPE,
                        HeaderValue::from_static("application/x-www-form-urlencoded"),
                    )
                    .body(form.encode());
            }
            let received = self.transport.send(request).await?;
            let answer = Answer {
                status: received.status,
                retry_after: received.limits.wait(None),
                body: &received.body,
            };
            received
                .deadline
                .check(answer.decode(what, &self.credential))
                .map_err(|error| self.hint_base_url(error))
        }
        .instrument(span)
        .await
    }

    /// A 404 that is not one of Buffer's own errors, from a base URL without its `/1/`: every
    /// call answers so, and the message says why.
    fn hint_base_url(&self, mut error: Error) -> Error {
        if let Error::NotFound {
            message,
            legacy_code: None,
            ..
        } = &mut error
            && !self.base_url.path().ends_with("/1/")
        {
            message.push_str(&format!(
                " (the classic base URL {} does not end in /1/, as Buffer's {DEFAULT_BASE_URL} \
                     does: every call answers 404)",
                self.base_url
            ));
        }
        error
    }

    /// The URL of an endpoint, with the query for a GET.
    fn endpoint(&self, path: &[&str], query: Option<&Form>) -> Result<Url> {
        if let Some(bad) = path.iter().find(|s| matches!(s.trim(), "" | "." | "..")) {
            return Err(Error::invalid_input(format!(
                "{bad:?} is not a usable id: ids in classic URLs must not be empty, `.` or `..`"
            )));
        }
        let mut url = self.base_url.clone();
        {
            let mut segments = url
                .path_segments_mut()
                .map_err(|()| Error::invalid_input("the classic base URL cannot take a path"))?;
            segments.pop_if_empty();
            if let Some((last, init)) = path.split_last() {
                segments.extend(init).push(&format!("{last}.json"));
            }
        }
        if let Some(query) = query.filter(|q| !q.is_empty()) {
            url.set_query(Some(&query.encode()));
        }
        Ok(url)
    }
}

impl ClassicRestBuilder {
    /// The OAuth access token.
    pub fn access_token(mut self, token: impl Into<Credential>) -> Self {
        self.credential = Some(token.into());
        self.provider = None;
        self
    }

    /// Access tokens from a provider (instead of a fixed token): asked for before each
    /// request, and asked once more after a 401 (see [`auth`](crate::auth)).
    pub fn token_provider(mut self, provider: Arc<dyn ProvideToken>) -> Self {
        self.provider = Some(provider);
        self.credential = None;
        self
    }

    /// Where the API is (default [`DEFAULT_BASE_URL`]); `http` is allowed on loopback only.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The longest a request may take, answer included (default
    /// [`DEFAULT_TIMEOUT`](crate::http::DEFAULT_TIMEOUT)).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = timeout;
        self
    }

    /// The longest connecting may take (default [`DEFAULT_CONNECT_TIMEOUT`]), shorter than
    /// [`timeout`](Self::timeout) so an unreachable host fails fast.
    ///
    /// [`DEFAULT_CONNECT_TIMEOUT`]: crate::http::DEFAULT_CONNECT_TIMEOUT
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.http.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.http.user_agent = user_agent.into();
        self
    }

    /// The largest answer read (default
    /// [`DEFAULT_MAX_BODY_SIZE`](crate::http::DEFAULT_MAX_BODY_SIZE)); a larger one fails
    /// with [`Error::Protocol`] as soon as the cap is passed.
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.http.max_body_size = bytes;
        self
    }

    /// Every connection setting at once, replacing those set before.
    pub fn http_settings(mut self, settings: HttpSettings) -> Self {
        self.http = settings;
        self
    }

    /// Sends with the caller's own reqwest client (its proxies, TLS roots, pool), instead of
    /// one built from the settings. The token is added to each request, never to the client.
    /// The timeout and body cap of the settings still apply; its connect timeout and
    /// `User-Agent` are the client's own. So is its redirect policy, but an answer that comes
    /// from another host, port or scheme than the request went to is refused (reqwest drops
    /// the token on such a redirect), as is any redirect that reaches buffer-bridge.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Builds the backend.
    pub fn build(self) -> Result<ClassicRest> {
        let authorization = match (self.provider, self.credential) {
            (Some(provider), _) => Authorization::Provider(provider),
            (None, Some(credential)) => Authorization::Static(credential),
            (None, None) => {
                return Err(Error::invalid_input(
                    "no access token: call access_token() or token_provider() on the builder",
                ));
            }
        };
        let base_url = crate::http::base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let transport = Transport::new(&self.http, authorization, self.client, "the classic API")?;
        let credential = transport.credential().clone();
        Ok(ClassicRest {
            transport: Arc::new(transport),
            base_url,
            credential,
        })
    }
}

#[async_trait]
impl Backend for ClassicRest {
    fn kind(&self) -> BackendKind {
        BackendKind::ClassicRest
    }

    fn rate_limits(&self) -> Option<RateLimits> {
        ClassicRest::rate_limits(self)
    }

    fn server_time(&self) -> Option<DateTime<Utc>> {
        ClassicRest::server_time(self)
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        let outcome = self.dispatch(request).await;
        self.credential.scrub(outcome)
    }
}

impl ClassicRest {
    /// Hands each request to the function for its operation.
    async fn dispatch(&self, request: Request) -> Result<Response> {
        let operation = request.operation();
        self.capabilities().check(operation)?;
        match request {
            Request::Account => calls::account(self).await.map(Response::Account),
            Request::Deauthorize => calls::deauthorize(self)
                .await
                .map(|()| Response::Deauthorized),
            Request::Channels => calls::channels(self).await.map(Response::Channels),
            Request::Channel { id } => calls::channel(self, &id).await.map(Response::Channel),
            Request::Schedules { channel_id } => calls::schedules(self, &channel_id)
                .await
                .map(Response::Schedules),
            Request::UpdateSchedules {
                channel_id,
                schedules,
            } => calls::update_schedules(self, &channel_id, &schedules)
                .await
                .map(|()| Response::SchedulesUpdated),
            Request::Posts { query } => calls::posts(self, &query).await.map(Response::Posts),
            Request::Post { id } => calls::post(self, &id).await.map(Response::Post),
            Request::Interactions {
                post_id,
                event,
                page,
            } => calls::interactions(self, &post_id, &event, &page)
                .await
                .map(Response::Interactions),
            Request::CreatePost { post } => {
                calls::create_post(self, &post).await.map(Response::Created)
            }
            Request::CreatePosts { posts } => calls::create_posts(self, &posts)
                .await
                .map(Response::CreatedMany),
            Request::EditPost { id, edit } => {
                calls::edit_post(self, &id, &edit).await.map(Response::Post)
            }
            Request::SharePost { id } => calls::share_post(self, &id)
                .await
                .map(|()| Response::Shared),
            Request::DeletePost { id } => calls::delete_post(self, &id)
                .await
                .map(|()| Response::Deleted),
            Request::MovePostToTop { id } => {
                calls::move_post_to_top(self, &id).await.map(Response::Post)
            }
            Request::ReorderQueue {
                channel_id,
                order,
                offset,
            } => calls::reorder_queue(self, &channel_id, &order, offset)
                .await
                .map(Response::Queue),
            Request::ShuffleQueue { channel_id, count } => {
                calls::shuffle_queue(self, &channel_id, count)
                    .await
                    .map(Response::Queue)
            }
            Request::LinkShares { url } => calls::link_shares(self, &url)
                .await
                .map(Response::LinkShares),
            Request::Configuration => calls::configuration(self)
                .await
                .map(Response::Configuration),
            Request::RecentPosts { channel_ids, since } => {
                calls::recent_posts(self, &channel_ids, since)
                    .await
                    .map(Response::RecentPosts)
            }
            Request::Reconcile { .. } => Err(crate::retry::no_journal(self.kind())),
            // Refused by the capability check above; answered the same way here so the match
            // stays total without a panic.
            Request::Ideas { .. }
            | Request::CreateIdea { .. }
            | Request::DailyPostingLimits { .. } => Err(Error::Unsupported {
                operation,
                backend: self.kind(),
                hint: "the classic API has no such call; route it to the GraphQL backend"
                    .to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rest() -> ClassicRest {
        ClassicRest::builder()
            .access_token("t")
            .base_url("http://127.0.0.1:9/1")
            .build()
            .unwrap()
    }

    #[test]
    fn endpoints_end_in_json_and_encode_ids() {
        let rest = rest();
        let url = rest
            .endpoint(&["profiles", "a/b?c", "schedules"], None)
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/1/profiles/a%2Fb%3Fc/schedules.json"
        );
        let mut query = Form::new();
        query.field("url", "https://x.test/?a=1");
        let url = rest.endpoint(&["links", "shares"], Some(&query)).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/1/links/shares.json?url=https%3A%2F%2Fx.test%2F%3Fa%3D1"
        );
        for bad in ["", "..", "."] {
            assert!(rest.endpoint(&["updates", bad], None).is_err(), "{bad:?}");
        }
    }
}
