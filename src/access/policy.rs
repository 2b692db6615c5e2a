//! Who may do what: agents, their grants, what each operation needs, and the policy file.

use crate::backend::{Operation, Request};
use crate::model::{Channel, ChannelId, Service, When};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// A family of operations a grant covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Family {
    /// The account, its configuration, link share counts, and disconnecting the application.
    /// Not tied to a channel.
    Account,
    /// Posts: reading, creating, editing, publishing now, deleting.
    Posts,
    /// The order of a channel's queue (classic only).
    Queue,
    /// A channel's posting schedule.
    Schedules,
    /// Ideas. Not tied to a channel.
    Ideas,
}

impl Family {
    /// Families whose operations name no channel: a grant of them holds whatever its channels.
    fn is_account_wide(self) -> bool {
        matches!(self, Self::Account | Self::Ideas)
    }
}

/// How far a grant reaches; each level includes the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Level {
    /// Read only.
    Read,
    /// Read, create and edit: what can be undone.
    Write,
    /// Everything, including what cannot be undone: deleting, publishing now, disconnecting.
    Full,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Full => "full",
        })
    }
}

/// What an operation needs from an agent's grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Need {
    /// The family; `None` for channel details, which any grant on the channel lets an agent see.
    pub family: Option<Family>,
    /// The level.
    pub level: Level,
}

impl Need {
    /// What `operation` needs. Reconciling settles a write of one's own, so it needs write.
    pub fn of(operation: Operation) -> Self {
        use Operation as O;
        let (family, level) = match operation {
            O::Account | O::Configuration | O::LinkShares => (Some(Family::Account), Level::Read),
            O::Deauthorize => (Some(Family::Account), Level::Full),
            O::Channels | O::Channel => (None, Level::Read),
            O::Schedules => (Some(Family::Schedules), Level::Read),
            O::UpdateSchedules => (Some(Family::Schedules), Level::Write),
            O::Posts | O::Post | O::Interactions | O::DailyPostingLimits | O::RecentPosts => {
                (Some(Family::Posts), Level::Read)
            }
            O::CreatePost | O::CreatePosts | O::EditPost | O::Reconcile => {
                (Some(Family::Posts), Level::Write)
            }
            O::SharePost | O::DeletePost => (Some(Family::Posts), Level::Full),
            O::MovePostToTop | O::ReorderQueue | O::ShuffleQueue => {
                (Some(Family::Queue), Level::Write)
            }
            O::Ideas => (Some(Family::Ideas), Level::Read),
            O::CreateIdea => (Some(Family::Ideas), Level::Write),
        };
        Self { family, level }
    }

    /// What `request` needs: what its operation needs, except that a create or an edit that
    /// publishes at once is as irreversible as publishing now, so it needs `full` too.
    pub fn of_request(request: &Request) -> Self {
        let need = Self::of(request.operation());
        let publishes_now = match request {
            Request::CreatePost { post } => post.when == When::Now,
            Request::CreatePosts { posts } => posts.iter().any(|p| p.when == When::Now),
            Request::EditPost { edit, .. } => edit.when == Some(When::Now),
            _ => false,
        };
        match publishes_now {
            true => Self {
                level: Level::Full,
                ..need
            },
            false => need,
        }
    }

    /// Whether the operation names no channel and needs none.
    pub fn is_account_wide(&self) -> bool {
        self.family.is_some_and(Family::is_account_wide)
    }
}

/// Which channels a grant covers, as written in the policy.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChannelSelector {
    /// `*`: every channel of the account (as it was when the policy was resolved).
    All,
    /// A channel id.
    Id(ChannelId),
    /// `service:name` (`linkedin:Acme`), resolved once against the account's channels.
    Named {
        /// The network.
        service: Service,
        /// The channel's name (its handle or page name), compared without case.
        name: String,
    },
}

