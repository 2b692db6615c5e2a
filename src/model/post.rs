//! Posts (classic: updates), what goes into creating and editing one, and per-channel outcomes.

use super::{AssetKind, ChannelId, PageRequest, PostId, PostStatus, Service};
use crate::Error;
use crate::journal::IdempotencyKey;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One post to one channel.
#[doc(alias = "update")]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Post {
    /// The post id (equal to the classic update id).
    pub id: PostId,
    /// The channel it publishes to (classic `profile_id`).
    pub channel_id: ChannelId,
    /// The channel's network (classic `profile_service`).
    pub service: Service,
    /// The text.
    pub text: String,
    /// Where the post is in its life.
    pub status: PostStatus,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last changed.
    pub updated_at: Option<DateTime<Utc>>,
    /// When it is (or was) due to publish.
    pub due_at: Option<DateTime<Utc>>,
    /// When it was published.
    pub sent_at: Option<DateTime<Utc>>,
    /// Whether it was shared at once rather than queued.
    pub shared_now: bool,
    /// Media, in rendering order.
    pub assets: Vec<Asset>,
    /// The link preview, when there is one.
    pub link: Option<Link>,
    /// The post's id on the network once published (classic `service_update_id`).
    pub service_post_id: Option<String>,
    /// The post's URL on the network once published (GraphQL `externalLink`).
    pub external_link: Option<String>,
    /// Why publishing failed, when [`status`](Self::status) is [`PostStatus::Error`].
    pub error: Option<PublishingError>,
    /// Engagement figures by name (classic `statistics`, GraphQL `metrics`). The two APIs name
    /// and count them differently; see MIGRATION.md.
    #[doc(alias = "statistics")]
    pub metrics: BTreeMap<String, f64>,
}

impl Post {
    /// A post with its id, channel and text; the rest is left empty.
    pub fn new(
        id: impl Into<PostId>,
        channel_id: impl Into<ChannelId>,
        service: Service,
        text: impl Into<String>,
        status: PostStatus,
    ) -> Self {
        Self {
            id: id.into(),
            channel_id: channel_id.into(),
            service,
            text: text.into(),
            status,
            created_at: None,
            updated_at: None,
            due_at: None,
            sent_at: None,
            shared_now: false,
            assets: Vec::new(),
            link: None,
            service_post_id: None,
            external_link: None,
            error: None,
            metrics: BTreeMap::new(),
        }
    }
}

/// Why the network rejected a post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PublishingError {
    /// What went wrong, in words.
    pub message: String,
    /// Where Buffer explains the problem, when it says.
    pub support_url: Option<String>,
}

impl PublishingError {
    /// A publishing error with its message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            support_url: None,
        }
    }
}

/// A media attachment: an image, a video or a document, by public URL.
///
/// Buffer has no upload endpoint on either API: media must be at a URL that still resolves when
/// the post publishes.
#[doc(alias = "media")]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Asset {
    /// Image, video or document.
    pub kind: AssetKind,
    /// Where the file is.
    pub url: String,
    /// A thumbnail URL (required by Buffer for documents).
    pub thumbnail: Option<String>,
    /// Alternative text for an image.
    pub alt_text: Option<String>,
    /// A title (documents and videos).
    pub title: Option<String>,
}

impl Asset {
    fn of(kind: AssetKind, url: impl Into<String>) -> Self {
        Self {
            kind,
            url: url.into(),
            thumbnail: None,
            alt_text: None,
            title: None,
        }
    }

    /// An image at `url`.
    pub fn image(url: impl Into<String>) -> Self {
        Self::of(AssetKind::Image, url)
    }

    /// A video at `url`.
    pub fn video(url: impl Into<String>) -> Self {
        Self::of(AssetKind::Video, url)
    }

    /// A document at `url`, with the title and thumbnail Buffer requires for documents.
    pub fn document(
        url: impl Into<String>,
        title: impl Into<String>,
        thumbnail: impl Into<String>,
    ) -> Self {
        Self {
            title: Some(title.into()),
            thumbnail: Some(thumbnail.into()),
            ..Self::of(AssetKind::Document, url)
        }
    }

    /// Sets the thumbnail URL.
    pub fn with_thumbnail(mut self, url: impl Into<String>) -> Self {
        self.thumbnail = Some(url.into());
        self
    }

    /// Sets the alternative text.
    pub fn with_alt_text(mut self, text: impl Into<String>) -> Self {
        self.alt_text = Some(text.into());
        self
    }
}

