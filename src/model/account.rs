//! The account and its organizations.

use super::{AccountId, ChannelId, OrganizationId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The account a token or API key belongs to (classic: the user).
#[doc(alias = "user")]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Account {
    /// The account id.
    pub id: AccountId,
    /// The login email. Only GraphQL reports it.
    pub email: Option<String>,
    /// The display name. GraphQL reports it; classic `user.json` only when its body carries a
    /// `name` (no recorded body does, though third-party docs list one), so it is read if sent.
    pub name: Option<String>,
    /// The account's IANA timezone, when set.
    pub timezone: Option<String>,
    /// When the account was created.
    pub created_at: Option<DateTime<Utc>>,
    /// The classic plan name (`free`, `premium`, …). GraphQL has no equivalent.
    pub plan: Option<String>,
    /// The organizations the account belongs to. Classic accounts have none: the classic API
    /// predates organizations.
    pub organizations: Vec<Organization>,
}

impl Account {
    /// An account with only its id set; the backends fill in what their API reports.
    pub fn new(id: impl Into<AccountId>) -> Self {
        Self {
            id: id.into(),
            email: None,
            name: None,
            timezone: None,
            created_at: None,
            plan: None,
            organizations: Vec::new(),
        }
    }
}

/// A Buffer organization: the owner of channels and ideas on the GraphQL API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Organization {
    /// The organization id.
    pub id: OrganizationId,
    /// Its name.
    pub name: String,
    /// How many channels it has connected, when reported.
    pub channel_count: Option<u32>,
}

impl Organization {
    /// An organization with an id and a name.
    pub fn new(id: impl Into<OrganizationId>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            channel_count: None,
        }
    }
}

/// How many posts a channel may still publish today (GraphQL `dailyPostingLimits`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DailyPostingLimit {
    /// The channel.
    pub channel_id: ChannelId,
    /// The daily limit; `None` means unlimited.
    pub limit: Option<u32>,
    /// Posts scheduled for the day.
    pub scheduled: u32,
    /// Posts sent during the day.
    pub sent: u32,
    /// Whether the channel has reached its limit.
    pub is_at_limit: bool,
}

impl DailyPostingLimit {
    /// A limit status for a channel.
    pub fn new(
        channel_id: impl Into<ChannelId>,
        limit: Option<u32>,
        scheduled: u32,
        sent: u32,
        is_at_limit: bool,
    ) -> Self {
        Self {
            channel_id: channel_id.into(),
            limit,
            scheduled,
            sent,
            is_at_limit,
        }
    }
}
