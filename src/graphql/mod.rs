//! [`GraphQl`]: Buffer's GraphQL API, `https://api.buffer.com`.
//!
//! Every operation is a typed document from `graphql/`, generated into Rust by graphql_client
//! and sent with the library's own reqwest client. On top of the plain mapping this backend
//! does what the classic API's callers expect of one client:
//!
//! - offset pages and page tokens over cursor pages, with no cursor kept past the call that
//!   read it (see `paging`);
//! - organization and channel lookups shared by concurrent calls and kept for
//!   [`LOOKUP_LIFETIME`] (see `lookups`);
//! - one `createPost` per channel, sent as aliased fields of one document, at most
//!   [`MAX_ALIASES`] a request, with one outcome per channel (see `create`);
//! - typed errors from union members and `errors[].extensions.code`, the rate-limit budget
//!   from headers ([`GraphQl::rate_limits`]) and Buffer's deprecation warnings
//!   ([`GraphQl::last_warnings`]);
//! - [`Error::Unsupported`], before any request, for what GraphQL
//!   lacks (interactions, schedule updates, reorder, shuffle, link shares, configuration,
//!   deauthorize).
//!
//! A post's link preview goes to `metadata.<network>.linkAttachment`, which Facebook, LinkedIn,
//! Threads and Bluesky have (never to the deprecated `AssetInput.link`, removed 2026-12-15).
//! The other networks have none: there the link is dropped when the text already holds its
//! URL (the network previews it from the text), and the channel is refused with
//! [`Error::InvalidInput`] otherwise (reason `NoLinkPreview`, origin `Local`), rather than
//! losing it silently. Buffer refuses a link preview beside media, so that is refused per
//! channel too (`LinkWithMedia`).
//! `NewPost::shorten` has no GraphQL equivalent (the channel's link-shortening setting
//! decides) and is not sent.
//!
//! Unconfirmed on Buffer's side: sharing a queued post now is sent as `editPost` with
//! `mode: shareNow` (Buffer documents `mode` on creates only), and moving a post to the top
//! uses `movePostInQueue`, which Buffer marks experimental.

mod convert;
mod create;
mod inputs;
mod lookups;
mod operations;
mod paging;
mod payload;
mod probe;
mod reads;
mod recent;
mod wire;
mod writes;

pub use wire::Warning;

pub(crate) use inputs::assets as asset_inputs;

use crate::auth::ProvideToken;
use crate::backend::{Backend, BackendKind, Request, Response};
use crate::http::rate_limit::RateLimits;
use crate::http::transport::{Authorization, Transport};
use crate::http::{Credential, HttpSettings};
use crate::model::{Channel, ChannelId, OrganizationId, Service};
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The GraphQL API's address. Requests go to it exactly, with no path added.
pub const DEFAULT_BASE_URL: &str = "https://api.buffer.com";

/// The most aliased fields Buffer accepts in one request, and the default batch size of
/// multi-channel creates.
pub const MAX_ALIASES: usize = 30;

/// How long a lookup the backend made for its own use (the account's organizations, which
/// organization and network each channel belongs to) is reused.
pub const LOOKUP_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// How long a channel listing that lacks a channel is trusted before the channel is looked up
/// again: a call naming a channel that does not exist costs one listing a minute at most.
pub const MISS_LIFETIME: Duration = Duration::from_secs(60);

/// A [`Backend`] for Buffer's GraphQL API.
///
/// Cheap to clone: clones share the HTTP client and the lookups.
///
/// Listing posts needs the channel's organization, and a post's link the channel's network;
/// both come from a channel listing, which concurrent calls share and later calls reuse for
/// [`LOOKUP_LIFETIME`] (a channel it lacks for [`MISS_LIFETIME`]). The organizations of the
/// account are looked up the same way. [`channels`](crate::BackendExt::channels) itself always
/// lists anew, and refreshes the lookups. No write of this backend changes an organization or
/// where a channel belongs, so none has to forget them. Page cursors are never kept: see
/// [`Pager`](crate::Pager).
///
/// ```no_run
/// use buffer_bridge::{BackendExt, graphql::GraphQl};
///
/// # async fn run() -> buffer_bridge::Result<()> {
/// let buffer = GraphQl::builder().api_key("…").build()?;
/// for channel in buffer.channels().await? {
///     println!("{} on {}", channel.name, channel.service);
/// }
/// if let Some(budget) = buffer.rate_limits().and_then(|r| r.tightest().cloned()) {
///     println!("{:?} requests left", budget.remaining);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct GraphQl {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    wire: wire::Wire,
    /// The organization set on the builder; `None` means every organization of the account.
    organization_id: Option<OrganizationId>,
    max_aliases: usize,
    /// The account's organizations.
    organizations: lookups::Lookup<Arc<[OrganizationId]>>,
    /// The latest channel listing.
    channels: lookups::Lookup<Arc<Directory>>,
}