impl ChannelSelector {
    /// Reads `*`, `service:name`, or an id.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        if text == "*" {
            return Self::All;
        }
        match text.split_once(':') {
            Some((service, name)) if !service.is_empty() && !name.is_empty() => Self::Named {
                service: Service::parse(&service.to_ascii_lowercase()),
                name: name.trim_start_matches('@').to_owned(),
            },
            _ => Self::Id(ChannelId::new(text)),
        }
    }

    fn matches(&self, channel: &Channel) -> bool {
        match self {
            Self::All => true,
            Self::Id(id) => *id == channel.id,
            Self::Named { service, name } => {
                *service == channel.service
                    && [Some(&channel.name), channel.display_name.as_ref()]
                        .into_iter()
                        .flatten()
                        .any(|n| n.trim_start_matches('@').eq_ignore_ascii_case(name))
            }
        }
    }
}

impl fmt::Display for ChannelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("*"),
            Self::Id(id) => write!(f, "{id}"),
            Self::Named { service, name } => write!(f, "{service}:{name}"),
        }
    }
}

impl<'de> Deserialize<'de> for ChannelSelector {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(|text| Self::parse(&text))
    }
}

/// One grant: a level on some families of operations, on some channels.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// The channels (`*`, ids, `service:name`). Ignored for account-wide families.
    #[serde(default)]
    pub channels: Vec<ChannelSelector>,
    /// The families of operations.
    pub families: Vec<Family>,
    /// How far it reaches.
    pub access: Level,
    /// Whether writes under this grant wait for an approver first.
    #[serde(default)]
    pub approval: bool,
}

/// One agent as the policy file describes it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    /// The SHA-256 (hex) of the agent's own bearer key, for servers where agents authenticate
    /// (the MCP server over HTTP). The key itself is never stored.
    #[serde(default)]
    pub key_sha256: Option<String>,
    /// What the agent may do. None: nothing (deny by default).
    #[serde(default, rename = "grant")]
    pub grants: Vec<Grant>,
}

/// Agents and their grants, as read from a policy file; [`resolve`](Policy::resolve) it
/// against the account's channels before use.
///
/// ```toml
/// [agents.social-bot]
/// key_sha256 = "…"            # sha256 of the bot's own MCP key, hex
///
/// [[agents.social-bot.grant]]
/// channels = ["*"]
/// families = ["posts", "schedules"]
/// access = "read"
///
/// [[agents.social-bot.grant]]
/// channels = ["linkedin:Acme"]
/// families = ["posts"]
/// access = "write"
/// approval = true             # writes wait for a person
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The agents, by name.
    #[serde(default)]
    pub agents: BTreeMap<String, AgentSpec>,
}

impl Policy {
    /// Reads a policy from TOML; an error names the line and column of what is wrong.
    #[cfg(feature = "toml")]
    pub fn from_toml_str(text: &str) -> Result<Self> {
        toml::from_str(text)
            .map_err(|e| Error::invalid_input(format!("the access policy is invalid: {e}")))
    }

