//! The one in-memory store both APIs read and write, with Buffer's rules: queue slots,
//! publishing when a post falls due, duplicates, queue limits, move-to-top, reorder, shuffle.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::clock::SimClock;
use crate::model::{
    Account, Asset, Channel, DaySchedule, Idea, Organization, Post, PostStatus, Service, ShareMode,
};
use crate::schedule;

mod state;

pub(crate) use state::State;

/// Limits and rules the store enforces.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Scheduled posts a channel may hold (queued plus custom-scheduled).
    pub queue_limit: usize,
    /// Whether a recent duplicate is refused (classic code 1025, GraphQL `InvalidInputError`),
    /// as Buffer does. Off, a test can create the same text twice to check that the client
    /// itself never posts twice.
    pub reject_duplicates: bool,
    /// Same text on the same channel within this time of an earlier post is a duplicate.
    pub duplicate_window: Duration,
    /// Most posting times a channel's schedule may hold in a week.
    pub schedule_limit: usize,
    /// Instagram posts need an image or a video, as on Buffer.
    pub instagram_needs_media: bool,
    /// Posts a channel may publish a day (reported by `dailyPostingLimits`); `None` is unlimited.
    pub daily_limit: Option<u32>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            queue_limit: 100,
            reject_duplicates: true,
            duplicate_window: Duration::from_secs(24 * 3600),
            schedule_limit: 730,
            instagram_needs_media: true,
            daily_limit: None,
        }
    }
}

/// Why the store refused a change. Each API renders these in its own error shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    /// No channel with that id.
    ChannelNotFound,
    /// The channel belongs to another account.
    ChannelForbidden,
    /// No post with that id.
    PostNotFound,
    /// The post belongs to another account.
    PostForbidden,
    /// No organization with that id for this account.
    OrganizationNotFound,
    /// Same text on the same channel, recently.
    Duplicate,
    /// The channel's queue is full.
    QueueLimit,
    /// A time in the past.
    PastSchedule,
    /// Only queued, not custom-scheduled posts can move to the top.
    NotMovable,
    /// The post cannot change any more (for example it was sent).
    NotEditable(String),
    /// A required parameter is missing.
    Missing(String),
    /// A value is out of range.
    OutOfBounds(String),
    /// Too many posting times.
    ScheduleLimit,
    /// The input breaks a rule; the text says which.
    Invalid(String),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            SimError::ChannelNotFound => "Channel not found",
            SimError::ChannelForbidden => "You do not have access to this channel",
            SimError::PostNotFound => "Post not found",
            SimError::PostForbidden => "You do not have access to this post",
            SimError::OrganizationNotFound => "Organization not found",
            // GraphQL's own words for these are not recorded; Buffer's recorded words for them
            // are the classic API's (rest-v1.md §1.2), which buffer-bridge reads a reason from.
            SimError::Duplicate => "Update was recently posted, can't post duplicate content.",
            SimError::QueueLimit => "Queue limit reached for this channel",
            SimError::PastSchedule => "Cannot schedule updates in the past.",
            SimError::NotMovable => {
                "Only posts in the queue that are not custom scheduled can be moved"
            }
            SimError::NotEditable(why)
            | SimError::Missing(why)
            | SimError::OutOfBounds(why)
            | SimError::Invalid(why) => why,
            SimError::ScheduleLimit => "Posting schedule limit reached",
        };
        f.write_str(text)
    }
}

impl std::error::Error for SimError {}

/// When a new or edited post should go out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// The next free queue slot after the last queued post.
    Queue,
    /// The front of the queue.
    Next,
    /// Published at once.
    Now,
    /// At this time (must be in the future).
    At(DateTime<Utc>),
    /// Kept as a draft.
    Draft,
}

/// A post to create.
#[derive(Clone, Debug)]
pub struct NewPost {
    /// The channel.
    pub channel_id: String,
    /// Body text.
    pub text: String,
    /// When to publish.
    pub when: When,
    /// Attachments.
    pub assets: Vec<Asset>,
    /// `automatic` or `notification`.
    pub scheduling_type: String,
    /// `api` for posts made through an API.
    pub via: String,
    /// Tag ids.
    pub tag_ids: Vec<String>,
    /// Source idea.
    pub idea_id: Option<String>,
}

impl NewPost {
    /// A text post to `channel_id`, published `when`.
    pub fn new(channel_id: &str, text: &str, when: When) -> Self {
        Self {
            channel_id: channel_id.to_owned(),
            text: text.to_owned(),
            when,
            assets: Vec::new(),
            scheduling_type: "automatic".to_owned(),
            via: "api".to_owned(),
            tag_ids: Vec::new(),
            idea_id: None,
        }
    }
}