/// A channel listing, with each channel's route found by id.
#[derive(Debug)]
struct Directory {
    channels: Vec<Channel>,
    routes: HashMap<ChannelId, ChannelRoute>,
}

impl Directory {
    fn new(channels: Vec<Channel>) -> Self {
        let routes = channels
            .iter()
            .filter_map(|channel| {
                let route = ChannelRoute {
                    organization_id: channel.organization_id.clone()?,
                    service: channel.service.clone(),
                };
                Some((channel.id.clone(), route))
            })
            .collect();
        Self { channels, routes }
    }
}

/// Where a channel belongs: posts are listed per organization, and links go to the metadata
/// of the channel's network.
#[derive(Clone, Debug)]
struct ChannelRoute {
    organization_id: OrganizationId,
    service: Service,
}

/// Builds a [`GraphQl`].
#[derive(Debug, Clone)]
pub struct GraphQlBuilder {
    credential: Option<Credential>,
    provider: Option<Arc<dyn ProvideToken>>,
    base_url: Option<String>,
    organization_id: Option<OrganizationId>,
    http: HttpSettings,
    client: Option<reqwest::Client>,
    max_aliases: usize,
}

impl Default for GraphQlBuilder {
    fn default() -> Self {
        Self {
            credential: None,
            provider: None,
            base_url: None,
            organization_id: None,
            http: HttpSettings::default(),
            client: None,
            max_aliases: MAX_ALIASES,
        }
    }
}

impl GraphQl {
    /// A builder; only the API key (or OAuth access token) is required.
    pub fn builder() -> GraphQlBuilder {
        GraphQlBuilder::default()
    }

    /// The rate-limit budget announced by the latest response that carried one.
    pub fn rate_limits(&self) -> Option<RateLimits> {
        self.inner.wire.rate_limits()
    }

    /// The latest `Date` a response carried: the server's clock was at least this.
    pub fn server_time(&self) -> Option<DateTime<Utc>> {
        self.inner.wire.server_time()
    }

    /// The latest warnings Buffer attached to responses (`extensions.warnings`), oldest first;
    /// each is also logged with `tracing::warn!`.
    pub fn last_warnings(&self) -> Vec<Warning> {
        self.inner.wire.warnings()
    }
}

impl GraphQlBuilder {
    /// A personal API key (publish.buffer.com/settings/api), sent as `Authorization: Bearer`.
    pub fn api_key(mut self, key: impl Into<Credential>) -> Self {
        self.credential = Some(key.into());
        self.provider = None;
        self
    }

    /// OAuth access tokens from a provider (instead of a fixed key): asked for before each
    /// request, and asked once more after a 401 (see [`auth`](crate::auth)).
    pub fn token_provider(mut self, provider: Arc<dyn ProvideToken>) -> Self {
        self.provider = Some(provider);
        self.credential = None;
        self
    }

    /// An OAuth access token, sent like an API key.
    pub fn access_token(self, token: impl Into<Credential>) -> Self {
        self.api_key(token)
    }

    /// Where the API is (default [`DEFAULT_BASE_URL`]), used exactly as given; `http` is
    /// allowed on loopback only.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Works in one organization only. By default every organization of the account is used,
    /// read once with one request.
    pub fn organization_id(mut self, id: impl Into<OrganizationId>) -> Self {
        self.organization_id = Some(id.into());
        self
    }

