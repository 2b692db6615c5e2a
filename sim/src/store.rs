//! The one in-memory store both APIs read and write, with Buffer's rules: queue slots,
//! publishing when a post falls due, duplicates, queue limits, move-to-top, reorder, shuffle.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::clock::SimClock;
use crate::model::{
    Account, Asset, AssetKind, Channel, DaySchedule, Idea, Organization, Post, PostStatus, Service,
    ShareMode,
};
use crate::rng::SplitMix64;
use crate::schedule;

/// Limits and rules the store enforces.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Scheduled posts a channel may hold (queued plus custom-scheduled).
    pub queue_limit: usize,
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
            SimError::Duplicate => {
                "This post is a duplicate of one recently scheduled or sent on this channel"
            }
            SimError::QueueLimit => "Queue limit reached for this channel",
            SimError::PastSchedule => "Cannot schedule a post in the past",
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

pub(crate) struct State {
    pub(crate) accounts: Vec<Account>,
    pub(crate) organizations: Vec<Organization>,
    pub(crate) channels: Vec<Channel>,
    pub(crate) posts: Vec<Post>,
    pub(crate) ideas: Vec<Idea>,
    rng: SplitMix64,
    counter: u32,
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
            inner: Arc::new(Mutex::new(State {
                accounts: Vec::new(),
                organizations: Vec::new(),
                channels: Vec::new(),
                posts: Vec::new(),
                ideas: Vec::new(),
                rng: SplitMix64::new(seed ^ 0x5EED_0F1D),
                counter: 0,
            })),
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
            let service_id = format!("{}", 100_000_000 + state.rng.below(900_000_000));
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
                followers: 100 + state.rng.below(5000) as u64,
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

impl State {
    pub(crate) fn new_id(&mut self, now: DateTime<Utc>) -> String {
        self.counter = self.counter.wrapping_add(1);
        let random = self.rng.next_u64() & 0xFF_FFFF_FFFF;
        format!(
            "{:08x}{:010x}{:06x}",
            now.timestamp().clamp(0, u32::MAX as i64) as u32,
            random,
            self.counter & 0xFF_FFFF
        )
    }

    fn service_update_id(&mut self) -> String {
        format!(
            "{}",
            1_000_000_000_000_000_000u64 + self.rng.next_u64() % 1_000_000_000_000_000_000
        )
    }

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        self.rng.shuffle(items);
    }

