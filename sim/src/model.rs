//! What the store holds: accounts, organizations, channels (REST: profiles), posts (REST:
//! updates) and ideas. One set of records serves both APIs; each API renders its own view.

use chrono::{DateTime, Utc};

/// A social network Buffer publishes to. Names are GraphQL's `Service` enum values, which are
/// also the classic `service` keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Service {
    Twitter,
    Facebook,
    Instagram,
    Linkedin,
    Pinterest,
    Tiktok,
    Googlebusiness,
    Mastodon,
    Youtube,
    Threads,
    Bluesky,
    StartPage,
}

impl Service {
    /// Every service, in a stable order.
    pub const ALL: [Service; 12] = [
        Service::Twitter,
        Service::Facebook,
        Service::Instagram,
        Service::Linkedin,
        Service::Pinterest,
        Service::Tiktok,
        Service::Googlebusiness,
        Service::Mastodon,
        Service::Youtube,
        Service::Threads,
        Service::Bluesky,
        Service::StartPage,
    ];

    /// The wire name (`twitter`, `googlebusiness`, `startPage`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Twitter => "twitter",
            Service::Facebook => "facebook",
            Service::Instagram => "instagram",
            Service::Linkedin => "linkedin",
            Service::Pinterest => "pinterest",
            Service::Tiktok => "tiktok",
            Service::Googlebusiness => "googlebusiness",
            Service::Mastodon => "mastodon",
            Service::Youtube => "youtube",
            Service::Threads => "threads",
            Service::Bluesky => "bluesky",
            Service::StartPage => "startPage",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The human name (`formatted_service` in REST).
    pub fn display_name(self) -> &'static str {
        match self {
            Service::Twitter => "Twitter",
            Service::Facebook => "Facebook",
            Service::Instagram => "Instagram",
            Service::Linkedin => "LinkedIn",
            Service::Pinterest => "Pinterest",
            Service::Tiktok => "TikTok",
            Service::Googlebusiness => "Google Business Profile",
            Service::Mastodon => "Mastodon",
            Service::Youtube => "YouTube",
            Service::Threads => "Threads",
            Service::Bluesky => "Bluesky",
            Service::StartPage => "Start Page",
        }
    }

    /// Longest text the network takes (the classic `/info/configuration` `character_limit`),
    /// from the network rules table.
    pub fn character_limit(self) -> usize {
        crate::network_rules::text_limit(self)
    }
}

/// A day of the week, as both APIs spell it (`mon` … `sun`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    /// Monday first, as Buffer lists them.
    pub const ALL: [Day; 7] = [
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Day::Mon => "mon",
            Day::Tue => "tue",
            Day::Wed => "wed",
            Day::Thu => "thu",
            Day::Fri => "fri",
            Day::Sat => "sat",
            Day::Sun => "sun",
        }
    }

    /// Parses `mon` … `sun`.
    pub fn parse(name: &str) -> Option<Day> {
        Day::ALL.into_iter().find(|d| d.as_str() == name)
    }

    pub(crate) fn from_chrono(day: chrono::Weekday) -> Day {
        Day::ALL[day.num_days_from_monday() as usize]
    }
}

/// The posting times of one weekday, in the channel's timezone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaySchedule {
    /// Which day.
    pub day: Day,
    /// `"HH:MM"` times, sorted.
    pub times: Vec<String>,
    /// A paused day gives no slots.
    pub paused: bool,
}

/// A person's Buffer login, holding the credentials each API accepts.
#[derive(Clone, Debug)]
pub struct Account {
    /// 24-hex id.
    pub id: String,
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// IANA timezone.
    pub timezone: String,
    /// Classic plan name (`free`, `premium`, …).
    pub plan: String,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
    /// The classic REST OAuth token.
    pub access_token: String,
    /// The GraphQL personal API key.
    pub api_key: String,
    /// Set by `POST /user/deauthorize.json`: the access token stops working.
    pub access_revoked: bool,
}