    /// Reads a policy file (see [`from_toml_str`](Self::from_toml_str)).
    #[cfg(feature = "toml")]
    pub fn from_toml_file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::invalid_input(format!(
                "could not read the access policy {}: {e}",
                path.display()
            ))
        })?;
        Self::from_toml_str(&text)
    }

    /// Resolves every `service:name` against the account's `channels`. Selectors that match
    /// no channel, or a name that matches several, are reported and grant nothing: a typo must
    /// not look like a working policy, nor an ambiguous name reach more than was meant.
    pub fn resolve(&self, channels: &[Channel]) -> (Agents, Vec<PolicyProblem>) {
        let directory = Arc::new(Directory::of(channels));
        let mut problems = Vec::new();
        let mut agents = BTreeMap::new();
        for (name, spec) in &self.agents {
            let mut grants = Vec::new();
            for (index, grant) in spec.grants.iter().enumerate() {
                let mut covered = BTreeSet::new();
                for selector in &grant.channels {
                    let matched: BTreeSet<ChannelId> = channels
                        .iter()
                        .filter(|c| selector.matches(c))
                        .map(|c| c.id.clone())
                        .collect();
                    let problem = match (selector, matched.len()) {
                        (_, 0) => Some(format!("{selector} matches no channel of this account")),
                        // Two channels answering to one name: granting both would widen the
                        // grant, guessing one could grant the wrong one.
                        (ChannelSelector::Named { .. }, n) if n > 1 => Some(format!(
                            "{selector} matches {n} channels ({}); name the one meant by its id",
                            matched
                                .iter()
                                .map(ChannelId::as_str)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                        _ => None,
                    };
                    match problem {
                        Some(message) => problems.push(PolicyProblem {
                            agent: name.clone(),
                            grant: index + 1,
                            message,
                        }),
                        None => covered.extend(matched),
                    }
                }
                let channel_bound = grant.families.iter().any(|f| !f.is_account_wide());
                if channel_bound && grant.channels.is_empty() {
                    problems.push(PolicyProblem {
                        agent: name.clone(),
                        grant: index + 1,
                        message: "names no channels, so its channel families grant nothing"
                            .to_owned(),
                    });
                }
                grants.push(ResolvedGrant {
                    families: grant.families.iter().copied().collect(),
                    level: grant.access,
                    approval: grant.approval,
                    channels: covered,
                });
            }
            let key_sha256 = spec
                .key_sha256
                .as_ref()
                .map(|hex| hex.trim().to_ascii_lowercase());
            if let Some(hex) = &key_sha256
                && (hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                problems.push(PolicyProblem {
                    agent: name.clone(),
                    grant: 0,
                    message: "key_sha256 is not 64 hex digits".to_owned(),
                });
            }
            agents.insert(
                name.clone(),
                Agent(Arc::new(AgentInner {
                    name: name.clone(),
                    key_sha256,
                    grants,
                    directory: directory.clone(),
                })),
            );
        }
        // One key, two agents: whoever holds it would be taken for the first of them.
        let mut holders: BTreeMap<&str, &str> = BTreeMap::new();
        for agent in agents.values() {
            if let Some(digest) = agent.0.key_sha256.as_deref()
                && let Some(first) = holders.insert(digest, agent.name())
            {
                problems.push(PolicyProblem {
                    agent: agent.name().to_owned(),
                    grant: 0,
                    message: format!("has the same key_sha256 as agent {first}"),
                });
            }
        }
        (Agents(agents), problems)
    }
}

/// Something in a policy that does not do what it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyProblem {
    /// The agent.
    pub agent: String,
    /// Which of its grants, from 1; 0 for the agent itself.
    pub grant: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.grant {
            0 => write!(f, "agent {}: {}", self.agent, self.message),
            n => write!(f, "agent {}, grant {n}: {}", self.agent, self.message),
        }
    }
}

/// The resolved agents of a policy.
#[derive(Clone, Debug, Default)]
pub struct Agents(BTreeMap<String, Agent>);

impl Agents {
    /// The agent called `name`.
    pub fn get(&self, name: &str) -> Result<Agent> {
        self.0.get(name).cloned().ok_or_else(|| {
            Error::invalid_input(format!("the access policy has no agent named {name:?}"))
        })
    }

    /// The agent whose bearer key is `key` (compared by its SHA-256).
    pub fn by_key(&self, key: &str) -> Option<Agent> {
        let digest = hex(&Sha256::digest(key.as_bytes()));
        self.0
            .values()
            .find(|agent| agent.0.key_sha256.as_deref() == Some(digest.as_str()))
            .cloned()
    }

    /// Every agent, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Agent> {
        self.0.values()
    }
}

/// The SHA-256 of a new agent key, as a policy file stores it.
pub fn key_digest(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One agent, its grants resolved to channel ids. Cheap to clone.
#[derive(Clone)]
pub struct Agent(Arc<AgentInner>);

struct AgentInner {
    name: String,
    key_sha256: Option<String>,
    grants: Vec<ResolvedGrant>,
    directory: Arc<Directory>,
}

impl fmt::Debug for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("name", &self.0.name)
            .field("grants", &self.0.grants.len())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
struct ResolvedGrant {
    families: BTreeSet<Family>,
    level: Level,
    approval: bool,
    /// The channels, resolved to ids: `*` is every channel the account had when the policy
    /// was resolved, never an id of another account's.
    channels: BTreeSet<ChannelId>,
}

impl ResolvedGrant {
    fn covers_channel(&self, channel: &ChannelId) -> bool {
        self.channels.contains(channel)
    }

    fn covers(&self, need: Need, channel: Option<&ChannelId>) -> bool {
        let family = match need.family {
            Some(family) => self.families.contains(&family),
            None => self.families.iter().any(|f| !f.is_account_wide()),
        };
        let place = match (need.is_account_wide(), channel) {
            (true, _) => true,
            (false, Some(channel)) => self.covers_channel(channel),
            // Asked before the channel is known: somewhere.
            (false, None) => !self.channels.is_empty(),
        };
        family && place && self.level >= need.level
    }
}

/// What the policy says about one request on one channel (or none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed.
    Allowed,
    /// Allowed once an approver says yes.
    NeedsApproval,
}