/// A link preview (classic `media[link]`, GraphQL `metadata.<service>.linkAttachment`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Link {
    /// The page the preview points to.
    pub url: String,
    /// The preview's title.
    pub title: Option<String>,
    /// The preview's description.
    pub description: Option<String>,
    /// The preview's picture.
    pub thumbnail: Option<String>,
}

impl Link {
    /// A link preview of `url`, with Buffer filling in title and picture.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            title: None,
            description: None,
            thumbnail: None,
        }
    }

    /// Sets the title.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

/// When a new post publishes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "mode", content = "at")]
pub enum When {
    /// In the channel's next free queue slot (classic default, GraphQL `addToQueue`).
    #[default]
    Queue,
    /// At the front of the queue (classic `top=true`, GraphQL `shareNext`).
    Next,
    /// At once (classic `now=true`, GraphQL `shareNow`).
    Now,
    /// At a given time (classic `scheduled_at`, GraphQL `customScheduled` with `dueAt`).
    At(DateTime<Utc>),
}

/// A post to create on one or more channels.
///
/// ```
/// use buffer_bridge::model::{Asset, NewPost, When};
///
/// let post = NewPost::new("Launch day!")
///     .channel("4eb854340acb04e870000010")
///     .channel("4eb9276e0acb04bb81000067")
///     .asset(Asset::image("https://example.com/launch.png"))
///     .when(When::Next);
/// assert_eq!(post.channel_ids.len(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct NewPost {
    /// The channels to post to (classic `profile_ids[]`). GraphQL creates one post per channel.
    #[doc(alias = "profile_ids")]
    pub channel_ids: Vec<ChannelId>,
    /// The text. Optional on the wire, but most networks reject a post with neither text nor media.
    pub text: Option<String>,
    /// Media, in rendering order.
    pub assets: Vec<Asset>,
    /// A link preview.
    pub link: Option<Link>,
    /// When to publish.
    pub when: When,
    /// Whether the classic API shortens links in the text (its default is yes). GraphQL has no
    /// such switch; the channel's link-shortening setting decides there.
    pub shorten: Option<bool>,
    /// What identifies this write across retries, cancellation and restarts; derived from the
    /// content when not given ([`IdempotencyKey::derive`]). Give one when the same content may
    /// legitimately be posted twice, or to find the write later with
    /// [`BackendExt::reconcile`](crate::BackendExt::reconcile).
    pub idempotency_key: Option<IdempotencyKey>,
    /// Saves the post as a draft for a person to approve in Buffer instead of scheduling it
    /// (GraphQL `saveToDraft`). The classic API has no drafts: it refuses such a post before
    /// sending anything.
    #[serde(default)]
    pub draft: bool,
}

impl NewPost {
    /// A post with this text, to be given channels.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    /// Adds a channel to post to.
    pub fn channel(mut self, id: impl Into<ChannelId>) -> Self {
        self.channel_ids.push(id.into());
        self
    }

    /// Adds channels to post to.
    pub fn channels(mut self, ids: impl IntoIterator<Item = impl Into<ChannelId>>) -> Self {
        self.channel_ids.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Adds a media attachment.
    pub fn asset(mut self, asset: Asset) -> Self {
        self.assets.push(asset);
        self
    }

    /// Sets the link preview.
    pub fn link(mut self, link: Link) -> Self {
        self.link = Some(link);
        self
    }

    /// Sets when the post publishes.
    pub fn when(mut self, when: When) -> Self {
        self.when = when;
        self
    }

    /// Saves the post as a draft instead of scheduling it (GraphQL only; see
    /// [`draft`](Self::draft)).
    pub fn as_draft(mut self) -> Self {
        self.draft = true;
        self
    }

    /// Sets the idempotency key that identifies this write.
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// The key that identifies this write: the one given, or the one derived from its content.
    pub fn key(&self) -> IdempotencyKey {
        self.idempotency_key
            .clone()
            .unwrap_or_else(|| IdempotencyKey::derive(self))
    }
}

/// A change to one field of an existing post: keep it, clear it, or set it.
///
/// GraphQL's `editPost` tells "absent" (keep) from `null` (clear), so `Option` is not enough.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "change", content = "value")]
pub enum Patch<T> {
    /// Leave the field as it is.
    #[default]
    Keep,
    /// Remove the field's value.
    Clear,
    /// Replace the field's value.
    Set(T),
}

impl<T> Patch<T> {
    /// Whether this patch leaves the field alone.
    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }
}

