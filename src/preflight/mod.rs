//! Preflight: every problem a create or an edit would meet on a backend, channel by channel,
//! before any request.
//!
//! Buffer's two APIs do not accept the same posts. A create with an image and a link preview
//! makes a post on every channel through the classic API; through GraphQL, Twitter refuses the
//! preview, Facebook refuses a preview beside media, and Instagram asks for a post type. The
//! rules are one [table](table()) (`rules/networks.json`, with its sources), which the simulator
//! enforces too, so a preflight run predicts what each API does:
//!
//! ```
//! use buffer_bridge::BackendKind;
//! use buffer_bridge::model::{Asset, Channel, Link, NewPost, Service};
//! use buffer_bridge::preflight::{ProblemKind, Severity};
//!
//! let channels = [
//!     Channel::new("tw", Service::Twitter, "buffer"),
//!     Channel::new("fb", Service::Facebook, "Buffer"),
//! ];
//! let post = NewPost::new("Launch day!")
//!     .channels(["tw", "fb"])
//!     .asset(Asset::image("https://cdn.example.com/launch.png"))
//!     .link(Link::new("https://example.com/launch"));
//!
//! assert!(post.check(&channels, BackendKind::ClassicRest).iter().all(|p| !p.is_error()));
//! let problems = post.check(&channels, BackendKind::GraphQl);
//! let kinds: Vec<_> = problems.iter().filter(|p| p.is_error()).map(|p| &p.kind).collect();
//! assert_eq!(kinds, [&ProblemKind::NoLinkPreview, &ProblemKind::LinkWithMedia]);
//! assert_eq!(problems[0].severity, Severity::Error);
//! ```
//!
//! Checked per channel: the network's text limit, the media it requires, link previews and
//! media together, the metadata an API requires (which the model cannot carry yet, so the
//! problem says what to do instead), media URLs Buffer cannot fetch at publish time (not
//! `https`, private, signed to expire), a due time in the past, and what the backend itself
//! cannot send (classic media holds one image or video). Not checked: what depends on the
//! account's state (a full queue, a duplicate of a recent post).

mod media_url;
mod scenarios;
mod table;

pub use scenarios::{Scenario, scenarios};
pub use table::{MediaRule, MetadataRule, NetworkRules, Rule, Switch, Table, table};

