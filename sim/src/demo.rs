//! The seeded account every simulator starts with: one organization and, unless the builder
//! asks for an empty one, channels on five networks with queued, scheduled, draft and sent
//! posts and a couple of ideas.

use chrono::{DateTime, TimeDelta, Utc};

use crate::model::{Account, Asset, AssetKind, Channel, Day, Organization, Service};
use crate::schedule::weekly;
use crate::store::{ChannelSpec, NewPost, Store, When};

/// What the simulator seeded: the account its credentials belong to, its organization and
/// its channels (empty for an empty simulator).
#[derive(Clone, Debug)]
pub struct Demo {
    /// The account `access_token()` and `api_key()` authenticate as.
    pub account: Account,
    /// The account's organization.
    pub organization: Organization,
    /// The seeded channels, in the order listed by the classic `/profiles.json`.
    pub channels: Vec<Channel>,
}

impl Demo {
    /// The first seeded channel on `service`.
    pub fn channel(&self, service: Service) -> Option<&Channel> {
        self.channels.iter().find(|c| c.service == service)
    }
}

const WEEKDAYS: [Day; 5] = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];

/// Creates the account and organization, and with `with_content` the demo channels and posts.
pub(crate) fn seed(store: &Store, access_token: &str, api_key: &str, with_content: bool) -> Demo {
    let account = store.add_account("demo@buffer-sim.example.invalid", access_token, api_key);
    let organization = store.add_organization(&account.id, "Demo Organization");
    let mut demo = Demo {
        account,
        organization,
        channels: Vec::new(),
    };
    if !with_content {
        return demo;
    }
    let org = demo.organization.id.clone();
    let mut twitter = ChannelSpec::new(&org, Service::Twitter, "buffer_sim");
    twitter.timezone = "America/New_York".to_owned();
    twitter.schedule = weekly(&WEEKDAYS, &["09:00", "12:30", "17:45"]);
    twitter
        .schedule
        .extend(weekly(&[Day::Sat, Day::Sun], &["10:00"]));
    let mut facebook = ChannelSpec::new(&org, Service::Facebook, "Buffer Sim Page");
    facebook.timezone = "Europe/London".to_owned();
    facebook.channel_type = "page".to_owned();
    facebook.schedule = weekly(&Day::ALL, &["08:00", "13:00", "19:00"]);
    let mut instagram = ChannelSpec::new(&org, Service::Instagram, "buffer.sim");
    instagram.timezone = "Asia/Tokyo".to_owned();
    instagram.channel_type = "business".to_owned();
    instagram.schedule = weekly(&Day::ALL, &["11:00", "20:00"]);
    let mut linkedin = ChannelSpec::new(&org, Service::Linkedin, "Buffer Sim");
    linkedin.timezone = "Europe/Berlin".to_owned();
    linkedin.schedule = weekly(&WEEKDAYS, &["08:30", "16:00"]);
    let mastodon = ChannelSpec::new(&org, Service::Mastodon, "buffersim");
    for spec in [twitter, facebook, instagram, linkedin, mastodon] {
        demo.channels.push(store.add_channel(spec));
    }

    let now = store.clock().now();
    for (n, channel) in demo.channels.iter().enumerate() {
        history(store, channel, now, n);
        let service = channel.service.display_name();
        for (i, topic) in ["a product update", "a customer story", "a tip of the week"]
            .iter()
            .enumerate()
        {
            let mut post = NewPost::new(
                &channel.id,
                &format!("{service}: {topic} #{}", i + 1),
                When::Queue,
            );
            if channel.service == Service::Instagram {
                post.assets.push(image(&format!(
                    "https://images.example.invalid/demo-{i}.jpg"
                )));
            }
            // Ignoring a refusal keeps the demo usable even with tight limits configured.
            let _ = store.add_post(post);
        }
    }
    if let Some(twitter) = demo.channel(Service::Twitter) {
        let at = now + TimeDelta::days(3);
        let _ = store.add_post(NewPost::new(
            &twitter.id,
            "Custom-scheduled launch announcement",
            When::At(at),
        ));
    }
    if let Some(facebook) = demo.channel(Service::Facebook) {
        let mut draft = NewPost::new(&facebook.id, "Draft: behind the scenes photo", When::Draft);
        draft
            .assets
            .push(image("https://images.example.invalid/draft.jpg"));
        let _ = store.add_post(draft);
    }
    // The seeded posts were written before the simulator started, not at its first instant:
    // a client's write in its first minute must not find them inside its clock-skew window,
    // where one of them published since would pass for the client's own post, edited.
    store.with(|state, _, _| {
        for post in state.posts.iter_mut().filter(|p| p.created_at >= now) {
            post.created_at = now - TimeDelta::days(1);
            post.updated_at = post.updated_at.min(post.created_at);
        }
    });
    store.add_idea(
        &demo.organization.id,
        "Spring campaign",
        "Three posts about the spring release",
    );
    store.add_idea(
        &demo.organization.id,
        "FAQ thread",
        "Answer the five most asked questions",
    );
    demo.channels = demo
        .channels
        .iter()
        .filter_map(|c| store.channel(&c.id))
        .collect();
    demo
}

fn image(url: &str) -> Asset {
    Asset {
        kind: AssetKind::Image,
        url: url.to_owned(),
        thumbnail: None,
        title: None,
        description: Some("Demo image".to_owned()),
    }
}

fn history(store: &Store, channel: &Channel, now: DateTime<Utc>, n: usize) {
    for (days, text) in [
        (2, "Welcome to our page!"),
        (1, "Thanks for 1,000 followers"),
    ] {
        let at = now - TimeDelta::days(days) - TimeDelta::hours(n as i64);
        let _ = store.add_sent_post(
            &channel.id,
            &format!("{text} ({})", channel.service.display_name()),
            at,
        );
    }
}