/// Changes to an existing post; fields left at [`Patch::Keep`] are not touched.
///
/// ```
/// use buffer_bridge::model::{Patch, PostEdit};
///
/// let edit = PostEdit::default().text("Fixed a typo");
/// assert_eq!(edit.text, Patch::Set("Fixed a typo".to_owned()));
/// assert!(edit.assets.is_keep());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct PostEdit {
    /// The text.
    pub text: Patch<String>,
    /// The media (set to an empty list, or clear, to remove them all).
    pub assets: Patch<Vec<Asset>>,
    /// The link preview.
    pub link: Patch<Link>,
    /// A new publishing time; `None` keeps the current one.
    pub when: Option<When>,
}

impl PostEdit {
    /// Sets new text.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Patch::Set(text.into());
        self
    }

    /// Sets new media.
    pub fn assets(mut self, assets: Vec<Asset>) -> Self {
        self.assets = Patch::Set(assets);
        self
    }

    /// Sets a new link preview.
    pub fn link(mut self, link: Link) -> Self {
        self.link = Patch::Set(link);
        self
    }

    /// Removes every asset.
    pub fn clear_assets(mut self) -> Self {
        self.assets = Patch::Clear;
        self
    }

    /// Removes the link preview.
    pub fn clear_link(mut self) -> Self {
        self.link = Patch::Clear;
        self
    }

    /// Reschedules the post.
    pub fn when(mut self, when: When) -> Self {
        self.when = Some(when);
        self
    }
}

/// Which of a channel's posts to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PostList {
    /// Posts waiting to publish, soonest first (classic `updates/pending`).
    #[doc(alias = "pending")]
    Queue,
    /// Published posts, newest first (classic `updates/sent`).
    Sent,
}

/// A query for one channel's posts, one page at a time.
///
/// ```
/// use buffer_bridge::model::{PageRequest, PostList, PostQuery};
///
/// let query = PostQuery::new("4eb854340acb04e870000010", PostList::Queue).page(PageRequest::offset(2, 20));
/// assert_eq!(query.list, PostList::Queue);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PostQuery {
    /// The channel.
    pub channel_id: ChannelId,
    /// Queued or sent posts.
    pub list: PostList,
    /// Only posts created (queue) or sent (sent list) after this time.
    pub since: Option<DateTime<Utc>>,
    /// Which page.
    pub page: PageRequest,
}

impl PostQuery {
    /// The first page of a channel's queued or sent posts.
    pub fn new(channel_id: impl Into<ChannelId>, list: PostList) -> Self {
        Self {
            channel_id: channel_id.into(),
            list,
            since: None,
            page: PageRequest::default(),
        }
    }

    /// Sets the page to read.
    pub fn page(mut self, page: PageRequest) -> Self {
        self.page = page;
        self
    }

    /// Keeps only posts after `since`.
    pub fn since(mut self, since: DateTime<Utc>) -> Self {
        self.since = Some(since);
        self
    }

    /// What identifies the query apart from its page, so a continuation token from one query
    /// is never used to read another.
    pub fn scope(&self) -> String {
        let since = self
            .since
            .map(|t| t.timestamp().to_string())
            .unwrap_or_default();
        format!("posts/{}/{:?}/{since}", self.channel_id, self.list)
    }
}

/// Every post created on some channels since a time, whatever its status: what an
/// application (or reconciliation) reads to learn whether a write went through.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecentPosts {
    /// The posts found, in no particular order.
    pub posts: Vec<Post>,
    /// Whether every such post was read: false when the listing was longer than the reading
    /// limit, so a post missing from [`posts`](Self::posts) may still exist.
    pub complete: bool,
}

impl RecentPosts {
    /// A listing of these posts, complete or not.
    pub fn new(posts: Vec<Post>, complete: bool) -> Self {
        Self { posts, complete }
    }
}

/// What became of one channel of a create: created, certainly not created, or not known.
///
/// Buffer has no idempotency keys, and a request can reach Buffer and lose its answer. Only
/// [`Failed`](Self::Failed) means Buffer certainly did not create the post; when nothing proves
/// either way the result is [`Unknown`](Self::Unknown), never a guess. Ask
/// [`BackendExt::reconcile`](crate::BackendExt::reconcile) later to learn which it was.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // one per channel of a create, returned, not moved in bulk
pub enum ChannelResult {
    /// The post Buffer created.
    Created(Post),
    /// Buffer refused, or the request never reached it: nothing was created.
    Failed(Error),
    /// The request may have reached Buffer and its answer was lost or unreadable: the post
    /// may or may not exist. The error says what went wrong.
    Unknown(Error),
}

