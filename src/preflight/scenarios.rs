//! Posts that break each rule of the table once, on each channel the rule applies to: what
//! `buffer-bridge compare --writes --sim` creates through both backends, so a user sees in one
//! command where the two APIs differ. Meant for a simulator or a sandbox account: they post.

use super::{NetworkRules, ProblemKind, table};
use crate::backend::BackendKind;
use crate::model::{Asset, AssetKind, Channel, Link, NewPost, When};
use chrono::{DateTime, TimeDelta, Utc};

/// One write scenario: the posts to create, each to one channel or several.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Scenario {
    /// What it tries: a rule's name, or `image_and_link`.
    pub name: String,
    /// The rule each post breaks, if the scenario is about one.
    pub rule: Option<ProblemKind>,
    /// The creates, in order.
    pub posts: Vec<NewPost>,
}

const IMAGE: &str = "https://cdn.example.com/scenario.png";
const VIDEO: &str = "https://cdn.example.com/scenario.mp4";
const LINK: &str = "https://example.com/article";

/// The scenarios for `channels`, with due times relative to `now`: first a post with an image
/// and a link preview to Twitter, Facebook and Instagram at once, then one scenario per rule
/// of the [table](super::table()), with one post per channel whose network the rule concerns.
/// Each post breaks its rule and, as far as the network allows, nothing else.
pub fn scenarios(channels: &[Channel], now: DateTime<Utc>) -> Vec<Scenario> {
    use crate::model::Service::{Facebook, Instagram, Twitter};
    let first = channels
        .iter()
        .filter(|c| [Twitter, Facebook, Instagram].contains(&c.service))
        .map(|c| c.id.clone());
    let mut all = vec![Scenario {
        name: "image_and_link".to_owned(),
        rule: None,
        posts: vec![
            NewPost::new("An image and a link preview")
                .channels(first)
                .asset(Asset::image(IMAGE))
                .link(Link::new(LINK)),
        ],
    }];
    for rule in &table().rules {
        let posts: Vec<NewPost> = channels
            .iter()
            .filter_map(|channel| {
                let network = table().network(&channel.service)?;
                let post = breaking(&rule.kind, network, now)?;
                Some(post.channel(channel.id.clone()))
            })
            .collect();
        if !posts.is_empty() {
            all.push(Scenario {
                name: rule.kind.to_string(),
                rule: Some(rule.kind.clone()),
                posts,
            });
        }
    }
    all
}

/// A post that breaks `kind` on `network`; `None` where the rule does not concern the network
/// or a create cannot break it.
fn breaking(kind: &ProblemKind, network: &NetworkRules, now: DateTime<Utc>) -> Option<NewPost> {
    let text = format!("{kind} on {}", network.service);
    let valid = || {
        let post = NewPost::new(&text);
        match network.media.as_ref().and_then(|m| m.kinds.first()) {
            Some(AssetKind::Video) => post.asset(Asset::video(VIDEO)),
            Some(_) => post.asset(Asset::image(IMAGE)),
            None => post,
        }
    };
    // The network's media (or an image) at a URL Buffer cannot fetch.
    let media_at = |url: &str| {
        let mut post = valid();
        match post.assets.first_mut() {
            Some(asset) => asset.url = url.to_owned(),
            None => post.assets.push(Asset::image(url)),
        }
        post
    };
    let on_some_backend = |has: fn(&NetworkRules, BackendKind) -> bool| {
        BackendKind::ALL.into_iter().any(|b| has(network, b))
    };
    Some(match kind {
        ProblemKind::EmptyPost if network.media.is_none() => NewPost::default(),
        ProblemKind::TooLong => {
            let mut post = valid();
            let padding = network.text_limit.saturating_sub(text.chars().count());
            post.text = Some(format!("{text} {}", "x".repeat(padding)));
            post
        }
        ProblemKind::MediaRequired if network.media.is_some() => NewPost::new(&text),
        ProblemKind::NoLinkPreview if on_some_backend(|n, b| !n.link_preview.contains(&b)) => {
            valid().link(Link::new(LINK))
        }
        ProblemKind::LinkWithMedia if !network.link_preview.is_empty() => {
            let post = valid().link(Link::new(LINK));
            match post.assets.is_empty() {
                true => post.asset(Asset::image(IMAGE)),
                false => post,
            }
        }
        ProblemKind::MetadataMissing if !network.metadata.is_empty() => valid(),
        ProblemKind::PastDueTime => valid().when(When::At(now - TimeDelta::hours(1))),
        ProblemKind::InsecureUrl => media_at("http://cdn.example.com/scenario.png"),
        ProblemKind::PrivateUrl => media_at("https://192.168.1.20/scenario.png"),
        ProblemKind::ExpiringUrl => {
            media_at("https://bucket.s3.amazonaws.com/scenario.png?X-Amz-Expires=900")
        }
        _ => return None,
    })
}