/// A change to a post; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub(crate) struct PostEdit {
    pub(crate) text: Option<String>,
    pub(crate) when: Option<When>,
    pub(crate) assets: Option<Vec<Asset>>,
    pub(crate) scheduling_type: Option<String>,
    pub(crate) tag_ids: Option<Vec<String>>,
}

/// A channel to add with [`Store::add_channel`].
#[derive(Clone, Debug)]
pub struct ChannelSpec {
    /// The organization that owns it.
    pub organization_id: String,
    /// The network.
    pub service: Service,
    /// The handle.
    pub name: String,
    /// IANA timezone.
    pub timezone: String,
    /// Weekly posting times.
    pub schedule: Vec<DaySchedule>,
    /// `profile`, `page`, `business`, …
    pub channel_type: String,
}

impl ChannelSpec {
    /// A profile on `service` named `name`, in UTC, posting daily at 09:00, 13:00 and 17:00.
    pub fn new(organization_id: &str, service: Service, name: &str) -> Self {
        Self {
            organization_id: organization_id.to_owned(),
            service,
            name: name.to_owned(),
            timezone: "UTC".to_owned(),
            schedule: schedule::weekly(&crate::model::Day::ALL, &["09:00", "13:00", "17:00"]),
            channel_type: "profile".to_owned(),
        }
    }
}