use crate::backend::BackendKind;
use crate::model::{
    Asset, AssetKind, Channel, ChannelId, Link, NewPost, Patch, Post, PostEdit, PostStatus,
    Service, When,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One problem a create or an edit would meet on one channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Problem {
    /// The channel.
    pub channel_id: ChannelId,
    /// The channel's network; `None` when the channel is not among those given.
    pub service: Option<Service>,
    /// What kind of problem, to match on.
    pub kind: ProblemKind,
    /// Whether the post would be refused or would publish wrongly.
    pub severity: Severity,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl Problem {
    /// Whether the create or edit would be refused (by Buffer, or by the backend before it
    /// sends anything).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let network = self.service.as_ref().map_or("?", Service::as_str);
        write!(
            f,
            "{} on {} ({network}): {}",
            self.severity, self.channel_id, self.message
        )
    }
}

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Refused: Buffer (or the backend, before sending) will not create the post.
    Error,
    /// Accepted, but the post will publish wrongly: without its media or its preview.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// Declares [`ProblemKind`] with its snake_case name per variant (the names the rules table
/// uses) and an `Other` fallback for names this version does not know.
macro_rules! problem_kinds {
    ($( $(#[$meta:meta])* $variant:ident => $name:literal, )+) => {
        /// What kind of problem: the rules of the [table](table()), plus what a backend cannot
        /// send at all.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ProblemKind {
            $( $(#[$meta])* $variant, )+
            /// A rule this version of buffer-bridge does not know, by its name in the table.
            Other(String),
        }

        impl ProblemKind {
            /// The kind's name, as the rules table and JSON output spell it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $name, )+
                    Self::Other(name) => name,
                }
            }

            /// Reads a kind's name; a name this version does not know becomes `Other`.
            pub fn parse(name: &str) -> Self {
                match name {
                    $( $name => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }
    };
}

problem_kinds! {
    /// Neither text nor media nor a link: there is nothing to publish.
    EmptyPost => "empty_post",
    /// The text is longer than the network takes.
    TooLong => "too_long",
    /// The network requires an image or a video (Instagram, TikTok, Pinterest, YouTube).
    MediaRequired => "media_required",
    /// The network has no link preview on this API.
    NoLinkPreview => "no_link_preview",
    /// A link preview beside media, which this API refuses.
    LinkWithMedia => "link_with_media",
    /// Metadata the API requires for this network (Instagram's post type, Pinterest's board,
    /// YouTube's title, Google Business's post type), which the model cannot carry yet.
    MetadataMissing => "metadata_missing",
    /// A due time that has passed.
    PastDueTime => "past_due_time",
    /// The post was published and can no longer change.
    NotEditable => "not_editable",
    /// A media URL that is not `https`.
    InsecureUrl => "insecure_url",
    /// A media URL on a host Buffer cannot reach (localhost, a private address, `.local`).
    PrivateUrl => "private_url",
    /// A media URL signed to expire before Buffer fetches it.
    ExpiringUrl => "expiring_url",
    /// The channel is not among the channels given to the check.
    UnknownChannel => "unknown_channel",
    /// The backend cannot send this at all (classic media holds one image or video, no alt
    /// text, no documents); it refuses before any request.
    Unsupported => "unsupported",
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ProblemKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProblemKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::parse(&name))
    }
}

impl NewPost {
    /// Every problem this create would meet on `backend`, channel by channel, before any
    /// request; see [`preflight`](crate::preflight). `channels` are the account's channels
    /// (`backend.channels()`), to know each one's network.
    pub fn check(&self, channels: &[Channel], backend: BackendKind) -> Vec<Problem> {
        check_new_post(self, channels, backend, Utc::now())
    }
}

impl PostEdit {
    /// Every problem this edit of `post` (on `channel`) would meet on `backend`, before any
    /// request; see [`preflight`](crate::preflight).
    pub fn check(&self, post: &Post, channel: &Channel, backend: BackendKind) -> Vec<Problem> {
        check_edit(self, post, channel, backend, Utc::now())
    }
}

/// [`NewPost::check`] at a given time (the due-time rule compares with `now`).
pub fn check_new_post(
    post: &NewPost,
    channels: &[Channel],
    backend: BackendKind,
    now: DateTime<Utc>,
) -> Vec<Problem> {
    let draft = Draft {
        text: post.text.as_deref().unwrap_or_default(),
        assets: &post.assets,
        link: post.link.as_ref(),
        when: Some(&post.when),
        new_media: &post.assets,
        new_link: post.link.as_ref(),
        creating: true,
    };
    let unsendable = unsendable_create(post, backend);
    let mut problems = Vec::new();
    for id in &post.channel_ids {
        let Some(channel) = channels.iter().find(|c| &c.id == id) else {
            problems.push(Problem {
                channel_id: id.clone(),
                service: None,
                kind: ProblemKind::UnknownChannel,
                severity: Severity::Error,
                message: format!(
                    "channel {id} is not among the channels given; pass the account's channels \
                     (backend.channels()) to check it"
                ),
            });
            continue;
        };
        let mut found = Found::new(channel, backend);
        draft.check(&mut found, now);
        if let Some(message) = &unsendable {
            found.always(ProblemKind::Unsupported, message.clone());
        }
        problems.extend(found.problems);
    }
    problems
}

/// [`PostEdit::check`] at a given time (the due-time rule compares with `now`).
pub fn check_edit(
    edit: &PostEdit,
    post: &Post,
    channel: &Channel,
    backend: BackendKind,
    now: DateTime<Utc>,
) -> Vec<Problem> {
    let mut found = Found::new(channel, backend);
    if matches!(post.status, PostStatus::Sent | PostStatus::Sending) {
        found.rule(
            ProblemKind::NotEditable,
            format!(
                "post {} was published and can no longer change; create a new post instead",
                post.id
            ),
        );
    }
    let text = match &edit.text {
        Patch::Keep => post.text.as_str(),
        Patch::Clear => "",
        Patch::Set(text) => text,
    };
    let assets = match &edit.assets {
        Patch::Keep => post.assets.as_slice(),
        Patch::Clear => &[],
        Patch::Set(assets) => assets,
    };
    let link = match &edit.link {
        Patch::Keep => post.link.as_ref(),
        Patch::Clear => None,
        Patch::Set(link) => Some(link),
    };
    let draft = Draft {
        text,
        assets,
        link,
        when: edit.when.as_ref(),
        new_media: match &edit.assets {
            Patch::Set(assets) => assets,
            Patch::Keep | Patch::Clear => &[],
        },
        new_link: match &edit.link {
            Patch::Set(link) => Some(link),
            Patch::Keep | Patch::Clear => None,
        },
        creating: false,
    };
    draft.check(&mut found, now);
    if let Some(message) = unsendable_edit(edit, backend) {
        found.always(ProblemKind::Unsupported, message);
    }
    found.problems
}

/// What a backend refuses to send for this create, before any request: its encoder's answer.
fn unsendable_create(post: &NewPost, backend: BackendKind) -> Option<String> {
    let sent = match backend {
        BackendKind::ClassicRest => crate::rest::create_form(post).map(drop),
        BackendKind::GraphQl => crate::graphql::asset_inputs(&post.assets).map(drop),
    };
    sent.err().map(|error| error.message())
}

/// What a backend refuses to send for this edit, before any request.
fn unsendable_edit(edit: &PostEdit, backend: BackendKind) -> Option<String> {
    let sent = match backend {
        BackendKind::ClassicRest => crate::rest::edit_changes(edit).map(drop),
        BackendKind::GraphQl => match &edit.assets {
            Patch::Set(assets) => crate::graphql::asset_inputs(assets).map(drop),
            Patch::Keep | Patch::Clear => Ok(()),
        },
    };
    sent.err().map(|error| error.message())
}

/// The content a create or an edit would leave on one channel.
struct Draft<'a> {
    text: &'a str,
    assets: &'a [Asset],
    link: Option<&'a Link>,
    /// The publishing time asked for, if any.
    when: Option<&'a When>,
    /// The media and link this request sends (an edit's kept media were checked before).
    new_media: &'a [Asset],
    new_link: Option<&'a Link>,
    /// Creates must carry the metadata an API requires; edits need not.
    creating: bool,
}

impl Draft<'_> {
    fn check(&self, found: &mut Found<'_>, now: DateTime<Utc>) {
        if self.text.trim().is_empty() && self.assets.is_empty() && self.link.is_none() {
            found.rule(
                ProblemKind::EmptyPost,
                "the post has no text, media or link; give it text".to_owned(),
            );
        }
        if let Some(network) = found.network {
            self.check_network(network, found);
        }
        if let Some(When::At(at)) = self.when
            && *at <= now
        {
            found.rule(
                ProblemKind::PastDueTime,
                format!("the due time {at} has passed; choose a later time or When::Now"),
            );
        }
        let media_urls = self
            .new_media
            .iter()
            .flat_map(|a| std::iter::once(&a.url).chain(&a.thumbnail))
            .chain(self.new_link.and_then(|l| l.thumbnail.as_ref()));
        for url in media_urls {
            for (kind, message) in media_url::problems(url) {
                found.rule(kind, message);
            }
        }
    }

    fn check_network(&self, network: &NetworkRules, found: &mut Found<'_>) {
        let name = &network.name;
        let length = self.text.chars().count();
        if length > network.text_limit {
            let thread = if network.thread {
                " (or make it a thread in Buffer's composer; buffer-bridge does not send threads yet)"
            } else {
                ""
            };
            found.rule(
                ProblemKind::TooLong,
                format!(
                    "the text has {length} characters and {name} takes {}; shorten it{thread}",
                    network.text_limit
                ),
            );
        }
        if let Some(media) = &network.media
            && !self.assets.iter().any(|a| media.kinds.contains(&a.kind))
        {
            let kinds: Vec<&str> = media.kinds.iter().map(AssetKind::as_str).collect();
            found.rule(
                ProblemKind::MediaRequired,
                format!(
                    "{} Add one ({}) with NewPost::asset.",
                    media.message,
                    kinds.join(" or ")
                ),
            );
        }
        if let Some(link) = self.link {
            let previewed = network.link_preview.contains(&found.backend);
            if !previewed && !self.text.contains(&link.url) {
                found.rule(
                    ProblemKind::NoLinkPreview,
                    format!(
                        "{name} posts have no link preview on {}; put {} in the text, where \
                         the network previews it",
                        api_name(found.backend),
                        link.url
                    ),
                );
            }
            if previewed && !self.assets.is_empty() {
                found.rule(
                    ProblemKind::LinkWithMedia,
                    format!(
                        "{} does not take a link preview and media on one {name} post; send \
                         one or the other (the link can go in the text)",
                        api_name(found.backend)
                    ),
                );
            }
        }
        if self.creating {
            let backend = found.backend;
            for metadata in network
                .metadata
                .iter()
                .filter(|m| m.backends.contains(&backend))
            {
                let instead = match metadata.backends.contains(&backend.other()) {
                    true => "in Buffer's composer".to_owned(),
                    false => format!(
                        "through {} (until it retires) or in Buffer's composer",
                        api_name(backend.other())
                    ),
                };
                found.rule(
                    ProblemKind::MetadataMissing,
                    format!(
                        "{} asks {name} posts for {} (metadata.{}.{}), which buffer-bridge \
                         cannot send yet; create them {instead}",
                        api_name(backend),
                        metadata.what,
                        metadata.key,
                        metadata.fields.join(", "),
                    ),
                );
            }
        }
    }
}

/// How messages name an API.
fn api_name(backend: BackendKind) -> &'static str {
    match backend {
        BackendKind::ClassicRest => "the classic API",
        BackendKind::GraphQl => "GraphQL",
    }
}