    /// The longest a request may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = timeout;
        self
    }

    /// The longest connecting may take (default
    /// [`DEFAULT_CONNECT_TIMEOUT`](crate::http::DEFAULT_CONNECT_TIMEOUT)), shorter than
    /// [`timeout`](Self::timeout) so an unreachable host fails fast.
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
    /// one built from the settings. The key is added to each request, never to the client.
    /// The timeout and body cap of the settings still apply; its connect timeout and
    /// `User-Agent` are the client's own. So is its redirect policy, but an answer that comes
    /// from another host, port or scheme than the request went to is refused (reqwest drops
    /// the key on such a redirect), as is any redirect that reaches buffer-bridge.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// How many channels' `createPost` fields go in one request, 1 to [`MAX_ALIASES`].
    pub fn max_aliases(mut self, max_aliases: usize) -> Self {
        self.max_aliases = max_aliases;
        self
    }

    /// Builds the backend.
    pub fn build(self) -> Result<GraphQl> {
        let authorization = match (self.provider, self.credential) {
            (Some(provider), _) => Authorization::Provider(provider),
            (None, Some(credential)) => Authorization::Static(credential),
            (None, None) => {
                return Err(Error::invalid_input(
                    "no API key: call api_key(), access_token() or token_provider() on the \
                     builder",
                ));
            }
        };
        if !(1..=MAX_ALIASES).contains(&self.max_aliases) {
            return Err(Error::invalid_input(format!(
                "max_aliases must be between 1 and {MAX_ALIASES} (Buffer's limit), got {}",
                self.max_aliases
            )));
        }
        let endpoint =
            crate::http::endpoint_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let transport = Transport::new(
            &self.http,
            authorization,
            self.client,
            "Buffer's GraphQL API",
        )?;
        Ok(GraphQl {
            inner: Arc::new(Inner {
                wire: wire::Wire::new(transport, endpoint),
                organization_id: self.organization_id,
                max_aliases: self.max_aliases,
                organizations: Default::default(),
                channels: Default::default(),
            }),
        })
    }
}

#[async_trait]
impl Backend for GraphQl {
    fn kind(&self) -> BackendKind {
        BackendKind::GraphQl
    }

    fn rate_limits(&self) -> Option<RateLimits> {
        GraphQl::rate_limits(self)
    }

    fn server_time(&self) -> Option<DateTime<Utc>> {
        GraphQl::server_time(self)
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        let outcome = self.dispatch(request).await;
        self.inner.wire.credential().scrub(outcome)
    }
}

impl GraphQl {
    /// Hands each request to the function for its operation.
    async fn dispatch(&self, request: Request) -> Result<Response> {
        let operation = request.operation();
        Ok(match request {
            Request::Account => Response::Account(self.account().await?),
            Request::Channels => Response::Channels(self.channels().await?),
            Request::Channel { id } => Response::Channel(self.channel(&id).await?),
            Request::Schedules { channel_id } => {
                Response::Schedules(self.schedules(&channel_id).await?)
            }
            Request::Posts { query } => Response::Posts(self.posts(&query).await?),
            Request::Post { id } => Response::Post(self.post(&id).await?),
            Request::CreatePost { post } => Response::Created(self.create_post(&post).await?),
            Request::CreatePosts { posts } => {
                Response::CreatedMany(self.create_posts(&posts).await?)
            }
            Request::EditPost { id, edit } => Response::Post(self.edit_post(&id, &edit).await?),
            Request::SharePost { id } => {
                self.share_post(&id).await?;
                Response::Shared
            }
            Request::DeletePost { id } => {
                self.delete_post(&id).await?;
                Response::Deleted
            }
            Request::MovePostToTop { id } => Response::Post(self.move_post_to_top(&id).await?),
            Request::Ideas {
                organization_id,
                page,
            } => Response::Ideas(self.ideas(&organization_id, &page).await?),
            Request::CreateIdea { idea } => Response::Idea(self.create_idea(&idea).await?),
            Request::DailyPostingLimits { channel_ids } => {
                Response::DailyPostingLimits(self.daily_posting_limits(&channel_ids).await?)
            }
            Request::RecentPosts { channel_ids, since } => {
                Response::RecentPosts(self.recent_posts(&channel_ids, since).await?)
            }
            Request::Reconcile { .. } => return Err(crate::retry::no_journal(self.kind())),
            Request::Deauthorize
            | Request::UpdateSchedules { .. }
            | Request::Interactions { .. }
            | Request::ReorderQueue { .. }
            | Request::ShuffleQueue { .. }
            | Request::LinkShares { .. }
            | Request::Configuration => {
                // GraphQL has none of these: refused here, before any request.
                self.capabilities().check(operation)?;
                return Err(Error::unexpected(format!(
                    "{operation} has no GraphQL implementation"
                )));
            }
        })
    }
}