/// The shared store. Clones share the same data.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Mutex<State>>,
    clock: SimClock,
    config: Arc<StoreConfig>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// An empty store on `clock`, its ids and shuffles seeded by `seed`.
    pub fn new(clock: SimClock, config: StoreConfig, seed: u64) -> Self {
        Self {
            inner: Arc::new(Mutex::new(State::new(seed))),
            clock,
            config: Arc::new(config),
        }
    }

    /// The clock the store runs on.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// The rules in force.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Runs `f` on the state after publishing every post that has fallen due.
    pub(crate) fn with<R>(
        &self,
        f: impl FnOnce(&mut State, DateTime<Utc>, &StoreConfig) -> R,
    ) -> R {
        let now = self.clock.now();
        let mut state = self.lock();
        state.publish_due(now);
        f(&mut state, now, &self.config)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ---- seeding and inspection (for tests, examples and the demo) ----

    /// Adds an account with these credentials.
    pub fn add_account(&self, email: &str, access_token: &str, api_key: &str) -> Account {
        self.with(|state, now, _| {
            let account = Account {
                id: state.new_id(now),
                email: email.to_owned(),
                name: email.split('@').next().unwrap_or(email).to_owned(),
                timezone: "Europe/London".to_owned(),
                plan: "free".to_owned(),
                created_at: now,
                access_token: access_token.to_owned(),
                api_key: api_key.to_owned(),
                access_revoked: false,
            };
            state.accounts.push(account.clone());
            account
        })
    }

    /// Adds an organization owned by `account_id`.
    pub fn add_organization(&self, account_id: &str, name: &str) -> Organization {
        self.with(|state, now, _| {
            let organization = Organization {
                id: state.new_id(now),
                account_id: account_id.to_owned(),
                name: name.to_owned(),
            };
            state.organizations.push(organization.clone());
            organization
        })
    }

    /// Connects a channel.
    pub fn add_channel(&self, spec: ChannelSpec) -> Channel {
        self.with(|state, now, _| {
            let id = state.new_id(now);
            let is_default = !state
                .channels
                .iter()
                .any(|c| c.organization_id == spec.organization_id);
            let service_id = format!("{}", 100_000_000 + state.random_below(900_000_000));
            let channel = Channel {
                avatar: format!(
                    "https://avatars.example.invalid/{}/{id}.png",
                    spec.service.as_str()
                ),
                id,
                organization_id: spec.organization_id,
                service: spec.service,
                channel_type: spec.channel_type,
                display_name: Some(spec.name.clone()),
                name: spec.name,
                service_id,
                timezone: spec.timezone,
                schedule: spec.schedule,
                is_default,
                is_locked: false,
                is_disconnected: false,
                followers: 100 + state.random_below(5000) as u64,
                queue: Vec::new(),
                created_at: now,
            };
            state.channels.push(channel.clone());
            channel
        })
    }

    /// Creates a post through the same rules as the APIs, as the channel's owner.
    pub fn add_post(&self, new: NewPost) -> Result<Post, SimError> {
        self.with(|state, now, config| {
            let author = state
                .owner_of_channel(&new.channel_id)
                .ok_or(SimError::ChannelNotFound)?;
            let created = state.create_posts(&author, vec![new], now, config)?;
            created.into_iter().next().ok_or(SimError::ChannelNotFound)
        })
    }

    /// Records a post as already sent at `sent_at` (history for the demo and tests).
    pub fn add_sent_post(
        &self,
        channel_id: &str,
        text: &str,
        sent_at: DateTime<Utc>,
    ) -> Result<Post, SimError> {
        self.with(|state, now, _| {
            let author = state
                .owner_of_channel(channel_id)
                .ok_or(SimError::ChannelNotFound)?;
            let id = state.new_id(now);
            let update_id = state.service_update_id();
            let post = Post {
                id,
                channel_id: channel_id.to_owned(),
                author_id: author,
                text: text.to_owned(),
                status: PostStatus::Sent,
                share_mode: ShareMode::AddToQueue,
                scheduling_type: "automatic".to_owned(),
                custom_scheduled: false,
                due_at: Some(sent_at),
                sent_at: Some(sent_at),
                shared_now: false,
                assets: Vec::new(),
                tag_ids: Vec::new(),
                idea_id: None,
                via: "buffer".to_owned(),
                service_update_id: Some(update_id),
                created_at: sent_at - TimeDelta::hours(2),
                updated_at: sent_at,
            };
            state.posts.push(post.clone());
            Ok(post)
        })
    }

    /// Saves an idea in an organization.
    pub fn add_idea(&self, organization_id: &str, title: &str, text: &str) -> Idea {
        self.with(|state, now, _| {
            let idea = Idea {
                id: state.new_id(now),
                organization_id: organization_id.to_owned(),
                title: Some(title.to_owned()),
                text: Some(text.to_owned()),
                services: Vec::new(),
                media: Vec::new(),
                ai_assisted: false,
                group_id: None,
                created_at: now,
                updated_at: now,
            };
            state.ideas.push(idea.clone());
            idea
        })
    }

    /// Replaces a channel's posting schedule and moves its queue onto the new slots.
    pub fn set_schedule(&self, channel_id: &str, days: Vec<DaySchedule>) -> Result<(), SimError> {
        self.with(|state, now, _| {
            let channel = state
                .channel_mut(channel_id)
                .ok_or(SimError::ChannelNotFound)?;
            channel.schedule = days;
            state.reflow(channel_id, now);
            Ok(())
        })
    }

    /// Every account.
    pub fn accounts(&self) -> Vec<Account> {
        self.with(|state, _, _| state.accounts.clone())
    }

    /// Every organization.
    pub fn organizations(&self) -> Vec<Organization> {
        self.with(|state, _, _| state.organizations.clone())
    }

    /// Every channel.
    pub fn channels(&self) -> Vec<Channel> {
        self.with(|state, _, _| state.channels.clone())
    }

    /// One channel.
    pub fn channel(&self, id: &str) -> Option<Channel> {
        self.with(|state, _, _| state.channels.iter().find(|c| c.id == id).cloned())
    }

    /// Every post, in creation order.
    pub fn posts(&self) -> Vec<Post> {
        self.with(|state, _, _| state.posts.clone())
    }

    /// One post.
    pub fn post(&self, id: &str) -> Option<Post> {
        self.with(|state, _, _| state.posts.iter().find(|p| p.id == id).cloned())
    }

    /// The posts of one channel, in creation order.
    pub fn channel_posts(&self, channel_id: &str) -> Vec<Post> {
        self.with(|state, _, _| {
            state
                .posts
                .iter()
                .filter(|p| p.channel_id == channel_id)
                .cloned()
                .collect()
        })
    }

    /// The channel's queued posts in publishing order (custom-scheduled ones included, by time).
    pub fn queue(&self, channel_id: &str) -> Vec<Post> {
        self.with(|state, _, _| state.pending(channel_id))
    }

    /// How many posts on the channel carry exactly this text (any status): a test's check that
    /// a retry did not post twice.
    pub fn count_with_text(&self, channel_id: &str, text: &str) -> usize {
        self.with(|state, _, _| {
            state
                .posts
                .iter()
                .filter(|p| p.channel_id == channel_id && p.text == text)
                .count()
        })
    }

    /// Ideas, in creation order.
    pub fn ideas(&self) -> Vec<Idea> {
        self.with(|state, _, _| state.ideas.clone())
    }
}