/// A Buffer organization, which owns channels and ideas.
#[derive(Clone, Debug)]
pub struct Organization {
    /// 24-hex id.
    pub id: String,
    /// The owning account.
    pub account_id: String,
    /// Display name.
    pub name: String,
}

/// A connected social account (REST: profile). Its id is the same in both APIs.
#[derive(Clone, Debug)]
pub struct Channel {
    /// 24-hex id.
    pub id: String,
    /// The organization it belongs to.
    pub organization_id: String,
    /// The network.
    pub service: Service,
    /// `profile`, `page`, `business`, `group`, `account` or `channel`.
    pub channel_type: String,
    /// The handle (`formatted_username` without the `@`).
    pub name: String,
    /// A human name, when the network has one.
    pub display_name: Option<String>,
    /// The network's own id for the account.
    pub service_id: String,
    /// Avatar URL.
    pub avatar: String,
    /// IANA timezone the schedule is written in.
    pub timezone: String,
    /// Posting times, one entry per weekday that has any.
    pub schedule: Vec<DaySchedule>,
    /// The default profile in the classic API.
    pub is_default: bool,
    /// A locked channel is over the plan's limit.
    pub is_locked: bool,
    /// The network connection needs repair.
    pub is_disconnected: bool,
    /// Follower count shown in REST `statistics`.
    pub followers: u64,
    /// Ids of the queued (not custom-scheduled) posts, in publishing order.
    pub queue: Vec<String>,
    /// When the channel was connected.
    pub created_at: DateTime<Utc>,
}

/// Where a post stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum PostStatus {
    Draft,
    NeedsApproval,
    Scheduled,
    Sending,
    Sent,
    Error,
}

impl PostStatus {
    /// GraphQL's `PostStatus` value.
    pub fn graphql(self) -> &'static str {
        match self {
            PostStatus::Draft => "draft",
            PostStatus::NeedsApproval => "needs_approval",
            PostStatus::Scheduled => "scheduled",
            PostStatus::Sending => "sending",
            PostStatus::Sent => "sent",
            PostStatus::Error => "error",
        }
    }

    /// The classic `status` string (`buffer` for a pending update).
    pub fn rest(self) -> &'static str {
        match self {
            PostStatus::Scheduled | PostStatus::Sending => "buffer",
            other => other.graphql(),
        }
    }

    /// Parses GraphQL's value.
    pub fn parse(name: &str) -> Option<PostStatus> {
        [
            PostStatus::Draft,
            PostStatus::NeedsApproval,
            PostStatus::Scheduled,
            PostStatus::Sending,
            PostStatus::Sent,
            PostStatus::Error,
        ]
        .into_iter()
        .find(|s| s.graphql() == name)
    }
}

/// How a post was (or is to be) scheduled: GraphQL's `ShareMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ShareMode {
    AddToQueue,
    ShareNext,
    ShareNow,
    CustomScheduled,
}

impl ShareMode {
    /// GraphQL's value.
    pub fn as_str(self) -> &'static str {
        match self {
            ShareMode::AddToQueue => "addToQueue",
            ShareMode::ShareNext => "shareNext",
            ShareMode::ShareNow => "shareNow",
            ShareMode::CustomScheduled => "customScheduled",
        }
    }

    /// Parses GraphQL's value.
    pub fn parse(name: &str) -> Option<ShareMode> {
        [
            ShareMode::AddToQueue,
            ShareMode::ShareNext,
            ShareMode::ShareNow,
            ShareMode::CustomScheduled,
        ]
        .into_iter()
        .find(|m| m.as_str() == name)
    }
}

/// The kind of an attached asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum AssetKind {
    Image,
    Video,
    Document,
    Link,
    /// A retweet of the tweet whose id is the asset's `url` (Twitter only); the comment is
    /// its `description`.
    Retweet,
}

