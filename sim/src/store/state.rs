//! The records behind the store and Buffer's rules over them: who may see what, queue slots,
//! publishing when a post falls due, duplicates, queue limits, moving, reordering, shuffling.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::{NewPost, PostEdit, SimError, StoreConfig, When};
use crate::model::{
    Account, Asset, AssetKind, Channel, DaySchedule, Idea, Organization, Post, PostStatus, Service,
    ShareMode,
};
use crate::rng::SplitMix64;
use crate::schedule;

/// Every record, behind the store's lock.
pub(crate) struct State {
    pub(crate) accounts: Vec<Account>,
    pub(crate) organizations: Vec<Organization>,
    pub(crate) channels: Vec<Channel>,
    pub(crate) posts: Vec<Post>,
    pub(crate) ideas: Vec<Idea>,
    /// No scheduled post falls due before this time; `None` when a post was scheduled or moved
    /// since the last look. Spares every request a scan of the whole store for due posts.
    quiet_until: Option<DateTime<Utc>>,
    rng: SplitMix64,
    counter: u32,
}

impl State {
    pub(super) fn new(seed: u64) -> Self {
        Self {
            accounts: Vec::new(),
            organizations: Vec::new(),
            channels: Vec::new(),
            posts: Vec::new(),
            ideas: Vec::new(),
            quiet_until: None,
            rng: SplitMix64::new(seed ^ 0x5EED_0F1D),
            counter: 0,
        }
    }

    pub(super) fn random_below(&mut self, bound: usize) -> usize {
        self.rng.below(bound)
    }

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

    pub(super) fn service_update_id(&mut self) -> String {
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

    pub(super) fn owner_of_channel(&self, channel_id: &str) -> Option<String> {
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
    pub(super) fn publish_due(&mut self, now: DateTime<Utc>) {
        if self.quiet_until.is_some_and(|until| now < until) {
            return;
        }
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
        self.quiet_until = Some(
            self.posts
                .iter()
                .filter(|p| p.status == PostStatus::Scheduled)
                .filter_map(|p| p.due_at)
                .min()
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        );
    }

    /// Gives each queued post of the channel the next slot, in queue order.
    pub(crate) fn reflow(&mut self, channel_id: &str, now: DateTime<Utc>) {
        self.quiet_until = None;
        let Some(channel) = self.channels.iter().find(|c| c.id == channel_id) else {
            return;
        };
        let slots = schedule::next_slots(channel, now, channel.queue.len());
        // One pass over the store, not one search per queued post: a long queue on a large
        // store would otherwise make every create cost their product.
        let positions: HashMap<&str, usize> = channel
            .queue
            .iter()
            .enumerate()
            .map(|(position, id)| (id.as_str(), position))
            .collect();
        for post in self.posts.iter_mut() {
            if let Some(&position) = positions.get(post.id.as_str()) {
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
            && config.reject_duplicates
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
        self.quiet_until = None;
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
