//! The GraphQL view of the store as plain JSON trees. Each object carries `__typename` where
//! the schema's type is abstract; fields the JSON lacks are filled from the schema by
//! [`super::node`], so only the facts the store knows are written here.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::model::{
    Account, AssetKind, Channel, Day, Idea, Organization, Post, PostStatus, Service,
};
use crate::store::StoreConfig;

/// ISO 8601 with milliseconds and `Z`, as Buffer writes `DateTime`.
pub(crate) fn time(at: DateTime<Utc>) -> Value {
    json!(at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn opt_time(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, time)
}

pub(crate) fn account(account: &Account, organizations: Vec<Value>) -> Value {
    json!({
        "id": account.id,
        "email": account.email,
        "avatar": format!("https://avatars.example.invalid/account/{}.png", account.id),
        "createdAt": time(account.created_at),
        "organizations": organizations,
        "timezone": account.timezone,
        "name": account.name,
        "preferences": { "timeFormat": "24h", "startOfWeek": "monday", "defaultScheduleOption": "Queue" },
        "connectedApps": [],
    })
}

pub(crate) fn organization(
    org: &Organization,
    owner: &Account,
    channels: usize,
    config: &StoreConfig,
) -> Value {
    json!({
        "id": org.id,
        "name": org.name,
        "ownerEmail": owner.email,
        "channelCount": channels,
        "members": { "totalCount": 1 },
        "shouldEnforce2FASetup": false,
        "limits": {
            "channels": 10, "generateContent": 100, "ideaGroups": 20, "ideas": 500, "members": 1,
            "postTemplates": 20, "savedReplies": 10, "scheduledPosts": config.queue_limit,
            "scheduledStoriesPerChannel": 10, "scheduledThreadsPerChannel": 10, "tags": 100,
        },
    })
}

fn channel_metadata(service: Service) -> Value {
    match service {
        Service::Instagram => {
            json!({ "__typename": "InstagramMetadata", "defaultToReminders": false })
        }
        Service::Tiktok => json!({ "__typename": "TiktokMetadata", "defaultToReminders": false }),
        Service::Youtube => json!({ "__typename": "YoutubeMetadata", "defaultToReminders": false }),
        Service::Pinterest => json!({ "__typename": "PinterestMetadata", "boards": [] }),
        Service::Mastodon => {
            json!({ "__typename": "MastodonMetadata", "maxCharacters": 500, "serverUrl": "https://mastodon.example.invalid" })
        }
        Service::Bluesky => {
            json!({ "__typename": "BlueskyMetadata", "serverUrl": "https://bsky.example.invalid" })
        }
        Service::Googlebusiness => json!({ "__typename": "GoogleBusinessMetadata" }),
        Service::Facebook => json!({ "__typename": "FacebookMetadata" }),
        Service::Twitter => json!({ "__typename": "TwitterMetadata", "subscriptionType": null }),
        Service::Linkedin => {
            json!({ "__typename": "LinkedInMetadata", "shouldShowLinkedinAnalyticsRefreshBanner": false })
        }
        Service::Threads | Service::StartPage => Value::Null,
    }
}

pub(crate) fn channel(channel: &Channel) -> Value {
    let schedule: Vec<Value> = Day::ALL
        .iter()
        .map(|day| {
            let entry = channel.schedule.iter().find(|e| e.day == *day);
            json!({
                "day": day.as_str(),
                "times": entry.map(|e| e.times.clone()).unwrap_or_default(),
                "paused": entry.is_some_and(|e| e.paused),
            })
        })
        .collect();
    json!({
        "id": channel.id,
        "name": channel.name,
        "displayName": channel.display_name,
        "service": channel.service.as_str(),
        "type": channel.channel_type,
        "serviceId": channel.service_id,
        "avatar": channel.avatar,
        "timezone": channel.timezone,
        "organizationId": channel.organization_id,
        "isDisconnected": channel.is_disconnected,
        "isLocked": channel.is_locked,
        "isQueuePaused": false,
        "isNew": false,
        "postingSchedule": schedule,
        "metadata": channel_metadata(channel.service),
        "linkShortening": { "isEnabled": false, "config": null },
        "allowedActions": ["viewChannel", "viewPublish", "manageUpdates", "readUpdates", "managePostingSchedule"],
        "scopes": [],
        "products": ["publish"],
        "descriptor": format!("{} {}", channel.service.display_name(), channel.channel_type),
        "showTrendingTopicSuggestions": false,
        "hasActiveMemberDevice": false,
        "externalLink": format!("https://{}.example.invalid/{}", channel.service.as_str(), channel.name),
        "createdAt": time(channel.created_at),
        "updatedAt": time(channel.created_at),
    })
}

fn mime(url: &str, kind: AssetKind) -> String {
    let ext = url
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match (kind, ext.as_str()) {
        (AssetKind::Image, "png") => "image/png".to_owned(),
        (AssetKind::Image, "gif") => "image/gif".to_owned(),
        (AssetKind::Image, _) => "image/jpeg".to_owned(),
        (AssetKind::Video, _) => "video/mp4".to_owned(),
        (AssetKind::Document, _) => "application/pdf".to_owned(),
        (AssetKind::Link | AssetKind::Retweet, _) => "text/html".to_owned(),
    }
}

/// Links are not assets on the read side: they become the metadata's `linkAttachment`.
fn assets(post: &Post) -> Vec<Value> {
    post.assets
        .iter()
        .enumerate()
        .filter_map(|(i, asset)| {
            let thumbnail = asset.thumbnail.clone().unwrap_or_else(|| asset.url.clone());
            let common = |typename: &str, kind: &str| {
                json!({
                    "__typename": typename, "id": format!("{}-{i}", post.id), "type": kind,
                    "mimeType": mime(&asset.url, asset.kind), "source": asset.url, "thumbnail": thumbnail,
                })
            };
            let mut value = match asset.kind {
                AssetKind::Image => common("ImageAsset", "image"),
                AssetKind::Video => common("VideoAsset", "video"),
                AssetKind::Document => common("DocumentAsset", "document"),
                AssetKind::Link | AssetKind::Retweet => return None,
            };
            let extra = match asset.kind {
                AssetKind::Image => ("image", json!({
                    "altText": asset.description.clone().unwrap_or_default(),
                    "width": 1200, "height": 800, "isAnimated": false,
                })),
                AssetKind::Video => ("video", json!({
                    "durationMs": 15000, "width": 1080, "height": 1920,
                    "isTranscodingRequired": false, "isVideoProcessing": false, "title": asset.title,
                })),
                _ => ("document", json!({
                    "numPages": 1, "thumbnails": [thumbnail], "title": asset.title,
                })),
            };
            if let Some(object) = value.as_object_mut() {
                object.insert(extra.0.to_owned(), extra.1);
            }
            Some(value)
        })
        .collect()
}

fn post_metadata(post: &Post, service: Service) -> Value {
    let typename = match service {
        Service::Instagram => "InstagramPostMetadata",
        Service::Facebook => "FacebookPostMetadata",
        Service::Linkedin => "LinkedInPostMetadata",
        Service::Twitter => "TwitterPostMetadata",
        Service::Pinterest => "PinterestPostMetadata",
        Service::Googlebusiness => "GoogleBusinessPostMetadata",
        Service::Youtube => "YoutubePostMetadata",
        Service::Mastodon => "MastodonPostMetadata",
        Service::Tiktok => "TiktokPostMetadata",
        Service::Threads => "ThreadsPostMetadata",
        Service::Bluesky => "BlueskyPostMetadata",
        Service::StartPage => return Value::Null,
    };
    let link = post.assets.iter().find(|a| a.kind == AssetKind::Link).map(|a| {
        json!({
            "url": a.url, "expandedUrl": a.url, "title": a.title.clone().unwrap_or_default(),
            "text": a.description.clone().unwrap_or_default(), "thumbnail": a.thumbnail, "thumbnails": [],
        })
    });
    let retweet = post
        .assets
        .iter()
        .find(|a| a.kind == AssetKind::Retweet)
        .map(|a| {
            json!({
                "id": a.url, "text": a.description.clone().unwrap_or_default(), "thumbnails": [],
                "url": format!("https://twitter.example.invalid/i/status/{}", a.url),
                "user": { "avatar": "", "name": "", "username": "" },
                "createdAt": time(post.created_at),
            })
        });
    json!({
        "__typename": typename,
        "type": "post",
        "annotations": [],
        "linkAttachment": link,
        "retweet": retweet,
        "shouldShareToFeed": true,
    })
}

pub(crate) fn post(post: &Post, channel: Option<&Channel>, author: Option<&Account>) -> Value {
    #[cfg(test)]
    crate::cost::post_rendered();
    let service = channel.map_or(Service::Twitter, |c| c.service);
    let external = match (&post.service_update_id, channel) {
        (Some(id), Some(c)) if post.status == PostStatus::Sent => {
            json!(format!(
                "https://{}.example.invalid/{}/posts/{id}",
                c.service.as_str(),
                c.name
            ))
        }
        _ => Value::Null,
    };
    let mut actions = vec!["viewPost", "deletePost", "duplicatePost", "copyPostLink"];
    if post.status != PostStatus::Sent {
        actions.extend(["updatePost", "publishPostNow", "updatePostSchedule"]);
    }
    if post.status == PostStatus::Scheduled && !post.custom_scheduled {
        actions.push("publishPostNext");
    }
    json!({
        "id": post.id,
        "text": post.text,
        "status": post.status.graphql(),
        "via": post.via,
        "schedulingType": post.scheduling_type,
        "shareMode": post.share_mode.as_str(),
        "sharedNow": post.shared_now,
        "isCustomScheduled": post.custom_scheduled,
        "dueAt": opt_time(post.due_at),
        "sentAt": opt_time(post.sent_at),
        "createdAt": time(post.created_at),
        "updatedAt": time(post.updated_at),
        "channelId": post.channel_id,
        "channelService": service.as_str(),
        "channel": channel.map_or(Value::Null, self::channel),
        "assets": assets(post),
        "metadata": post_metadata(post, service),
        "tags": post.tag_ids.iter().map(|id| json!({ "id": id, "name": id, "color": "#888888", "isLocked": false })).collect::<Vec<_>>(),
        "notes": [],
        "author": author.map(|a| json!({ "id": a.id, "avatar": "https://avatars.example.invalid/a.png", "email": a.email, "isDeleted": false, "name": a.name })),
        "ideaId": post.idea_id,
        "externalLink": external,
        "error": null,
        "allowedActions": actions,
        "metrics": if post.status == PostStatus::Sent { metrics(post, service) } else { Value::Null },
    })
}

/// GraphQL's normalized metrics of a sent post: the figures GraphQL has a metric for.
fn metrics(post: &Post, service: Service) -> Value {
    post.figures(Some(service))
        .into_iter()
        .filter_map(|f| {
            let kind = f.graphql?;
            Some(json!({
                "name": kind,
                "type": kind,
                "unit": "count",
                "value": f.value as f64,
                "description": format!("How many {kind} the post had"),
            }))
        })
        .collect()
}

pub(crate) fn idea(idea: &Idea) -> Value {
    json!({
        "__typename": "Idea",
        "id": idea.id,
        "organizationId": idea.organization_id,
        "groupId": idea.group_id,
        "position": null,
        "createdAt": idea.created_at.timestamp(),
        "updatedAt": idea.updated_at.timestamp(),
        "content": {
            "title": idea.title,
            "text": idea.text,
            "aiAssisted": idea.ai_assisted,
            "services": idea.services.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "tags": [],
            "media": idea.media.iter().enumerate().map(|(i, (url, kind))| json!({
                "id": format!("{}-{i}", idea.id), "url": url, "type": kind,
            })).collect::<Vec<_>>(),
        },
    })
}