/// The problems found on one channel.
struct Found<'a> {
    channel: &'a Channel,
    network: Option<&'static NetworkRules>,
    backend: BackendKind,
    problems: Vec<Problem>,
}

impl<'a> Found<'a> {
    fn new(channel: &'a Channel, backend: BackendKind) -> Self {
        Self {
            channel,
            network: table().network(&channel.service),
            backend,
            problems: Vec::new(),
        }
    }

    /// A problem of a table rule, at the rule's severity on this backend (none where the
    /// backend takes it as it is).
    fn rule(&mut self, kind: ProblemKind, message: String) {
        if let Some(severity) = table().severity(&kind, self.backend) {
            self.push(kind, severity, message);
        }
    }

    /// A refusal whatever the table says (the backend's own).
    fn always(&mut self, kind: ProblemKind, message: String) {
        self.push(kind, Severity::Error, message);
    }

    fn push(&mut self, kind: ProblemKind, severity: Severity, message: String) {
        self.problems.push(Problem {
            channel_id: self.channel.id.clone(),
            service: Some(self.channel.service.clone()),
            kind,
            severity,
            message,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BackendKind::{ClassicRest as Rest, GraphQl};

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_772_445_600, 0).expect("a time")
    }

    fn kinds(problems: &[Problem]) -> Vec<(&ProblemKind, Severity)> {
        problems.iter().map(|p| (&p.kind, p.severity)).collect()
    }

    #[test]
    fn a_link_in_the_text_needs_no_preview() {
        let channels = [Channel::new("m", Service::Mastodon, "me")];
        let url = "https://example.com/read";
        let inline = NewPost::new(format!("Read {url}"))
            .channel("m")
            .link(Link::new(url));
        for backend in BackendKind::ALL {
            assert!(check_new_post(&inline, &channels, backend, now()).is_empty());
        }
        let apart = NewPost::new("Read this").channel("m").link(Link::new(url));
        let graphql = check_new_post(&apart, &channels, GraphQl, now());
        assert_eq!(
            kinds(&graphql),
            [(&ProblemKind::NoLinkPreview, Severity::Error)]
        );
        assert!(
            graphql[0]
                .message
                .contains("put https://example.com/read in the text")
        );
        let rest = check_new_post(&apart, &channels, Rest, now());
        assert_eq!(
            kinds(&rest),
            [(&ProblemKind::NoLinkPreview, Severity::Warning)]
        );
    }

    #[test]
    fn missing_metadata_says_what_to_do_instead() {
        let channels = [Channel::new("y", Service::Youtube, "me")];
        let post = NewPost::new("A film")
            .channel("y")
            .asset(Asset::video("https://cdn.example.com/f.mp4"));
        assert!(check_new_post(&post, &channels, Rest, now()).is_empty());
        let problems = check_new_post(&post, &channels, GraphQl, now());
        assert_eq!(
            kinds(&problems),
            [(&ProblemKind::MetadataMissing, Severity::Error)]
        );
        let message = &problems[0].message;
        assert!(
            message.contains("metadata.youtube.title, categoryId"),
            "{message}"
        );
        assert!(message.contains("through the classic API"), "{message}");
    }

    #[test]
    fn too_long_counts_characters_and_offers_a_thread_where_there_is_one() {
        let channels = [
            Channel::new("b", Service::Bluesky, "me"),
            Channel::new("l", Service::Linkedin, "me"),
        ];
        let at_limit = NewPost::new("é".repeat(300)).channel("b");
        assert!(check_new_post(&at_limit, &channels, GraphQl, now()).is_empty());
        let over = NewPost::new("é".repeat(3001)).channels(["b", "l"]);
        let problems = check_new_post(&over, &channels, GraphQl, now());
        assert_eq!(problems.len(), 2);
        assert!(problems[0].message.contains("thread"), "{}", problems[0]);
        assert!(!problems[1].message.contains("thread"), "{}", problems[1]);
    }

    #[test]
    fn an_edit_of_a_sent_post_is_refused_and_kept_media_is_not_rechecked() {
        let channel = Channel::new("i", Service::Instagram, "me");
        let mut post = Post::new("p", "i", Service::Instagram, "Sent", PostStatus::Sent);
        post.assets = vec![Asset::image("http://cdn.example.com/old.png")];
        let edit = PostEdit::default().text("Changed");
        for backend in BackendKind::ALL {
            let problems = check_edit(&edit, &post, &channel, backend, now());
            assert_eq!(
                kinds(&problems),
                [(&ProblemKind::NotEditable, Severity::Error)]
            );
        }
        post.status = PostStatus::Scheduled;
        let bare = PostEdit {
            assets: Patch::Clear,
            ..PostEdit::default()
        };
        let problems = check_edit(&bare, &post, &channel, GraphQl, now());
        assert_eq!(
            kinds(&problems),
            [(&ProblemKind::MediaRequired, Severity::Error)]
        );
        let problems = check_edit(&bare, &post, &channel, Rest, now());
        assert_eq!(
            kinds(&problems),
            [
                (&ProblemKind::MediaRequired, Severity::Error),
                (&ProblemKind::Unsupported, Severity::Error)
            ]
        );
    }

    #[test]
    fn kinds_read_back_from_their_names_and_unknown_names_are_kept() {
        for name in ["too_long", "link_with_media", "unsupported"] {
            assert_eq!(ProblemKind::parse(name).as_str(), name);
        }
        let future: ProblemKind = serde_json::from_str("\"story_too_long\"").unwrap();
        assert_eq!(future, ProblemKind::Other("story_too_long".to_owned()));
        assert_eq!(
            serde_json::to_string(&future).unwrap(),
            "\"story_too_long\""
        );
    }
}
