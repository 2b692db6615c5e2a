//! The classic API's view of the store: profiles, updates and the user, with unix-second
//! times and `day` / `due_time` rendered in the profile's timezone (or UTC on `utc=true`).

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use crate::model::{Account, AssetKind, Channel, Post, PostStatus, Service};
use crate::schedule::timezone;

/// The `client_id` of updates made through the API.
const API_CLIENT_ID: &str = "5e1f00000000000000000001";

/// Renders one update.
pub(crate) fn update(
    post: &Post,
    channel: Option<&Channel>,
    now: DateTime<Utc>,
    utc: bool,
) -> Value {
    #[cfg(test)]
    crate::cost::post_rendered();
    let tz = if utc {
        Tz::UTC
    } else {
        channel.map_or(Tz::UTC, |c| timezone(&c.timezone))
    };
    let service = channel.map_or("twitter", |c| c.service.as_str());
    let mut body = Map::new();
    body.insert("_id".into(), json!(post.id));
    body.insert("id".into(), json!(post.id));
    body.insert("created_at".into(), json!(post.created_at.timestamp()));
    body.insert("updated_at".into(), json!(post.updated_at.timestamp()));
    if let Some(due) = post.due_at {
        body.insert("day".into(), json!(day(due, now, tz)));
        body.insert("due_at".into(), json!(due.timestamp()));
        body.insert(
            "due_time".into(),
            json!(due.with_timezone(&tz).format("%-I:%M %P").to_string()),
        );
    }
    body.insert("profile_id".into(), json!(post.channel_id));
    body.insert("profile_service".into(), json!(service));
    body.insert("shared_now".into(), json!(post.shared_now));
    body.insert("status".into(), json!(post.status.rest()));
    body.insert("text".into(), json!(post.text));
    body.insert("text_formatted".into(), json!(text_formatted(&post.text)));
    body.insert("type".into(), json!(update_type(post)));
    body.insert("user_id".into(), json!(post.author_id));
    body.insert("via".into(), json!(post.via));
    if post.via == "api" {
        // The OAuth application that made it: one made-up client for every API caller.
        body.insert("client_id".into(), json!(API_CLIENT_ID));
    }
    if let Some(media) = media(post) {
        body.insert("media".into(), media);
    }
    if post.status == PostStatus::Sent {
        if let Some(sent) = post.sent_at {
            body.insert("sent_at".into(), json!(sent.timestamp()));
        }
        if let Some(id) = &post.service_update_id {
            body.insert("service_update_id".into(), json!(id));
        }
        body.insert(
            "statistics".into(),
            statistics(post, channel.map(|c| c.service)),
        );
    }
    Value::Object(body)
}