/// One attachment. REST `media` and GraphQL `assets` both map onto a list of these.
#[derive(Clone, Debug, PartialEq)]
pub struct Asset {
    /// What it is.
    pub kind: AssetKind,
    /// Where it lives.
    pub url: String,
    /// A preview image, if given.
    pub thumbnail: Option<String>,
    /// Title (links, documents, videos).
    pub title: Option<String>,
    /// Description (links) or alt text (images).
    pub description: Option<String>,
}

/// A post to one channel (REST: update).
#[derive(Clone, Debug)]
pub struct Post {
    /// 24-hex id.
    pub id: String,
    /// The channel it goes to.
    pub channel_id: String,
    /// The account that wrote it.
    pub author_id: String,
    /// Body text.
    pub text: String,
    /// Where it stands.
    pub status: PostStatus,
    /// How it was scheduled.
    pub share_mode: ShareMode,
    /// `automatic` or `notification`.
    pub scheduling_type: String,
    /// Pinned to a time chosen by the user rather than a queue slot.
    pub custom_scheduled: bool,
    /// When it will be (or was due to be) published.
    pub due_at: Option<DateTime<Utc>>,
    /// When it was published.
    pub sent_at: Option<DateTime<Utc>>,
    /// Published at once rather than from the queue.
    pub shared_now: bool,
    /// Attachments, in order.
    pub assets: Vec<Asset>,
    /// Tag ids.
    pub tag_ids: Vec<String>,
    /// The idea it came from.
    pub idea_id: Option<String>,
    /// `api`, `buffer` or `network`.
    pub via: String,
    /// The network's id once sent.
    pub service_update_id: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One engagement figure of a sent post, under the name each API gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Figure {
    /// The key in the classic `statistics` object.
    pub(crate) classic: &'static str,
    /// The `PostMetricType` on GraphQL; `None` where GraphQL has no such metric.
    pub(crate) graphql: Option<&'static str>,
    /// The count.
    pub(crate) value: u64,
}

impl Post {
    /// Made-up but stable engagement figures of a sent post, derived from its id, so both
    /// APIs show the same counts, each under its own names: classic `statistics` (Twitter's
    /// `retweets` and `favorites`) against GraphQL's normalized `metrics` (`reposts`,
    /// `reactions`).
    pub(crate) fn figures(&self, service: Option<Service>) -> Vec<Figure> {
        let seed = self
            .id
            .bytes()
            .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        let n = |k: u64| (seed / k) % 100;
        let figure = |classic, graphql, value| Figure {
            classic,
            graphql,
            value,
        };
        let mut figures = vec![
            figure("reach", Some("reach"), 100 + n(3) * 10),
            figure("clicks", Some("clicks"), n(5)),
        ];
        match service {
            Some(Service::Twitter) | None => figures.extend([
                figure("retweets", Some("reposts"), n(7) / 4),
                // GraphQL deprecated `favorites` for `reactions`.
                figure("favorites", Some("reactions"), n(11) / 3),
                // Mentions are a classic Twitter figure with no GraphQL metric.
                figure("mentions", None, n(13) / 10),
            ]),
            Some(_) => figures.extend([
                figure("likes", Some("likes"), n(11) / 3),
                figure("comments", Some("comments"), n(13) / 10),
                figure("shares", Some("shares"), n(7) / 4),
            ]),
        }
        figures
    }
}

/// A saved idea of an organization.
#[derive(Clone, Debug)]
pub struct Idea {
    /// 24-hex id.
    pub id: String,
    /// Its organization.
    pub organization_id: String,
    /// Optional title.
    pub title: Option<String>,
    /// Optional text.
    pub text: Option<String>,
    /// Networks it is meant for.
    pub services: Vec<Service>,
    /// Media URLs with their `MediaType`.
    pub media: Vec<(String, String)>,
    /// Written with AI help.
    pub ai_assisted: bool,
    /// Group it is filed under.
    pub group_id: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}
