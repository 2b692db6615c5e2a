//! From the generated response types to the model.
//!
//! graphql_client generates a fragment's struct once per document that uses it, so
//! `posts::PostFields` and `create_post::PostFields` are different types with the same fields.
//! The conversions are written once, as macros, and stamped out for each document.

use super::operations::{self, account, channel_schedule, daily_posting_limits};
use crate::model::{
    Account, AccountId, Asset, AssetKind, Channel, DailyPostingLimit, Day, Idea, IdeaId, Link,
    Organization, OrganizationId, Post, PublishingError, Schedule,
};
use chrono::{DateTime, Utc};

/// `Some` unless empty: Buffer sends `""` for "none" in some non-null string fields.
fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

/// A count from the wire as `u32`; negative values (never sent) read as 0.
fn count(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

/// A Unix time in seconds, as ideas carry it.
fn unix_seconds(seconds: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(seconds, 0)
}

fn asset(
    kind: AssetKind,
    url: String,
    thumbnail: String,
    alt_text: Option<String>,
    title: Option<String>,
) -> Asset {
    Asset {
        kind,
        url,
        thumbnail: non_empty(thumbnail),
        alt_text: alt_text.and_then(non_empty),
        title,
    }
}

fn link(url: String, title: String, text: String, thumbnail: Option<String>) -> Link {
    Link {
        url,
        title: non_empty(title),
        description: non_empty(text),
        thumbnail,
    }
}

fn schedule(day: Day, times: Vec<String>, paused: bool) -> Schedule {
    Schedule { day, times, paused }
}

/// One entry per day, in week order, as the model keeps schedules. GraphQL lists all seven
/// days; a day with no times that is not paused says nothing the classic API's absent day does
/// not, so it is left out and both backends give the same schedule.
fn week(mut days: Vec<Schedule>) -> Vec<Schedule> {
    days.retain(|s| !s.times.is_empty() || s.paused);
    days.sort_by_key(|s| s.day.clone());
    days
}

macro_rules! post_from {
    ($($module:ident),+) => {$(
        impl From<operations::$module::PostFields> for Post {
            fn from(post: operations::$module::PostFields) -> Self {
                use operations::$module::{PostFieldsAssetsOn as On, PostFieldsMetadata as Metadata};
                let attachment = match post.metadata {
                    Some(Metadata::FacebookPostMetadata(m)) => m.link_attachment,
                    Some(Metadata::LinkedInPostMetadata(m)) => m.link_attachment,
                    Some(Metadata::ThreadsPostMetadata(m)) => m.link_attachment,
                    Some(Metadata::BlueskyPostMetadata(m)) => m.link_attachment,
                    _ => None,
                };
                let assets = post
                    .assets
                    .into_iter()
                    .map(|a| {
                        let (alt_text, title) = match a.on {
                            On::ImageAsset(i) => (Some(i.image.alt_text), None),
                            On::VideoAsset(v) => (None, v.video.title),
                            On::DocumentAsset(d) => (None, d.document.title),
                            On::Unknown => (None, None),
                        };
                        asset(a.type_, a.source, a.thumbnail, alt_text, title)
                    })
                    .collect();
                Post {
                    id: post.id,
                    channel_id: post.channel_id,
                    service: post.channel_service,
                    text: post.text,
                    status: post.status,
                    created_at: Some(post.created_at),
                    updated_at: Some(post.updated_at),
                    due_at: post.due_at,
                    sent_at: post.sent_at,
                    shared_now: post.shared_now,
                    assets,
                    link: attachment.map(|l| link(l.url, l.title, l.text, l.thumbnail)),
                    service_post_id: None,
                    external_link: post.external_link,
                    error: post.error.map(|e| PublishingError {
                        message: e.message,
                        support_url: e.support_url,
                    }),
                    metrics: post
                        .metrics
                        .unwrap_or_default()
                        .into_iter()
                        .map(|m| (m.name, m.value))
                        .collect(),
                }
            }
        }
    )+};
}

post_from!(post, posts, create_post, edit_post, move_post_in_queue);

macro_rules! channel_from {
    ($($module:ident),+) => {$(
        impl From<operations::$module::ChannelFields> for Channel {
            fn from(channel: operations::$module::ChannelFields) -> Self {
                Channel {
                    id: channel.id,
                    service: channel.service,
                    channel_type: channel.type_,
                    name: channel.name,
                    display_name: channel.display_name,
                    service_id: non_empty(channel.service_id),
                    avatar: non_empty(channel.avatar),
                    timezone: non_empty(channel.timezone),
                    organization_id: Some(channel.organization_id),
                    is_disconnected: channel.is_disconnected,
                    created_at: Some(channel.created_at),
                    schedules: week(
                        channel
                            .posting_schedule
                            .into_iter()
                            .map(|s| schedule(s.day, s.times, s.paused))
                            .collect(),
                    ),
                }
            }
        }
    )+};
}

channel_from!(channels, channel);

macro_rules! idea_from {
    ($($module:ident),+) => {$(
        impl From<operations::$module::IdeaFields> for Idea {
            fn from(idea: operations::$module::IdeaFields) -> Self {
                Idea {
                    id: IdeaId::new(idea.id),
                    organization_id: OrganizationId::new(idea.organization_id),
                    title: idea.content.title,
                    text: idea.content.text,
                    created_at: unix_seconds(idea.created_at),
                    updated_at: unix_seconds(idea.updated_at),
                }
            }
        }
    )+};
}

idea_from!(ideas, create_idea);

impl From<account::AccountAccount> for Account {
    fn from(account: account::AccountAccount) -> Self {
        Account {
            id: AccountId::new(account.id),
            email: non_empty(account.email),
            name: account.name,
            timezone: account.timezone,
            created_at: account.created_at,
            plan: None,
            organizations: account
                .organizations
                .into_iter()
                .map(|o| Organization {
                    id: o.id,
                    name: o.name,
                    channel_count: Some(count(o.channel_count)),
                })
                .collect(),
        }
    }
}

/// A channel's posting schedule, one entry per day in week order.
pub(super) fn schedules(channel: channel_schedule::ChannelScheduleChannel) -> Vec<Schedule> {
    week(
        channel
            .posting_schedule
            .into_iter()
            .map(|s| schedule(s.day, s.times, s.paused))
            .collect(),
    )
}

impl From<daily_posting_limits::DailyPostingLimitsDailyPostingLimits> for DailyPostingLimit {
    fn from(limit: daily_posting_limits::DailyPostingLimitsDailyPostingLimits) -> Self {
        DailyPostingLimit {
            channel_id: limit.channel_id,
            limit: limit.limit.map(count),
            scheduled: count(limit.scheduled),
            sent: count(limit.sent),
            is_at_limit: limit.is_at_limit,
        }
    }
}