impl Agent {
    /// The agent's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Whether `need` is granted on `channel` (`None`: on some channel, or account-wide), and
    /// whether it needs approval; the refusal says why in words.
    pub(crate) fn check(
        &self,
        operation: Operation,
        need: Need,
        channel: Option<&ChannelId>,
    ) -> Result<Verdict> {
        let granting: Vec<&ResolvedGrant> = self
            .0
            .grants
            .iter()
            .filter(|g| g.covers(need, channel))
            .collect();
        if granting.is_empty() {
            return Err(Error::forbidden(
                self.name(),
                operation,
                channel.cloned(),
                self.why_not(need, channel),
            ));
        }
        // One grant without approval is enough to go ahead unasked.
        if need.level > Level::Read && granting.iter().all(|g| g.approval) {
            return Ok(Verdict::NeedsApproval);
        }
        Ok(Verdict::Allowed)
    }

    /// The most useful reason for a refusal: the level the agent has there, or that it has
    /// nothing there.
    fn why_not(&self, need: Need, channel: Option<&ChannelId>) -> String {
        let family = need
            .family
            .map_or("anything".to_owned(), |f| format!("{f:?}").to_lowercase());
        let place = match channel {
            Some(id) if !need.is_account_wide() => format!(" on {}", self.0.directory.name(id)),
            _ => String::new(),
        };
        let best = self
            .0
            .grants
            .iter()
            .filter(|g| {
                need.family.is_none_or(|f| g.families.contains(&f))
                    && (need.is_account_wide() || channel.is_none_or(|c| g.covers_channel(c)))
            })
            .map(|g| g.level)
            .max();
        match best {
            Some(Level::Read) => format!("read-only for {family}{place}"),
            Some(level) => format!(
                "{level} access for {family}{place}; this needs {}",
                need.level
            ),
            None => format!("no grant for {family}{place}"),
        }
    }

    /// Whether any grant covers `channel` at all: what decides if the agent sees it listed.
    pub(crate) fn sees(&self, channel: &ChannelId) -> bool {
        self.0
            .grants
            .iter()
            .any(|g| g.families.iter().any(|f| !f.is_account_wide()) && g.covers_channel(channel))
    }

    /// Whether the agent may ever perform `operation` somewhere: what it is shown of the
    /// backend's capabilities (and which tools an MCP client lists).
    pub fn may_ever(&self, operation: Operation) -> bool {
        let need = Need::of(operation);
        self.0.grants.iter().any(|g| g.covers(need, None))
    }

    /// The channels of the account as the policy was resolved against them.
    pub(crate) fn directory(&self) -> &Directory {
        &self.0.directory
    }
}

/// The account's channels by id, for sentences a person reads ("LinkedIn 'Acme'").
#[derive(Debug, Default)]
pub(crate) struct Directory(BTreeMap<ChannelId, (Service, String)>);

impl Directory {
    fn of(channels: &[Channel]) -> Self {
        Self(
            channels
                .iter()
                .map(|c| {
                    let name = c.display_name.clone().unwrap_or_else(|| c.name.clone());
                    (c.id.clone(), (c.service.clone(), name))
                })
                .collect(),
        )
    }

    /// `LinkedIn 'Acme'`, or the id when the channel is not in the directory.
    pub(crate) fn name(&self, id: &ChannelId) -> String {
        match self.0.get(id) {
            Some((service, name)) => format!("{} '{name}'", service.display_name()),
            None => format!("channel {id}"),
        }
    }
}