/// `Today`, `Tomorrow`, or `Monday 7th November`.
fn day(at: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> String {
    let (local, today) = (
        at.with_timezone(&tz).date_naive(),
        now.with_timezone(&tz).date_naive(),
    );
    if local == today {
        return "Today".to_owned();
    }
    if today.succ_opt() == Some(local) {
        return "Tomorrow".to_owned();
    }
    let n = local.day();
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{} {n}{suffix} {}", local.format("%A"), local.format("%B"))
}

/// The text as HTML, links wrapped the way the classic API wraps them.
fn text_formatted(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let escaped = word.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            if word.starts_with("http://") || word.starts_with("https://") {
                format!("<a class=\"url\" href=\"{escaped}\" rel=\"external nofollow\" target=\"_blank\">{escaped}</a>")
            } else {
                escaped
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn update_type(post: &Post) -> &'static str {
    match post.assets.first().map(|a| a.kind) {
        Some(AssetKind::Image) => "photo",
        Some(AssetKind::Video) => "video",
        Some(AssetKind::Link) => "link",
        Some(AssetKind::Document) => "document",
        Some(AssetKind::Retweet) => "retweet",
        None if post.text.contains("http://") || post.text.contains("https://") => "link",
        None => "text",
    }
}

/// The classic `media` object: `photo` input comes back as `picture`.
fn media(post: &Post) -> Option<Value> {
    let mut media = Map::new();
    for asset in &post.assets {
        match asset.kind {
            AssetKind::Image if !media.contains_key("picture") => {
                media.insert("picture".into(), json!(asset.url));
                media.insert(
                    "thumbnail".into(),
                    json!(asset.thumbnail.clone().unwrap_or_else(|| asset.url.clone())),
                );
            }
            AssetKind::Video if !media.contains_key("video") => {
                media.insert("video".into(), json!(asset.url));
            }
            AssetKind::Link | AssetKind::Document if !media.contains_key("link") => {
                media.insert("link".into(), json!(asset.url));
                if let Some(title) = &asset.title {
                    media.insert("title".into(), json!(title));
                }
                if let Some(description) = &asset.description {
                    media.insert("description".into(), json!(description));
                }
            }
            _ => {}
        }
    }
    (!media.is_empty()).then_some(Value::Object(media))
}

/// The classic `statistics` object: the post's figures by their classic names.
fn statistics(post: &Post, service: Option<Service>) -> Value {
    post.figures(service)
        .into_iter()
        .map(|f| (f.classic.to_owned(), json!(f.value)))
        .collect::<Map<String, Value>>()
        .into()
}

/// The interactions of one kind (`event`, singular: `retweet`, `like`, …) on a sent post, as
/// many as its `statistics` count under the figure's classic name, newest first; only the
/// `skip..skip + take` window is rendered. Users, ids and times are made up from the post's
/// id, so they are the same on every call. `None` when the network has no such figure.
pub(crate) fn interactions(
    post: &Post,
    service: Service,
    event: &str,
    skip: usize,
    take: usize,
) -> Option<(u64, Vec<Value>)> {
    let figure = match event {
        "retweet" => "retweets",
        "favorite" => "favorites",
        "mention" => "mentions",
        "like" => "likes",
        "comment" => "comments",
        _ => "shares", // reshare
    };
    let total = post
        .figures(Some(service))
        .into_iter()
        .find(|f| f.classic == figure)?
        .value;
    let sent = post.sent_at.unwrap_or(post.created_at).timestamp();
    let items = (skip as u64..total)
        .take(take)
        .map(|i| {
            let seed = format!("{}:{event}:{i}", post.id)
                .bytes()
                .fold(17u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
            let id = format!("{:08x}{:016x}", sent as u32, seed);
            let avatar = format!("buffer-sim.example.invalid/avatars/{:x}.png", seed % 100_000);
            let mut user = json!({
                "username": format!("Follower {}", seed % 10_000),
                "followers": 10 + seed % 50_000,
                "avatar": format!("http://{avatar}"),
                "avatar_https": format!("https://{avatar}"),
            });
            if service == Service::Twitter {
                user["twitter_id"] = json!((1_000_000_000 + seed % 9_000_000_000).to_string());
            }
            json!({
                "_id": id,
                // Newest first: the last of `total` came 37 minutes after the one before.
                "created_at": sent + 37 * 60 * (total - i) as i64,
                "event": event,
                "id": id,
                "interaction_id": (290_000_000_000_000_000 + seed % 10_000_000_000_000_000).to_string(),
                "user": user,
            })
        })
        .collect();
    Some((total, items))
}

/// Renders one profile.
pub(crate) fn profile(channel: &Channel, posts: &[Post], account_id: &str) -> Value {
    let count = |status: PostStatus| {
        posts
            .iter()
            .filter(|p| p.channel_id == channel.id && p.status == status)
            .count()
    };
    json!({
        "_id": channel.id,
        "avatar": channel.avatar.replacen("https://", "http://", 1),
        "avatar_https": channel.avatar,
        "counts": {
            "pending": count(PostStatus::Scheduled),
            "sent": count(PostStatus::Sent),
            "drafts": count(PostStatus::Draft),
        },
        "created_at": channel.created_at.timestamp(),
        "default": channel.is_default,
        "disconnected": if channel.is_disconnected { json!(true) } else { Value::Null },
        "formatted_service": channel.service.display_name(),
        "formatted_username": if channel.service == Service::Twitter { format!("@{}", channel.name) } else { channel.name.clone() },
        "id": channel.id,
        "quick_signin": true,
        "schedules": schedules(channel),
        "service": channel.service.as_str(),
        "service_id": channel.service_id,
        "service_type": channel.channel_type,
        "service_username": channel.name,
        "statistics": { "followers": channel.followers },
        "team_members": [],
        "timezone": channel.timezone,
        "user_id": account_id,
        "utm_tracking": "enabled",
        "verb": verb(channel.service),
    })
}

fn verb(service: Service) -> &'static str {
    match service {
        Service::Twitter => "tweet",
        Service::Pinterest => "pin",
        _ => "post",
    }
}

/// Days with the same times grouped into one `{days, times}` entry, Monday first.
pub(crate) fn schedules(channel: &Channel) -> Value {
    let mut groups: Vec<(Vec<&str>, Vec<String>)> = Vec::new();
    for entry in crate::model::Day::ALL.iter().filter_map(|d| {
        channel
            .schedule
            .iter()
            .find(|e| e.day == *d && !e.paused && !e.times.is_empty())
    }) {
        match groups.iter_mut().find(|(_, times)| *times == entry.times) {
            Some((days, _)) => days.push(entry.day.as_str()),
            None => groups.push((vec![entry.day.as_str()], entry.times.clone())),
        }
    }
    Value::Array(
        groups
            .into_iter()
            .map(|(days, times)| json!({ "days": days, "times": times }))
            .collect(),
    )
}

/// Renders the user.
pub(crate) fn user(account: &Account, now: DateTime<Utc>) -> Value {
    // The referral token and the post-by-email address are made up from the id, so they stay
    // the same across calls.
    let referral_token: String = account.id.chars().rev().take(5).collect();
    json!({
        "_id": account.id,
        "activity_at": now.timestamp(),
        "created_at": account.created_at.timestamp(),
        "id": account.id,
        "plan": account.plan,
        "referral_link": format!("https://buffer-sim.example.invalid/r/{referral_token}"),
        "referral_token": referral_token,
        "secret_email": format!("buffer-{}@to.buffer-sim.example.invalid", account.id),
        "timezone": account.timezone,
    })
}

/// A network's `urls`: its profile prefix, and for Twitter its hashtag and cashtag searches.
fn urls(service: Service) -> Value {
    let base = format!("https://{}.example.invalid/", service.as_str());
    if service == Service::Twitter {
        json!({
            "user": base,
            "hashtag": format!("{base}search?q=%23"),
            "cashtag": format!("{base}search?q=%24"),
        })
    } else {
        json!({ "user": base })
    }
}

/// `/info/configuration.json`: services with their limits, and media limits.
pub(crate) fn configuration(schedule_limit: usize) -> Value {
    let mut services = Map::new();
    for service in Service::ALL {
        if service == Service::StartPage {
            continue;
        }
        let key = service.as_str();
        let icon = |size: u32| {
            format!("http://static.bufferapp.com/images/services/{key}-{size}x{size}.png")
        };
        let interactions: &[&str] = match service {
            Service::Twitter => &[
                "favorites",
                "favorite",
                "mentions",
                "mention",
                "retweets",
                "retweet",
            ],
            Service::Facebook | Service::Instagram | Service::Linkedin => {
                &["likes", "like", "comments", "comment"]
            }
            _ => &[],
        };
        services.insert(
            key.to_owned(),
            json!({
                "types": {
                    "profile": {
                        "name": service.display_name(),
                        "character_limit": service.character_limit(),
                        "schedule_limit": schedule_limit,
                        "icons": { "16": icon(16), "32": icon(32), "64": icon(64) },
                        "supported_interactions": interactions,
                    }
                },
                "urls": urls(service),
            }),
        );
    }
    json!({
        "services": services,
        "media": { "picture_size_min": 0, "picture_size_max": 5242880, "picture_filetypes": ["jpeg", "jpg", "gif", "png"] },
    })
}
