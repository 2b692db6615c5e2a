//! What only one of the two APIs has: interactions and configuration (classic), ideas (GraphQL).

use super::{IdeaId, InteractionId, OrganizationId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Someone's interaction with a sent post: a like, a retweet, a comment (classic only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Interaction {
    /// The interaction's id in Buffer.
    pub id: InteractionId,
    /// What happened (`favorite`, `retweet`, `like`, `comment`, …), as Buffer names it.
    pub event: String,
    /// When it happened.
    pub created_at: Option<DateTime<Utc>>,
    /// The interaction's id on the network.
    pub service_interaction_id: Option<String>,
    /// Who interacted.
    pub user: Option<InteractionUser>,
}

/// The person behind an [`Interaction`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InteractionUser {
    /// Their name or handle.
    pub username: String,
    /// Their follower count, when known.
    pub followers: Option<u64>,
    /// Their avatar URL.
    pub avatar: Option<String>,
}

impl Interaction {
    /// An interaction with its id and event name.
    pub fn new(id: impl Into<InteractionId>, event: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            event: event.into(),
            created_at: None,
            service_interaction_id: None,
            user: None,
        }
    }
}

impl InteractionUser {
    /// A user by name.
    pub fn new(username: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            followers: None,
            avatar: None,
        }
    }
}

/// Buffer's service configuration: character and schedule limits per network (classic
/// `/info/configuration`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Configuration {
    /// Per network key (`twitter`, `facebook`, …), per account type (`profile`, `page`, …).
    pub services: BTreeMap<String, BTreeMap<String, ServiceLimits>>,
    /// Limits on uploaded pictures.
    pub media: Option<MediaLimits>,
}

/// Limits of one account type of one network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct ServiceLimits {
    /// The network's name for people (`Facebook Page`).
    pub name: String,
    /// The longest text allowed.
    pub character_limit: Option<u32>,
    /// The most posting times a schedule may have.
    pub schedule_limit: Option<u32>,
    /// The interaction events the network reports.
    pub supported_interactions: Vec<String>,
}

/// Limits on pictures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct MediaLimits {
    /// The smallest picture in bytes.
    pub picture_size_min: Option<u64>,
    /// The largest picture in bytes.
    pub picture_size_max: Option<u64>,
    /// Accepted picture file types.
    pub picture_filetypes: Vec<String>,
}

/// An idea: content saved for later, owned by an organization (GraphQL only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Idea {
    /// The idea id.
    pub id: IdeaId,
    /// The organization that owns it.
    pub organization_id: OrganizationId,
    /// Its title.
    pub title: Option<String>,
    /// Its text.
    pub text: Option<String>,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last changed.
    pub updated_at: Option<DateTime<Utc>>,
}

impl Idea {
    /// An idea with its id and organization.
    pub fn new(id: impl Into<IdeaId>, organization_id: impl Into<OrganizationId>) -> Self {
        Self {
            id: id.into(),
            organization_id: organization_id.into(),
            title: None,
            text: None,
            created_at: None,
            updated_at: None,
        }
    }
}

/// An idea to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewIdea {
    /// The organization that will own it.
    pub organization_id: OrganizationId,
    /// Its title.
    pub title: Option<String>,
    /// Its text.
    pub text: Option<String>,
}

impl NewIdea {
    /// An idea with text, for an organization.
    pub fn new(organization_id: impl Into<OrganizationId>, text: impl Into<String>) -> Self {
        Self {
            organization_id: organization_id.into(),
            title: None,
            text: Some(text.into()),
        }
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
}