    pub(crate) fn account_by_token(&self, token: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.access_token == token)
    }

    pub(crate) fn account_by_api_key(&self, key: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.api_key == key)
    }

    pub(crate) fn owns_organization(&self, account_id: &str, organization_id: &str) -> bool {
        self.organizations
            .iter()
            .any(|o| o.id == organization_id && o.account_id == account_id)
    }

    fn owner_of_channel(&self, channel_id: &str) -> Option<String> {
        let channel = self.channels.iter().find(|c| c.id == channel_id)?;
        let org = self
            .organizations
            .iter()
            .find(|o| o.id == channel.organization_id)?;
        Some(org.account_id.clone())
    }

    pub(crate) fn channel_mut(&mut self, id: &str) -> Option<&mut Channel> {
        self.channels.iter_mut().find(|c| c.id == id)
    }

    /// The channel, if `account_id` may use it.
    pub(crate) fn channel_for(
        &self,
        account_id: &str,
        channel_id: &str,
    ) -> Result<&Channel, SimError> {
        let channel = self
            .channels
            .iter()
            .find(|c| c.id == channel_id)
            .ok_or(SimError::ChannelNotFound)?;
        if self.owns_organization(account_id, &channel.organization_id) {
            Ok(channel)
        } else {
            Err(SimError::ChannelForbidden)
        }
    }

    /// Channels of every organization the account owns.
    pub(crate) fn channels_of(&self, account_id: &str) -> Vec<&Channel> {
        self.channels
            .iter()
            .filter(|c| self.owns_organization(account_id, &c.organization_id))
            .collect()
    }

    fn post_index(&self, account_id: &str, post_id: &str) -> Result<usize, SimError> {
        let index = self
            .posts
            .iter()
            .position(|p| p.id == post_id)
            .ok_or(SimError::PostNotFound)?;
        let channel = &self.posts[index].channel_id;
        match self.channel_for(account_id, channel) {
            Ok(_) => Ok(index),
            Err(SimError::ChannelForbidden) => Err(SimError::PostForbidden),
            Err(_) => Err(SimError::PostNotFound),
        }
    }

    /// The post, if `account_id` may see it.
    pub(crate) fn post_for(&self, account_id: &str, post_id: &str) -> Result<&Post, SimError> {
        self.post_index(account_id, post_id).map(|i| &self.posts[i])
    }

    /// Scheduled posts of a channel by due time (queue order breaks ties).
    pub(crate) fn pending(&self, channel_id: &str) -> Vec<Post> {
        let mut pending: Vec<Post> = self
            .posts
            .iter()
            .filter(|p| {
                p.channel_id == channel_id
                    && matches!(p.status, PostStatus::Scheduled | PostStatus::Sending)
            })
            .cloned()
            .collect();
        pending.sort_by_key(|p| (p.due_at.is_none(), p.due_at, p.created_at));
        pending
    }

    /// Publishes every scheduled post whose time has come, in time order.
    fn publish_due(&mut self, now: DateTime<Utc>) {
        let mut due: Vec<(DateTime<Utc>, usize)> = self
            .posts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.status == PostStatus::Scheduled)
            .filter_map(|(i, p)| p.due_at.filter(|d| *d <= now).map(|d| (d, i)))
            .collect();
        due.sort();
        for (at, index) in due {
            let update_id = self.service_update_id();
            let post = &mut self.posts[index];
            post.status = PostStatus::Sent;
            post.sent_at = Some(at);
            post.updated_at = at;
            post.service_update_id = Some(update_id);
            let (post_id, channel_id) = (post.id.clone(), post.channel_id.clone());
            if let Some(channel) = self.channel_mut(&channel_id) {
                channel.queue.retain(|id| *id != post_id);
            }
        }
    }

    /// Gives each queued post of the channel the next slot, in queue order.
    pub(crate) fn reflow(&mut self, channel_id: &str, now: DateTime<Utc>) {
        let Some(channel) = self.channels.iter().find(|c| c.id == channel_id) else {
            return;
        };
        let slots = schedule::next_slots(channel, now, channel.queue.len());
        let queue = channel.queue.clone();
        for (position, post_id) in queue.iter().enumerate() {
            if let Some(post) = self.posts.iter_mut().find(|p| p.id == *post_id) {
                post.due_at = slots.get(position).copied();
            }
        }
    }

    fn scheduled_count(&self, channel_id: &str, except: Option<&str>) -> usize {
        self.posts
            .iter()
            .filter(|p| {
                p.channel_id == channel_id
                    && p.status == PostStatus::Scheduled
                    && Some(p.id.as_str()) != except
            })
            .count()
    }

    fn is_duplicate(
        &self,
        channel_id: &str,
        text: &str,
        except: Option<&str>,
        now: DateTime<Utc>,
        window: Duration,
    ) -> bool {
        let text = text.trim();
        if text.is_empty() {
            return false;
        }
        let since = now - TimeDelta::from_std(window).unwrap_or(TimeDelta::MAX);
        self.posts.iter().any(|p| {
            p.channel_id == channel_id
                && Some(p.id.as_str()) != except
                && p.text.trim() == text
                && match p.status {
                    PostStatus::Scheduled | PostStatus::Sending => true,
                    PostStatus::Sent => p.sent_at.is_some_and(|at| at >= since),
                    _ => false,
                }
        })
    }

    /// Checks that a post with this content and timing may exist on the channel.
    #[allow(clippy::too_many_arguments)]
    fn check_post(
        &self,
        account_id: &str,
        channel_id: &str,
        text: &str,
        assets: &[Asset],
        when: When,
        except: Option<&str>,
        now: DateTime<Utc>,
        config: &StoreConfig,
    ) -> Result<(), SimError> {
        let channel = self.channel_for(account_id, channel_id)?;
        if text.trim().is_empty() && assets.is_empty() {
            return Err(SimError::Invalid("Text is required".to_owned()));
        }
        let has_media = assets
            .iter()
            .any(|a| matches!(a.kind, AssetKind::Image | AssetKind::Video));
        if config.instagram_needs_media && channel.service == Service::Instagram && !has_media {
            return Err(SimError::Invalid(
                "Invalid post: Instagram posts require at least one image or video.".to_owned(),
            ));
        }
        if text.chars().count() > channel.service.character_limit() {
            return Err(SimError::OutOfBounds(format!(
                "Text is longer than {} characters, the limit of {}",
                channel.service.character_limit(),
                channel.service.display_name()
            )));
        }
        if let When::At(at) = when
            && at <= now
        {
            return Err(SimError::PastSchedule);
        }
        if when != When::Draft
            && self.is_duplicate(channel_id, text, except, now, config.duplicate_window)
        {
            return Err(SimError::Duplicate);
        }
        if matches!(when, When::Queue | When::Next | When::At(_))
            && self.scheduled_count(channel_id, except) >= config.queue_limit
        {
            return Err(SimError::QueueLimit);
        }
        Ok(())
    }

    /// Creates one post per entry, all or none: every entry is checked before any is made.
    pub(crate) fn create_posts(
        &mut self,
        account_id: &str,
        entries: Vec<NewPost>,
        now: DateTime<Utc>,
        config: &StoreConfig,
    ) -> Result<Vec<Post>, SimError> {
        for new in &entries {
            self.check_post(
                account_id,
                &new.channel_id,
                &new.text,
                &new.assets,
                new.when,
                None,
                now,
                config,
            )?;
        }
        let mut created = Vec::with_capacity(entries.len());
        for new in entries {
            let id = self.new_id(now);
            let post = Post {
                id: id.clone(),
                channel_id: new.channel_id.clone(),
                author_id: account_id.to_owned(),
                text: new.text,
                status: PostStatus::Draft,
                share_mode: ShareMode::AddToQueue,
                scheduling_type: new.scheduling_type,
                custom_scheduled: false,
                due_at: None,
                sent_at: None,
                shared_now: false,
                assets: new.assets,
                tag_ids: new.tag_ids,
                idea_id: new.idea_id,
                via: new.via,
                service_update_id: None,
                created_at: now,
                updated_at: now,
            };
            self.posts.push(post);
            self.schedule_post(&id, new.when, now);
            created.push(self.posts.iter().find(|p| p.id == id).cloned());
        }
        Ok(created.into_iter().flatten().collect())
    }

    /// Puts an existing post where `when` says, updating its channel's queue.
    fn schedule_post(&mut self, post_id: &str, when: When, now: DateTime<Utc>) {
        let Some(index) = self.posts.iter().position(|p| p.id == post_id) else {
            return;
        };
        let channel_id = self.posts[index].channel_id.clone();
        if let Some(channel) = self.channel_mut(&channel_id) {
            channel.queue.retain(|id| id != post_id);
        }
        let update_id = (when == When::Now).then(|| self.service_update_id());
        let post = &mut self.posts[index];
        post.updated_at = now;
        post.custom_scheduled = false;
        post.shared_now = false;
        match when {
            When::Queue | When::Next => {
                post.status = PostStatus::Scheduled;
                post.share_mode = if when == When::Next {
                    ShareMode::ShareNext
                } else {
                    ShareMode::AddToQueue
                };
                if let Some(channel) = self.channels.iter_mut().find(|c| c.id == channel_id) {
                    if when == When::Next {
                        channel.queue.insert(0, post_id.to_owned());
                    } else {
                        channel.queue.push(post_id.to_owned());
                    }
                }
            }
            When::Now => {
                post.status = PostStatus::Sent;
                post.share_mode = ShareMode::ShareNow;
                post.shared_now = true;
                post.due_at = Some(now);
                post.sent_at = Some(now);
                post.service_update_id = update_id;
            }
            When::At(at) => {
                post.status = PostStatus::Scheduled;
                post.share_mode = ShareMode::CustomScheduled;
                post.custom_scheduled = true;
                post.due_at = Some(at);
            }
            When::Draft => {
                post.status = PostStatus::Draft;
                post.due_at = None;
            }
        }
        self.reflow(&channel_id, now);
    }

    /// Applies an edit after checking it as a new post would be checked.
    pub(crate) fn edit_post(
        &mut self,
        account_id: &str,
        post_id: &str,
        edit: PostEdit,
        now: DateTime<Utc>,
        config: &StoreConfig,
    ) -> Result<Post, SimError> {
        let index = self.post_index(account_id, post_id)?;
        let current = self.posts[index].clone();
        if matches!(current.status, PostStatus::Sent | PostStatus::Sending) {
            return Err(SimError::NotEditable(
                "A sent post cannot be edited".to_owned(),
            ));
        }
        let text = edit.text.clone().unwrap_or_else(|| current.text.clone());
        let assets = edit
            .assets
            .clone()
            .unwrap_or_else(|| current.assets.clone());
        let when = edit.when.unwrap_or(match current.status {
            PostStatus::Draft | PostStatus::NeedsApproval | PostStatus::Error => When::Draft,
            _ if current.custom_scheduled => When::At(current.due_at.unwrap_or(now)),
            _ => When::Queue,
        });
        // Keeping a custom time that has meanwhile passed is not an error; choosing one is.
        let checked_when = match (edit.when, when) {
            (None, When::At(_)) => When::Queue,
            _ => when,
        };
        self.check_post(
            account_id,
            &current.channel_id,
            &text,
            &assets,
            checked_when,
            Some(post_id),
            now,
            config,
        )?;
        let post = &mut self.posts[index];
        post.text = text;
        post.assets = assets;
        if let Some(kind) = edit.scheduling_type {
            post.scheduling_type = kind;
        }
        if let Some(tags) = edit.tag_ids {
            post.tag_ids = tags;
        }
        post.updated_at = now;
        // Asking a queued post to be queued keeps its place.
        let already_queued = current.status == PostStatus::Scheduled && !current.custom_scheduled;
        if let Some(when) = edit.when
            && !(when == When::Queue && already_queued)
        {
            self.schedule_post(post_id, when, now);
        }
        Ok(self.posts[index].clone())
    }

    pub(crate) fn delete_post(
        &mut self,
        account_id: &str,
        post_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Post, SimError> {
        let index = self.post_index(account_id, post_id)?;
        let post = self.posts.remove(index);
        if let Some(channel) = self.channel_mut(&post.channel_id) {
            channel.queue.retain(|id| *id != post.id);
        }
        self.reflow(&post.channel_id, now);
        Ok(post)
    }

    /// Publishes a pending post now.
    pub(crate) fn share_now(
        &mut self,
        account_id: &str,
        post_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Post, SimError> {
        let index = self.post_index(account_id, post_id)?;
        if self.posts[index].status == PostStatus::Sent {
            return Err(SimError::NotEditable(
                "This post was already sent".to_owned(),
            ));
        }
        self.schedule_post(post_id, When::Now, now);
        Ok(self.posts[index].clone())
    }

    /// Moves a queued post to the front (`top`) or the back of its queue.
    pub(crate) fn move_in_queue(
        &mut self,
        account_id: &str,
        post_id: &str,
        top: bool,
        now: DateTime<Utc>,
    ) -> Result<Post, SimError> {
        let index = self.post_index(account_id, post_id)?;
        let post = &self.posts[index];
        if post.status != PostStatus::Scheduled || post.custom_scheduled {
            return Err(SimError::NotMovable);
        }
        let channel_id = post.channel_id.clone();
        if let Some(channel) = self.channel_mut(&channel_id) {
            channel.queue.retain(|id| id != post_id);
            if top {
                channel.queue.insert(0, post_id.to_owned());
            } else {
                channel.queue.push(post_id.to_owned());
            }
        }
        self.reflow(&channel_id, now);
        Ok(self.posts[index].clone())
    }

    /// Places the given queued posts, in this order, starting at queue position `offset`.
    pub(crate) fn reorder(
        &mut self,
        account_id: &str,
        channel_id: &str,
        order: &[String],
        offset: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<Post>, SimError> {
        self.channel_for(account_id, channel_id)?;
        let channel = self
            .channel_mut(channel_id)
            .ok_or(SimError::ChannelNotFound)?;
        if let Some(unknown) = order.iter().find(|id| !channel.queue.contains(id)) {
            let _ = unknown;
            return Err(SimError::PostNotFound);
        }
        let mut rest: Vec<String> = channel
            .queue
            .iter()
            .filter(|id| !order.contains(id))
            .cloned()
            .collect();
        let at = offset.min(rest.len());
        rest.splice(at..at, order.iter().cloned());
        channel.queue = rest;
        self.reflow(channel_id, now);
        Ok(self.pending(channel_id))
    }

    /// Shuffles the channel's queue (seeded) and returns its pending posts.
    pub(crate) fn shuffle_queue(
        &mut self,
        account_id: &str,
        channel_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Post>, SimError> {
        self.channel_for(account_id, channel_id)?;
        let mut queue = self
            .channel_mut(channel_id)
            .map(|c| c.queue.clone())
            .unwrap_or_default();
        self.shuffle(&mut queue);
        if let Some(channel) = self.channel_mut(channel_id) {
            channel.queue = queue;
        }
        self.reflow(channel_id, now);
        Ok(self.pending(channel_id))
    }

    /// Replaces the posting schedule after checking its size.
    pub(crate) fn update_schedule(
        &mut self,
        account_id: &str,
        channel_id: &str,
        days: Vec<DaySchedule>,
        now: DateTime<Utc>,
        config: &StoreConfig,
    ) -> Result<(), SimError> {
        self.channel_for(account_id, channel_id)?;
        let times: usize = days.iter().map(|d| d.times.len()).sum();
        if times > config.schedule_limit {
            return Err(SimError::ScheduleLimit);
        }
        if let Some(channel) = self.channel_mut(channel_id) {
            channel.schedule = days;
        }
        self.reflow(channel_id, now);
        Ok(())
    }

    pub(crate) fn revoke_access(&mut self, account_id: &str) {
        if let Some(account) = self.accounts.iter_mut().find(|a| a.id == account_id) {
            account.access_revoked = true;
        }
    }

    pub(crate) fn add_idea_record(&mut self, idea: Idea) -> Idea {
        self.ideas.push(idea.clone());
        idea
    }
}