impl ChannelResult {
    /// The result of an attempt: a post, or an error that is a certain failure only when it
    /// proves nothing was done ([`Error::may_have_run`] is false).
    pub fn of_attempt(result: Result<Post, Error>) -> Self {
        match result {
            Ok(post) => Self::Created(post),
            Err(error) if error.may_have_run() => Self::Unknown(error),
            Err(error) => Self::Failed(error),
        }
    }

    /// The created post.
    pub fn post(&self) -> Option<&Post> {
        match self {
            Self::Created(post) => Some(post),
            _ => None,
        }
    }

    /// Why it failed or is unknown.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Self::Created(_) => None,
            Self::Failed(error) | Self::Unknown(error) => Some(error),
        }
    }

    /// Whether the post was created.
    pub fn is_created(&self) -> bool {
        matches!(self, Self::Created(_))
    }

    /// Whether Buffer certainly did not create it.
    pub fn is_failed(&self) -> bool {
        matches!(self, Self::Failed(_))
    }

    /// Whether nobody knows yet.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown(_))
    }

    /// The post, or the error of a failed or unknown result.
    pub fn into_result(self) -> Result<Post, Error> {
        match self {
            Self::Created(post) => Ok(post),
            Self::Failed(error) | Self::Unknown(error) => Err(error),
        }
    }

    /// The same result with `f` applied to its error.
    pub(crate) fn map_error(self, f: impl FnOnce(Error) -> Error) -> Self {
        match self {
            Self::Created(post) => Self::Created(post),
            Self::Failed(error) => Self::Failed(f(error)),
            Self::Unknown(error) => Self::Unknown(f(error)),
        }
    }
}

/// What happened on one channel of a multi-channel create.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct ChannelOutcome {
    /// The channel.
    pub channel_id: ChannelId,
    /// The post created there, why it was not, or that nobody knows yet.
    pub result: ChannelResult,
}

impl ChannelOutcome {
    /// The outcome of one channel.
    pub fn new(channel_id: impl Into<ChannelId>, result: ChannelResult) -> Self {
        Self {
            channel_id: channel_id.into(),
            result,
        }
    }

    /// A channel where the post was created.
    pub fn created(channel_id: impl Into<ChannelId>, post: Post) -> Self {
        Self::new(channel_id, ChannelResult::Created(post))
    }

    /// A channel where Buffer certainly created nothing.
    pub fn failed(channel_id: impl Into<ChannelId>, error: Error) -> Self {
        Self::new(channel_id, ChannelResult::Failed(error))
    }

    /// A channel whose outcome is not known.
    pub fn unknown(channel_id: impl Into<ChannelId>, error: Error) -> Self {
        Self::new(channel_id, ChannelResult::Unknown(error))
    }
}

/// One outcome per channel of a create: a partial failure is reported channel by channel.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct CreateOutcome {
    /// The outcomes, in the order of [`NewPost::channel_ids`].
    pub channels: Vec<ChannelOutcome>,
}

impl CreateOutcome {
    /// Outcomes in channel order.
    pub fn new(channels: Vec<ChannelOutcome>) -> Self {
        Self { channels }
    }

    /// The posts that were created.
    pub fn posts(&self) -> impl Iterator<Item = &Post> {
        self.channels.iter().filter_map(|c| c.result.post())
    }

    /// The channels where Buffer certainly created nothing, with why.
    pub fn failures(&self) -> impl Iterator<Item = (&ChannelId, &Error)> {
        self.channels.iter().filter_map(|c| match &c.result {
            ChannelResult::Failed(error) => Some((&c.channel_id, error)),
            _ => None,
        })
    }

    /// The channels whose outcome is not known, with what went wrong: resend them only through
    /// [`reconcile`](crate::BackendExt::reconcile) or the same idempotency key, never blindly.
    pub fn unknowns(&self) -> impl Iterator<Item = (&ChannelId, &Error)> {
        self.channels.iter().filter_map(|c| match &c.result {
            ChannelResult::Unknown(error) => Some((&c.channel_id, error)),
            _ => None,
        })
    }

    /// Whether every channel got its post.
    pub fn is_complete(&self) -> bool {
        self.channels.iter().all(|c| c.result.is_created())
    }

    /// Every post if all channels succeeded, else the first failed or unknown channel's error.
    pub fn into_result(self) -> Result<Vec<Post>, Error> {
        self.channels
            .into_iter()
            .map(|c| c.result.into_result())
            .collect()
    }
}
