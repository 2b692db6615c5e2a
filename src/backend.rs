//! The [`Backend`] trait: one `execute` for every operation, so every layer is written once.
//!
//! A backend ([`ClassicRest`](crate::rest::ClassicRest), `GraphQl`) and every layer stacked on
//! top of one (side-by-side runs, routing, retries, pacing) implements a single method,
//! [`Backend::execute`], over the [`Request`] enum. Users do not build requests: [`BackendExt`]
//! gives every backend, `dyn Backend` included, typed methods such as
//! [`channels`](BackendExt::channels) and [`create_post`](BackendExt::create_post).

use crate::http::rate_limit::RateLimits;
use crate::journal::IdempotencyKey;
use crate::model::*;
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::Stream;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

/// Which of Buffer's APIs a backend speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// The classic REST API, `api.bufferapp.com/1`, retiring on 2027-02-01.
    #[serde(rename = "rest")]
    ClassicRest,
    /// The GraphQL API, `api.buffer.com`.
    #[serde(rename = "graphql")]
    GraphQl,
}

impl BackendKind {
    /// Both kinds.
    pub const ALL: [BackendKind; 2] = [BackendKind::ClassicRest, BackendKind::GraphQl];

    /// The short name used in configuration and page tokens: `rest` or `graphql`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClassicRest => "rest",
            Self::GraphQl => "graphql",
        }
    }

    /// Reads a short name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "rest" => Some(Self::ClassicRest),
            "graphql" => Some(Self::GraphQl),
            _ => None,
        }
    }

    /// The other API.
    pub fn other(self) -> Self {
        match self {
            Self::ClassicRest => Self::GraphQl,
            Self::GraphQl => Self::ClassicRest,
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declares [`Operation`] with its wire-independent facts in one table: its name, whether it
/// writes, and the hint given by each backend that lacks it.
macro_rules! operations {
    ($( $(#[$meta:meta])* $name:ident => $text:literal, writes: $writes:literal, rest: $rest:expr, graphql: $graphql:expr; )+) => {
        /// One variant per operation of [`Request`]: what the router routes on.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum Operation {
            $( $(#[$meta])* $name, )+
        }

        impl Operation {
            /// Every operation, in declaration order.
            pub const ALL: &'static [Operation] = &[$( Operation::$name, )+];

            /// The snake_case name, as in configuration and reports.
            pub fn as_str(self) -> &'static str {
                match self { $( Self::$name => $text, )+ }
            }

            /// Whether the operation changes anything at Buffer.
            pub fn writes(self) -> bool {
                match self { $( Self::$name => $writes, )+ }
            }

            /// The operation whose route this one takes: a write's reconciliation goes where
            /// creates go, since the layer that made the write keeps its journal.
            pub fn route_as(self) -> Self {
                match self {
                    Self::Reconcile => Self::CreatePost,
                    other => other,
                }
            }

            /// Why `backend` lacks this operation and what to do instead; `None` when it has it.
            pub fn unsupported_hint(self, backend: BackendKind) -> Option<&'static str> {
                match (self, backend) {
                    $(
                        (Self::$name, BackendKind::ClassicRest) => $rest,
                        (Self::$name, BackendKind::GraphQl) => $graphql,
                    )+
                }
            }
        }
    };
}

operations! {
    /// The account (classic `GET /user`, GraphQL `account`).
    Account => "account", writes: false, rest: None, graphql: None;
    /// Revoke the token (classic `POST /user/deauthorize`).
    Deauthorize => "deauthorize", writes: true, rest: None,
        graphql: Some("GraphQL has no deauthorize; revoke API keys in Buffer's settings (publish.buffer.com/settings/api) or revoke the OAuth token at auth.buffer.com");
    /// Every channel (classic `GET /profiles`, GraphQL `channels` per organization).
    Channels => "channels", writes: false, rest: None, graphql: None;
    /// One channel (classic `GET /profiles/:id`, GraphQL `channel`).
    Channel => "channel", writes: false, rest: None, graphql: None;
    /// A channel's posting schedule (classic `GET /profiles/:id/schedules`, GraphQL `channel.postingSchedule`).
    Schedules => "schedules", writes: false, rest: None, graphql: None;
    /// Replace a channel's posting schedule (classic `POST /profiles/:id/schedules/update`).
    UpdateSchedules => "update_schedules", writes: true, rest: None,
        graphql: Some("GraphQL cannot change posting schedules; edit them in Buffer's app, or route this operation to the classic backend until 2027-02-01");
    /// A page of a channel's queued or sent posts (classic `updates/pending|sent`, GraphQL `posts`).
    Posts => "posts", writes: false, rest: None, graphql: None;
    /// One post (classic `GET /updates/:id`, GraphQL `post`).
    Post => "post", writes: false, rest: None, graphql: None;
    /// Interactions with a sent post (classic `GET /updates/:id/interactions`).
    Interactions => "interactions", writes: false, rest: None,
        graphql: Some("GraphQL has no per-interaction data; read the post's `metrics` (likes, comments, reposts) instead");
    /// Create a post on one or more channels (classic `POST /updates/create`, GraphQL `createPost` per channel).
    CreatePost => "create_post", writes: true, rest: None, graphql: None;
    /// Create many posts at once, each on its channels (GraphQL packs 30 `createPost` a
    /// request across posts; classic sends one `POST /updates/create` per post).
    CreatePosts => "create_posts", writes: true, rest: None, graphql: None;
    /// Edit a post (classic `POST /updates/:id/update`, GraphQL `editPost`).
    EditPost => "edit_post", writes: true, rest: None, graphql: None;
    /// Publish a queued post now (classic `POST /updates/:id/share`, GraphQL `editPost` with `mode: shareNow`).
    SharePost => "share_post", writes: true, rest: None, graphql: None;
    /// Delete a post (classic `POST /updates/:id/destroy`, GraphQL `deletePost`).
    DeletePost => "delete_post", writes: true, rest: None, graphql: None;
    /// Move a queued post to the front (classic `POST /updates/:id/move_to_top`, GraphQL `movePostInQueue`).
    MovePostToTop => "move_post_to_top", writes: true, rest: None, graphql: None;
    /// Reorder a channel's queue (classic `POST /profiles/:id/updates/reorder`).
    ReorderQueue => "reorder_queue", writes: true, rest: None,
        graphql: Some("GraphQL has no reorder; set each post's time with editPost (mode customScheduled, dueAt), or move single posts with move_post_to_top");
    /// Shuffle a channel's queue (classic `POST /profiles/:id/updates/shuffle`).
    ShuffleQueue => "shuffle_queue", writes: true, rest: None,
        graphql: Some("GraphQL has no shuffle; reorder in your application and set each post's dueAt with editPost");
    /// How often a URL was shared through Buffer (classic `GET /links/shares`).
    LinkShares => "link_shares", writes: false, rest: None,
        graphql: Some("GraphQL has no link share counts, and Buffer no longer counts shares; drop the call");
    /// Buffer's per-network limits (classic `GET /info/configuration`).
    Configuration => "configuration", writes: false, rest: None,
        graphql: Some("GraphQL has no stable configuration query; keep the limits you need in your application's configuration");
    /// An organization's ideas (GraphQL `ideas`).
    Ideas => "ideas", writes: false,
        rest: Some("the classic API has no ideas; route this operation to the GraphQL backend"), graphql: None;
    /// Create an idea (GraphQL `createIdea`).
    CreateIdea => "create_idea", writes: true,
        rest: Some("the classic API has no ideas; route this operation to the GraphQL backend"), graphql: None;
    /// How many posts channels may still publish today (GraphQL `dailyPostingLimits`).
    DailyPostingLimits => "daily_posting_limits", writes: false,
        rest: Some("the classic API has no daily posting limits; count queued posts per day yourself or route this operation to the GraphQL backend"), graphql: None;
    /// Every post created on some channels since a time, any status (GraphQL one `posts`
    /// query for all the channels; classic `updates/pending` and `updates/sent` per channel).
    RecentPosts => "recent_posts", writes: false, rest: None, graphql: None;
    /// What became of an earlier write, by its idempotency key: answered by the
    /// [`Retrying`](crate::retry::Retrying) layer from its journal and the channels' posts.
    Reconcile => "reconcile", writes: false, rest: None, graphql: None;
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which operations a backend can do, asked before the call: a set of [`Operation`]s.
///
/// A layer over several backends (a router) supports what any of them supports
/// ([`union`](Self::union)); a layer that grants less than its backend can do (an access
/// policy, a read-only view) narrows the set ([`only`](Self::only), [`without`](Self::without)),
/// and calls outside it fail with [`Error::Unsupported`] before anything is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// One bit per operation, by its place in [`Operation::ALL`].
    supported: u64,
    /// The APIs whose operations were included; the first one's hints explain what is missing.
    backends: [Option<BackendKind>; 2],
}

const _: () = assert!(
    Operation::ALL.len() <= 64,
    "Capabilities keeps one bit per operation"
);

impl Capabilities {
    fn bit(operation: Operation) -> u64 {
        1 << (operation as u32)
    }

    /// What a backend of `kind` supports.
    pub fn of(backend: BackendKind) -> Self {
        let supported = Operation::ALL
            .iter()
            .filter(|op| op.unsupported_hint(backend).is_none())
            .fold(0, |bits, op| bits | Self::bit(*op));
        Self {
            supported,
            backends: [Some(backend), None],
        }
    }

    /// What either set supports: the capabilities of a layer that can send each operation to
    /// whichever of its backends has it.
    pub fn union(self, other: Capabilities) -> Self {
        let mut backends = self.backends;
        for kind in other.backends.into_iter().flatten() {
            // Slots fill from the left, so the first free or equal slot is where `kind` belongs.
            if let Some(slot) = backends
                .iter_mut()
                .find(|slot| slot.is_none() || **slot == Some(kind))
            {
                *slot = Some(kind);
            }
        }
        Self {
            supported: self.supported | other.supported,
            backends,
        }
    }

    /// Only the operations of `allowed` that this set has.
    pub fn only(self, allowed: impl IntoIterator<Item = Operation>) -> Self {
        let allowed = allowed.into_iter().fold(0, |bits, op| bits | Self::bit(op));
        Self {
            supported: self.supported & allowed,
            ..self
        }
    }

    /// This set without `operation`.
    pub fn without(self, operation: Operation) -> Self {
        Self {
            supported: self.supported & !Self::bit(operation),
            ..self
        }
    }

    /// Whether the operation is supported.
    pub fn supports(&self, operation: Operation) -> bool {
        self.supported & Self::bit(operation) != 0
    }

    /// The supported operations.
    pub fn operations(&self) -> impl Iterator<Item = Operation> + '_ {
        Operation::ALL
            .iter()
            .copied()
            .filter(|op| self.supports(*op))
    }

    /// `Ok` when supported, else the [`Error::Unsupported`] to return without sending anything:
    /// with the API's hint when the API lacks it, or saying it was narrowed away.
    pub fn check(&self, operation: Operation) -> Result<()> {
        if self.supports(operation) {
            return Ok(());
        }
        let backend = self.kinds().next().unwrap_or(BackendKind::ClassicRest);
        let hint = match self
            .kinds()
            .find(|kind| operation.unsupported_hint(*kind).is_none())
        {
            Some(has_it) => format!(
                "{has_it} has {operation}, but this backend's capabilities were narrowed to \
                 leave it out (an access policy or a restricted view)"
            ),
            None => operation
                .unsupported_hint(backend)
                .unwrap_or_default()
                .to_owned(),
        };
        Err(Error::Unsupported {
            operation,
            backend,
            hint,
        })
    }

    fn kinds(&self) -> impl Iterator<Item = BackendKind> + '_ {
        self.backends.iter().flatten().copied()
    }
}

/// Declares [`Request`] and its [`Operation`] in one place, so the two never drift apart.
macro_rules! requests {
    ($( $(#[$meta:meta])* $variant:ident $({ $($field:ident : $ty:ty),* $(,)? })? => $op:ident; )+) => {
        /// One call to Buffer, in backend-neutral terms: one variant per operation.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case", tag = "operation")]
        #[non_exhaustive]
        pub enum Request {
            $( $(#[$meta])* $variant $({ $( #[allow(missing_docs)] $field: $ty ),* })?, )+
        }

        impl Request {
            /// The operation this request performs.
            pub fn operation(&self) -> Operation {
                match self { $( Self::$variant { .. } => Operation::$op, )+ }
            }
        }
    };
}

requests! {
    /// See [`BackendExt::account`].
    Account => Account;
    /// See [`BackendExt::deauthorize`].
    Deauthorize => Deauthorize;
    /// See [`BackendExt::channels`].
    Channels => Channels;
    /// See [`BackendExt::channel`].
    Channel { id: ChannelId } => Channel;
    /// See [`BackendExt::schedules`].
    Schedules { channel_id: ChannelId } => Schedules;
    /// See [`BackendExt::update_schedules`].
    UpdateSchedules { channel_id: ChannelId, schedules: Vec<Schedule> } => UpdateSchedules;
    /// See [`BackendExt::posts`].
    Posts { query: PostQuery } => Posts;
    /// See [`BackendExt::post`].
    Post { id: PostId } => Post;
    /// See [`BackendExt::interactions`].
    Interactions { post_id: PostId, event: String, page: PageRequest } => Interactions;
    /// See [`BackendExt::create_post`].
    CreatePost { post: NewPost } => CreatePost;
    /// See [`BackendExt::create_posts`].
    CreatePosts { posts: Vec<NewPost> } => CreatePosts;
    /// See [`BackendExt::edit_post`].
    EditPost { id: PostId, edit: PostEdit } => EditPost;
    /// See [`BackendExt::share_post`].
    SharePost { id: PostId } => SharePost;
    /// See [`BackendExt::delete_post`].
    DeletePost { id: PostId } => DeletePost;
    /// See [`BackendExt::move_post_to_top`].
    MovePostToTop { id: PostId } => MovePostToTop;
    /// See [`BackendExt::reorder_queue`].
    ReorderQueue { channel_id: ChannelId, order: Vec<PostId>, offset: Option<u32> } => ReorderQueue;
    /// See [`BackendExt::shuffle_queue`].
    ShuffleQueue { channel_id: ChannelId, count: Option<u32> } => ShuffleQueue;
    /// See [`BackendExt::link_shares`].
    LinkShares { url: String } => LinkShares;
    /// See [`BackendExt::configuration`].
    Configuration => Configuration;
    /// See [`BackendExt::ideas`].
    Ideas { organization_id: OrganizationId, page: PageRequest } => Ideas;
    /// See [`BackendExt::create_idea`].
    CreateIdea { idea: NewIdea } => CreateIdea;
    /// See [`BackendExt::daily_posting_limits`].
    DailyPostingLimits { channel_ids: Vec<ChannelId> } => DailyPostingLimits;
    /// See [`BackendExt::recent_posts`].
    RecentPosts { channel_ids: Vec<ChannelId>, since: DateTime<Utc> } => RecentPosts;
    /// See [`BackendExt::reconcile`].
    Reconcile { key: IdempotencyKey } => Reconcile;
}

impl Request {
    /// Whether the request changes anything at Buffer: shadows send writes to one side only,
    /// and retries never repeat them blindly.
    pub fn writes(&self) -> bool {
        self.operation().writes()
    }

    /// The channels the request reads or writes, where it names them; for an access policy.
    /// Requests that name only a post (edit, delete, …) return nothing here: the post's channel
    /// is known only after reading it.
    pub fn channels(&self) -> Vec<&ChannelId> {
        match self {
            Self::Channel { id } => vec![id],
            Self::Schedules { channel_id }
            | Self::UpdateSchedules { channel_id, .. }
            | Self::ReorderQueue { channel_id, .. }
            | Self::ShuffleQueue { channel_id, .. } => vec![channel_id],
            Self::Posts { query } => vec![&query.channel_id],
            Self::CreatePost { post } => post.channel_ids.iter().collect(),
            Self::CreatePosts { posts } => posts.iter().flat_map(|p| &p.channel_ids).collect(),
            Self::DailyPostingLimits { channel_ids } | Self::RecentPosts { channel_ids, .. } => {
                channel_ids.iter().collect()
            }
            _ => Vec::new(),
        }
    }
}

/// The result of a [`Request`]: one variant per operation.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "response", content = "data")]
#[non_exhaustive]
pub enum Response {
    /// For [`Request::Account`].
    Account(Account),
    /// For [`Request::Deauthorize`].
    Deauthorized,
    /// For [`Request::Channels`].
    Channels(Vec<Channel>),
    /// For [`Request::Channel`].
    Channel(Channel),
    /// For [`Request::Schedules`].
    Schedules(Vec<Schedule>),
    /// For [`Request::UpdateSchedules`].
    SchedulesUpdated,
    /// For [`Request::Posts`].
    Posts(Page<Post>),
    /// For [`Request::Post`], [`Request::EditPost`] and [`Request::MovePostToTop`].
    Post(Post),
    /// For [`Request::Interactions`].
    Interactions(Page<Interaction>),
    /// For [`Request::CreatePost`].
    Created(CreateOutcome),
    /// For [`Request::CreatePosts`]: one outcome per post, in order.
    CreatedMany(Vec<CreateOutcome>),
    /// For [`Request::SharePost`].
    Shared,
    /// For [`Request::DeletePost`].
    Deleted,
    /// For [`Request::ReorderQueue`] and [`Request::ShuffleQueue`]: the queue in its new order.
    Queue(Vec<Post>),
    /// For [`Request::LinkShares`].
    LinkShares(u64),
    /// For [`Request::Configuration`].
    Configuration(Configuration),
    /// For [`Request::Ideas`].
    Ideas(Page<Idea>),
    /// For [`Request::CreateIdea`].
    Idea(Idea),
    /// For [`Request::DailyPostingLimits`].
    DailyPostingLimits(Vec<DailyPostingLimit>),
    /// For [`Request::RecentPosts`].
    RecentPosts(RecentPosts),
    /// For [`Request::Reconcile`]: one outcome per post of the write, in order.
    Reconciled(Vec<CreateOutcome>),
}

impl Response {
    fn name(&self) -> &'static str {
        match self {
            Self::Account(_) => "account",
            Self::Deauthorized => "deauthorized",
            Self::Channels(_) => "channels",
            Self::Channel(_) => "channel",
            Self::Schedules(_) => "schedules",
            Self::SchedulesUpdated => "schedules_updated",
            Self::Posts(_) => "posts",
            Self::Post(_) => "post",
            Self::Interactions(_) => "interactions",
            Self::Created(_) => "created",
            Self::CreatedMany(_) => "created_many",
            Self::Shared => "shared",
            Self::Deleted => "deleted",
            Self::Queue(_) => "queue",
            Self::LinkShares(_) => "link_shares",
            Self::Configuration(_) => "configuration",
            Self::Ideas(_) => "ideas",
            Self::Idea(_) => "idea",
            Self::DailyPostingLimits(_) => "daily_posting_limits",
            Self::RecentPosts(_) => "recent_posts",
            Self::Reconciled(_) => "reconciled",
        }
    }
}

/// A client of one of Buffer's APIs, or a layer over one.
///
/// Object safe: `Arc<dyn Backend>` is the usual way to hold one. Implement [`execute`] as one
/// `match` on the request; callers use the typed methods of [`BackendExt`].
///
/// [`execute`]: Backend::execute
#[async_trait]
pub trait Backend: Send + Sync {
    /// Which API this backend speaks (for a layer: the API of the backend it answers from).
    fn kind(&self) -> BackendKind;

    /// Which operations it supports. An unsupported operation fails with
    /// [`Error::Unsupported`] before any request is sent.
    fn capabilities(&self) -> Capabilities {
        Capabilities::of(self.kind())
    }

    /// Performs one request.
    async fn execute(&self, request: Request) -> Result<Response>;

    /// The rate-limit budget the latest response announced, for backends that read it from
    /// headers; pacing uses it to stay inside the server's count instead of its own guess.
    fn rate_limits(&self) -> Option<RateLimits> {
        None
    }

    /// The server's time as its latest answer's `Date` header gave it: a lower bound of the
    /// server's clock now, which fences the reconciliation of writes (a post created before a
    /// write was sent cannot be that write's post). `None` before any answer.
    fn server_time(&self) -> Option<DateTime<Utc>> {
        None
    }

    /// What this backend is, its layers included (`retrying(paced(graphql))`,
    /// `shadow(rest, candidate graphql)`): for logs and `Debug`, since [`kind`](Self::kind)
    /// names only the API whose answers come back.
    fn describe(&self) -> String {
        self.kind().to_string()
    }
}

/// A backend behind a pointer is a backend: layers take `Arc<dyn Backend>`, `Box<dyn
/// Backend>` and `&dyn Backend` alike.
macro_rules! forward_backend {
    ($($pointer:ty),+) => {$(
        #[async_trait]
        impl<B: Backend + ?Sized> Backend for $pointer {
            fn kind(&self) -> BackendKind {
                (**self).kind()
            }
            fn capabilities(&self) -> Capabilities {
                (**self).capabilities()
            }
            async fn execute(&self, request: Request) -> Result<Response> {
                (**self).execute(request).await
            }
            fn rate_limits(&self) -> Option<RateLimits> {
                (**self).rate_limits()
            }
            fn server_time(&self) -> Option<DateTime<Utc>> {
                (**self).server_time()
            }
            fn describe(&self) -> String {
                (**self).describe()
            }
        }
    )+};
}

forward_backend!(Arc<B>, Box<B>, &B);

/// Unpacks the expected [`Response`] variant; anything else is a typed error, not a panic.
macro_rules! expect {
    ($response:expr, $pattern:pat => $value:expr, $operation:literal) => {
        match $response? {
            $pattern => Ok($value),
            other => Err(Error::unexpected(format!(
                "the backend answered {} to {}",
                other.name(),
                $operation
            ))),
        }
    };
}

/// Typed methods over [`Backend::execute`], for every backend, `dyn Backend` included.
///
/// ```no_run
/// use buffer_bridge::{Backend, BackendExt, rest::ClassicRest};
/// use std::sync::Arc;
///
/// # async fn run() -> buffer_bridge::Result<()> {
/// let backend: Arc<dyn Backend> = Arc::new(ClassicRest::builder().access_token("token").build()?);
/// for channel in backend.channels().await? {
///     println!("{} on {}", channel.name, channel.service);
/// }
/// # Ok(()) }
/// ```
pub trait BackendExt: Backend {
    /// The account the credentials belong to.
    ///
    /// GraphQL reports the account's name, email and organizations; the classic API its plan
    /// instead (MIGRATION.md, `GET /user.json`).
    #[doc(alias = "user")]
    fn account(&self) -> impl Future<Output = Result<Account>> + Send {
        async move {
            expect!(self.execute(Request::Account).await, Response::Account(a) => a, "account")
        }
    }

    /// Revokes the classic access token.
    ///
    /// Classic only: GraphQL answers [`Error::Unsupported`] (revoke API keys in Buffer's
    /// settings).
    fn deauthorize(&self) -> impl Future<Output = Result<()>> + Send {
        async move {
            expect!(self.execute(Request::Deauthorize).await, Response::Deauthorized => (), "deauthorize")
        }
    }

    /// Every channel the account can post to.
    ///
    /// Classic: one request. GraphQL: one request for the organizations, then one per
    /// organization, looked up once and kept five minutes.
    #[doc(alias = "profiles")]
    fn channels(&self) -> impl Future<Output = Result<Vec<Channel>>> + Send {
        async move {
            expect!(self.execute(Request::Channels).await, Response::Channels(c) => c, "channels")
        }
    }

    /// One channel.
    #[doc(alias = "profile")]
    fn channel(&self, id: &ChannelId) -> impl Future<Output = Result<Channel>> + Send {
        async move {
            expect!(self.execute(Request::Channel { id: id.clone() }).await, Response::Channel(c) => c, "channel")
        }
    }

    /// A channel's posting schedule, one entry per day.
    ///
    /// GraphQL reads it from the channel's `postingSchedule`; both give the same days and times.
    fn schedules(
        &self,
        channel_id: &ChannelId,
    ) -> impl Future<Output = Result<Vec<Schedule>>> + Send {
        async move {
            expect!(self.execute(Request::Schedules { channel_id: channel_id.clone() }).await, Response::Schedules(s) => s, "schedules")
        }
    }

    /// Replaces a channel's posting schedule.
    ///
    /// Classic only: GraphQL answers [`Error::Unsupported`] before sending anything.
    fn update_schedules(
        &self,
        channel_id: &ChannelId,
        schedules: &[Schedule],
    ) -> impl Future<Output = Result<()>> + Send {
        async move {
            let request = Request::UpdateSchedules {
                channel_id: channel_id.clone(),
                schedules: schedules.to_vec(),
            };
            expect!(self.execute(request).await, Response::SchedulesUpdated => (), "update_schedules")
        }
    }

    /// One page of a channel's queued or sent posts.
    ///
    /// Classic pages by number; GraphQL by cursor. A page's [`next`](Page::next) token costs
    /// one request on both; a page number ([`PageRequest::offset`]) on GraphQL walks from the
    /// start (one request per 100 posts skipped). [`Page::total`] is `None` on GraphQL, which
    /// does not count.
    #[doc(alias = "updates")]
    fn posts(&self, query: &PostQuery) -> impl Future<Output = Result<Page<Post>>> + Send {
        async move {
            expect!(self.execute(Request::Posts { query: query.clone() }).await, Response::Posts(p) => p, "posts")
        }
    }

    /// One post.
    #[doc(alias = "update")]
    fn post(&self, id: &PostId) -> impl Future<Output = Result<Post>> + Send {
        async move {
            expect!(self.execute(Request::Post { id: id.clone() }).await, Response::Post(p) => p, "post")
        }
    }

    /// One page of the interactions of a sent post, for one event type (`like`, `retweet`, …).
    ///
    /// Classic only: GraphQL has per-post `metrics` instead and answers
    /// [`Error::Unsupported`].
    fn interactions(
        &self,
        post_id: &PostId,
        event: &str,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Interaction>>> + Send {
        async move {
            let request = Request::Interactions {
                post_id: post_id.clone(),
                event: event.to_owned(),
                page,
            };
            expect!(self.execute(request).await, Response::Interactions(i) => i, "interactions")
        }
    }

    /// Creates a post on each of its channels; the outcome has one result per channel:
    /// created, certainly not created, or unknown (the request may have reached Buffer and its
    /// answer was lost).
    ///
    /// **Cancellation and retries.** Dropping the future, or an error, may leave posts created
    /// at Buffer that this call never reported. Through [`Retrying`](crate::retry::Retrying)
    /// a create is journaled under its idempotency key ([`NewPost::key`]) before it is sent:
    /// calling again with the same post (or key) returns what is known and reconciles the
    /// rest instead of posting twice, and [`reconcile`](Self::reconcile) tells what became of
    /// it without sending anything. A bare backend sends whatever it is given.
    ///
    /// A refusal of the whole request (a revoked token, say) is the call's error on a bare
    /// backend; through `Retrying` it is each channel's [`Failed`](ChannelResult::Failed), so
    /// that a batch keeps what its earlier attempts created.
    fn create_post(&self, post: &NewPost) -> impl Future<Output = Result<CreateOutcome>> + Send {
        async move {
            expect!(self.execute(Request::CreatePost { post: post.clone() }).await, Response::Created(c) => c, "create_post")
        }
    }

    /// Creates many posts at once, each on its channels; one outcome per post, in order.
    ///
    /// On GraphQL the `createPost` of every channel of every post share aliased requests, 30
    /// to a request, so 500 single-channel posts cost 17 requests instead of 500. The classic
    /// API sends one create per post.
    ///
    /// Cancellation and retries: as [`create_post`](Self::create_post), each post under its
    /// own key.
    fn create_posts(
        &self,
        posts: &[NewPost],
    ) -> impl Future<Output = Result<Vec<CreateOutcome>>> + Send {
        async move {
            let request = Request::CreatePosts {
                posts: posts.to_vec(),
            };
            expect!(self.execute(request).await, Response::CreatedMany(c) => c, "create_posts")
        }
    }

    /// Edits a post and returns it as it now is.
    ///
    /// Idempotent: sending the same edit twice leaves the post as one edit would. GraphQL
    /// reads the post first when the edit changes its link (one more request).
    fn edit_post(&self, id: &PostId, edit: &PostEdit) -> impl Future<Output = Result<Post>> + Send {
        async move {
            let request = Request::EditPost {
                id: id.clone(),
                edit: edit.clone(),
            };
            expect!(self.execute(request).await, Response::Post(p) => p, "edit_post")
        }
    }

    /// Publishes a queued post now.
    fn share_post(&self, id: &PostId) -> impl Future<Output = Result<()>> + Send {
        async move {
            expect!(self.execute(Request::SharePost { id: id.clone() }).await, Response::Shared => (), "share_post")
        }
    }

    /// Deletes a post.
    ///
    /// Idempotent in effect: a second call answers [`Error::NotFound`].
    #[doc(alias = "destroy")]
    fn delete_post(&self, id: &PostId) -> impl Future<Output = Result<()>> + Send {
        async move {
            expect!(self.execute(Request::DeletePost { id: id.clone() }).await, Response::Deleted => (), "delete_post")
        }
    }

    /// Moves a queued post to the front of its queue and returns it with its new time.
    #[doc(alias = "move_to_top")]
    fn move_post_to_top(&self, id: &PostId) -> impl Future<Output = Result<Post>> + Send {
        async move {
            expect!(self.execute(Request::MovePostToTop { id: id.clone() }).await, Response::Post(p) => p, "move_post_to_top")
        }
    }

    /// Puts the queue in the given order, starting at `offset` when given.
    ///
    /// Classic only: GraphQL answers [`Error::Unsupported`] (set each post's time with an
    /// edit, or use [`move_post_to_top`](Self::move_post_to_top)).
    fn reorder_queue(
        &self,
        channel_id: &ChannelId,
        order: &[PostId],
        offset: Option<u32>,
    ) -> impl Future<Output = Result<Vec<Post>>> + Send {
        async move {
            let request = Request::ReorderQueue {
                channel_id: channel_id.clone(),
                order: order.to_vec(),
                offset,
            };
            expect!(self.execute(request).await, Response::Queue(q) => q, "reorder_queue")
        }
    }

    /// Shuffles the queue; returns its first `count` posts in their new order.
    ///
    /// Classic only: GraphQL answers [`Error::Unsupported`].
    fn shuffle_queue(
        &self,
        channel_id: &ChannelId,
        count: Option<u32>,
    ) -> impl Future<Output = Result<Vec<Post>>> + Send {
        async move {
            let request = Request::ShuffleQueue {
                channel_id: channel_id.clone(),
                count,
            };
            expect!(self.execute(request).await, Response::Queue(q) => q, "shuffle_queue")
        }
    }

    /// How often a URL was shared through Buffer.
    ///
    /// Classic only: GraphQL answers [`Error::Unsupported`].
    fn link_shares(&self, url: &str) -> impl Future<Output = Result<u64>> + Send {
        async move {
            expect!(self.execute(Request::LinkShares { url: url.to_owned() }).await, Response::LinkShares(n) => n, "link_shares")
        }
    }

    /// Buffer's per-network limits.
    ///
    /// Classic only: GraphQL answers [`Error::Unsupported`]; [`NewPost::check`] carries the
    /// limits the preflight applies on both.
    fn configuration(&self) -> impl Future<Output = Result<Configuration>> + Send {
        async move {
            expect!(self.execute(Request::Configuration).await, Response::Configuration(c) => c, "configuration")
        }
    }

    /// One page of an organization's ideas.
    ///
    /// GraphQL only: the classic API answers [`Error::Unsupported`].
    fn ideas(
        &self,
        organization_id: &OrganizationId,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Idea>>> + Send {
        async move {
            let request = Request::Ideas {
                organization_id: organization_id.clone(),
                page,
            };
            expect!(self.execute(request).await, Response::Ideas(i) => i, "ideas")
        }
    }

    /// Creates an idea.
    ///
    /// GraphQL only: the classic API answers [`Error::Unsupported`]. Not journaled: an idea
    /// repeated after a lost answer is a second idea, which the caller can delete in Buffer.
    fn create_idea(&self, idea: &NewIdea) -> impl Future<Output = Result<Idea>> + Send {
        async move {
            expect!(self.execute(Request::CreateIdea { idea: idea.clone() }).await, Response::Idea(i) => i, "create_idea")
        }
    }

    /// Today's posting limits of some channels.
    ///
    /// GraphQL only: the classic API answers [`Error::Unsupported`].
    fn daily_posting_limits(
        &self,
        channel_ids: &[ChannelId],
    ) -> impl Future<Output = Result<Vec<DailyPostingLimit>>> + Send {
        async move {
            let request = Request::DailyPostingLimits {
                channel_ids: channel_ids.to_vec(),
            };
            expect!(self.execute(request).await, Response::DailyPostingLimits(l) => l, "daily_posting_limits")
        }
    }

    /// Every post created on these channels since `since`, whatever its status (queued, sent,
    /// failed, draft): how to find out whether a write went through.
    ///
    /// GraphQL reads all the channels with one `posts` query (per organization); the classic
    /// API reads each channel's queue and sent list. [`RecentPosts::complete`] is false when
    /// the listing was longer than the reading limit.
    fn recent_posts(
        &self,
        channel_ids: &[ChannelId],
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<RecentPosts>> + Send {
        async move {
            let request = Request::RecentPosts {
                channel_ids: channel_ids.to_vec(),
                since,
            };
            expect!(self.execute(request).await, Response::RecentPosts(r) => r, "recent_posts")
        }
    }

    /// What became of an earlier write with this idempotency key: one outcome per post, each
    /// channel [`Created`](ChannelResult::Created), [`Failed`](ChannelResult::Failed) (certainly
    /// not created) or still [`Unknown`](ChannelResult::Unknown).
    ///
    /// For an application whose create future was dropped, or whose process died: ask with the
    /// key of the write ([`NewPost::key`]). Answered by a [`Retrying`](crate::retry::Retrying)
    /// layer from its journal (use a durable one, such as
    /// [`SqliteJournal`](crate::journal::SqliteJournal), to ask after a restart); unknown
    /// channels are looked up among the channels' recent posts, and nothing is ever sent.
    /// A backend without that layer answers [`Error::Unsupported`].
    fn reconcile(
        &self,
        key: &IdempotencyKey,
    ) -> impl Future<Output = Result<Vec<CreateOutcome>>> + Send {
        async move {
            let request = Request::Reconcile { key: key.clone() };
            expect!(self.execute(request).await, Response::Reconciled(r) => r, "reconcile")
        }
    }

    /// Reads a query's pages one after the other, from the query's page on; see [`Pager`].
    fn pager(&self, query: PostQuery) -> Pager<'_, Self> {
        Pager::new(self, query)
    }

    /// Every post of a query, page after page, from the query's page on.
    ///
    /// Holds one page in memory at a time and costs one request a page, as a [`Pager`] does.
    /// Stops at the last page, and also, rather than loop forever, when a backend hands back a
    /// token it already gave.
    fn all_posts(&self, query: PostQuery) -> BoxStream<'_, Result<Post>> {
        Box::pin(stream_pages(self.pager(query)))
    }
}

impl<B: Backend + ?Sized> BackendExt for B {}

/// Reads a listing page after page, and is where the listing is: the walk belongs to it, not
/// to the backend.
///
/// Each page's [`next`](Page::next) token says where the following page starts; on GraphQL it
/// carries the cursor after the page's last post, so every page after the first costs one
/// request, and a post created, deleted or moved meanwhile never makes a page repeat or skip
/// what follows the posts already read. Reading page numbers instead
/// ([`PageRequest::offset`]) gives what that page holds at the moment it is asked for, which
/// on GraphQL costs a walk from the start. A pager can be dropped at any time; to resume later,
/// keep [`next_request`](Pager::next_request) (a [`PageToken`] can be stored as text).
///
/// ```no_run
/// use buffer_bridge::{Backend, BackendExt, model::{PostList, PostQuery}};
///
/// # async fn run(buffer: &dyn Backend) -> buffer_bridge::Result<()> {
/// let mut pages = buffer.pager(PostQuery::new("channel-id", PostList::Queue));
/// while let Some(page) = pages.next_page().await? {
///     for post in page.items {
///         println!("{}", post.text);
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Pager<'a, B: ?Sized> {
    backend: &'a B,
    /// The query of the next page; `None` once the last page was read.
    next: Option<PostQuery>,
    /// Every token handed out so far, to stop a backend that goes round in circles.
    seen: HashSet<PageToken>,
}

impl<B: ?Sized> fmt::Debug for Pager<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pager")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl<'a, B: Backend + ?Sized> Pager<'a, B> {
    /// A pager that starts at `query`'s page.
    pub fn new(backend: &'a B, query: PostQuery) -> Self {
        Self {
            backend,
            next: Some(query),
            seen: HashSet::new(),
        }
    }

    /// The next page, or `None` after the last one. A page that fails can be asked for again:
    /// the pager moves on only when a page arrives.
    pub async fn next_page(&mut self) -> Result<Option<Page<Post>>> {
        let Some(query) = &self.next else {
            return Ok(None);
        };
        let size = query.page.size();
        let page = self.backend.posts(query).await?;
        self.next = match &page.next {
            Some(token) if self.seen.insert(token.clone()) => self
                .next
                .take()
                .map(|query| query.page(PageRequest::after(token.clone(), size))),
            Some(token) => {
                tracing::warn!(%token, "the backend returned a page token twice; stopping the listing");
                None
            }
            None => None,
        };
        Ok(Some(page))
    }

    /// The request of the next page, to resume the listing later; `None` after the last page.
    pub fn next_request(&self) -> Option<&PageRequest> {
        self.next.as_ref().map(|query| &query.page)
    }
}

fn stream_pages<B: Backend + ?Sized>(
    pager: Pager<'_, B>,
) -> impl Stream<Item = Result<Post>> + Send + '_ {
    let state = (pager, Vec::new().into_iter());
    futures::stream::try_unfold(state, |(mut pager, mut buffered)| async move {
        loop {
            if let Some(post) = buffered.next() {
                return Ok(Some((post, (pager, buffered))));
            }
            match pager.next_page().await? {
                Some(page) => buffered = page.items.into_iter(),
                None => return Ok(None),
            }
        }
    })
}
