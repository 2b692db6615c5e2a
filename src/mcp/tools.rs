//! The tools: one per operation, thin over [`BackendExt`], answering JSON.

use crate::backend::{Backend, BackendExt, Operation};
use crate::model::{
    Asset, ChannelId, Link, NewIdea, NewPost, OrganizationId, PageRequest, PageToken, PostEdit,
    PostId, PostList, PostQuery, When,
};
use crate::{Error, Result};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig};
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use rmcp::{ServerHandler, tool, tool_handler, tool_router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which operation each tool runs: what decides whether a client is shown it.
const TOOLS: &[(&str, Operation)] = &[
    ("get_account", Operation::Account),
    ("list_channels", Operation::Channels),
    ("get_channel", Operation::Channel),
    ("list_posts", Operation::Posts),
    ("get_post", Operation::Post),
    ("create_post", Operation::CreatePost),
    ("edit_post", Operation::EditPost),
    ("delete_post", Operation::DeletePost),
    ("list_ideas", Operation::Ideas),
    ("create_idea", Operation::CreateIdea),
    ("get_posting_limits", Operation::DailyPostingLimits),
    ("move_post_to_top", Operation::MovePostToTop),
    ("reorder_queue", Operation::ReorderQueue),
    ("get_schedules", Operation::Schedules),
    ("list_interactions", Operation::Interactions),
];

/// The MCP tools over one backend: for an agent, its [`Access`](crate::access::Access) layer.
///
/// Clients are shown only the tools the backend may ever run. A call to one it was not shown
/// still goes to the backend, which refuses it (for an agent: denied and audited like any
/// other call), so no call escapes the record.
#[derive(Clone)]
pub struct BufferTools {
    backend: Arc<dyn Backend>,
    tool_router: ToolRouter<Self>,
    shown: Vec<&'static str>,
}

impl std::fmt::Debug for BufferTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufferTools")
            .field("backend", &self.backend.describe())
            .finish_non_exhaustive()
    }
}

/// A channel, by its id.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ChannelArgs {
    /// The channel's id (from `list_channels`).
    pub channel_id: String,
}

/// A post, by its id.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PostArgs {
    /// The post's id.
    pub post_id: String,
}

/// Which posts to list.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListPostsArgs {
    /// The channel's id.
    pub channel_id: String,
    /// `queue` (scheduled, the default) or `sent`.
    #[serde(default)]
    pub list: Option<String>,
    /// Posts per page, 1 to 100 (default 20).
    #[serde(default)]
    pub count: Option<u32>,
    /// The `next` token of the previous page, to read the next one.
    #[serde(default)]
    pub page_token: Option<String>,
}

/// A post to create.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreatePostArgs {
    /// The channels to post to (ids from `list_channels`).
    pub channel_ids: Vec<String>,
    /// The text.
    pub text: String,
    /// `queue` (default: the next free slot), `next` (top of the queue), `now`, or an RFC 3339
    /// time with its offset (`2026-12-02T09:00:00+01:00`).
    #[serde(default)]
    pub when: Option<String>,
    /// Public URLs of images to attach.
    #[serde(default)]
    pub image_urls: Vec<String>,
    /// A link to attach.
    #[serde(default)]
    pub link: Option<String>,
    /// A key that makes repeating this call safe: the same key never posts twice. Without one,
    /// the key is derived from the content, so an identical repeated call does not post twice
    /// either.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Changes to a post.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct EditPostArgs {
    /// The post's id.
    pub post_id: String,
    /// The new text.
    #[serde(default)]
    pub text: Option<String>,
    /// When it publishes: as for `create_post`.
    #[serde(default)]
    pub when: Option<String>,
}

/// An organization's ideas.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct IdeasArgs {
    /// The organization's id (from `get_account`).
    pub organization_id: String,
    /// Ideas per page, 1 to 100 (default 20).
    #[serde(default)]
    pub count: Option<u32>,
}

/// An idea to save.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateIdeaArgs {
    /// The organization's id.
    pub organization_id: String,
    /// Its text.
    pub text: String,
    /// Its title.
    #[serde(default)]
    pub title: Option<String>,
}

/// Channels to read posting limits of.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct LimitsArgs {
    /// The channels' ids.
    pub channel_ids: Vec<String>,
}

/// A new queue order.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ReorderArgs {
    /// The channel's id.
    pub channel_id: String,
    /// Post ids in their new order, from the top of the queue.
    pub order: Vec<String>,
}

/// Interactions on a sent post.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct InteractionsArgs {
    /// The post's id.
    pub post_id: String,
    /// The kind: `retweet`, `like`, `comment`, `mention`, …
    pub event: String,
}

/// A tool's answer: the result as JSON, or the error in words (with its kind), which the
/// client shows the agent as a failed call.
type Answer = std::result::Result<String, String>;

fn answer<T: Serialize>(result: Result<T>) -> Answer {
    match result {
        Ok(value) => serde_json::to_string_pretty(&value).map_err(|e| e.to_string()),
        Err(error) => Err(format!("{:?}: {error}", error.kind()).to_lowercase()),
    }
}

fn when(text: Option<&str>) -> Result<Option<When>> {
    let Some(text) = text.map(str::trim) else {
        return Ok(None);
    };
    Ok(Some(match text {
        "queue" | "" => When::Queue,
        "next" => When::Next,
        "now" => When::Now,
        time => When::At(
            chrono::DateTime::parse_from_rfc3339(time)
                .map_err(|_| {
                    Error::invalid_input(format!(
                        "when must be queue, next, now or an RFC 3339 time with an offset, not {time:?}"
                    ))
                })?
                .to_utc(),
        ),
    }))
}

fn page_size(count: Option<u32>) -> u32 {
    count.unwrap_or(20).clamp(1, 100)
}

#[tool_router]
impl BufferTools {
    /// The tools over `backend`, without those it may never run (for an agent: what its
    /// policy refuses everywhere, or what the API lacks).
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        let capabilities = backend.capabilities();
        let shown = TOOLS
            .iter()
            .filter(|(_, operation)| capabilities.supports(*operation))
            .map(|(name, _)| *name)
            .collect();
        Self {
            backend,
            tool_router: Self::tool_router(),
            shown,
        }
    }

    /// The names of the tools a client is shown.
    pub fn tool_names(&self) -> &[&'static str] {
        &self.shown
    }

    #[tool(description = "The Buffer account: its id, plan, time zone and organizations.")]
    async fn get_account(&self) -> Answer {
        answer(self.backend.account().await)
    }

    #[tool(description = "The channels (social accounts) this agent may see.")]
    async fn list_channels(&self) -> Answer {
        answer(self.backend.channels().await)
    }

    #[tool(description = "One channel, by id.")]
    async fn get_channel(&self, Parameters(args): Parameters<ChannelArgs>) -> Answer {
        answer(self.backend.channel(&ChannelId::new(args.channel_id)).await)
    }

    #[tool(
        description = "A page of a channel's queued or sent posts; pass `next` back as \
                          page_token for the following page."
    )]
    async fn list_posts(&self, Parameters(args): Parameters<ListPostsArgs>) -> Answer {
        let list = match args.list.as_deref() {
            None | Some("queue") | Some("scheduled") => PostList::Queue,
            Some("sent") => PostList::Sent,
            Some(other) => return Err(format!("list must be queue or sent, not {other:?}")),
        };
        let size = page_size(args.count);
        let page = match args.page_token {
            Some(token) => match token.parse::<PageToken>() {
                Ok(token) => PageRequest::after(token, size),
                Err(error) => return answer::<()>(Err(error)),
            },
            None => PageRequest::first(size),
        };
        let query = PostQuery::new(ChannelId::new(args.channel_id), list).page(page);
        answer(self.backend.posts(&query).await)
    }

    #[tool(description = "One post, by id.")]
    async fn get_post(&self, Parameters(args): Parameters<PostArgs>) -> Answer {
        answer(self.backend.post(&PostId::new(args.post_id)).await)
    }

    #[tool(
        description = "Create a post on one or more channels. Safe to repeat: the same \
                          content (or the same idempotency_key) never posts twice."
    )]
    async fn create_post(&self, Parameters(args): Parameters<CreatePostArgs>) -> Answer {
        let when = match when(args.when.as_deref()) {
            Ok(when) => when.unwrap_or_default(),
            Err(error) => return answer::<()>(Err(error)),
        };
        let mut post = NewPost::new(args.text)
            .channels(args.channel_ids.into_iter().map(ChannelId::new))
            .when(when);
        for url in args.image_urls {
            post = post.asset(Asset::image(url));
        }
        if let Some(url) = args.link {
            post = post.link(Link::new(url));
        }
        if let Some(key) = args.idempotency_key {
            match crate::journal::IdempotencyKey::new(key) {
                Ok(key) => post = post.idempotency_key(key),
                Err(error) => return answer::<()>(Err(error)),
            }
        }
        answer(self.backend.create_post(&post).await)
    }

    #[tool(description = "Change a post's text or time.")]
    async fn edit_post(&self, Parameters(args): Parameters<EditPostArgs>) -> Answer {
        let mut edit = PostEdit::default();
        if let Some(text) = args.text {
            edit = edit.text(text);
        }
        match when(args.when.as_deref()) {
            Ok(Some(when)) => edit = edit.when(when),
            Ok(None) => {}
            Err(error) => return answer::<()>(Err(error)),
        }
        answer(
            self.backend
                .edit_post(&PostId::new(args.post_id), &edit)
                .await,
        )
    }

    #[tool(description = "Delete a post. It cannot be undone.")]
    async fn delete_post(&self, Parameters(args): Parameters<PostArgs>) -> Answer {
        answer(self.backend.delete_post(&PostId::new(args.post_id)).await)
    }

    #[tool(description = "A page of an organization's ideas.")]
    async fn list_ideas(&self, Parameters(args): Parameters<IdeasArgs>) -> Answer {
        let page = PageRequest::first(page_size(args.count));
        answer(
            self.backend
                .ideas(&OrganizationId::new(args.organization_id), page)
                .await,
        )
    }

    #[tool(description = "Save an idea for later posts.")]
    async fn create_idea(&self, Parameters(args): Parameters<CreateIdeaArgs>) -> Answer {
        let mut idea = NewIdea::new(OrganizationId::new(args.organization_id), args.text);
        idea.title = args.title;
        answer(self.backend.create_idea(&idea).await)
    }

    #[tool(description = "How many posts each channel may still publish today.")]
    async fn get_posting_limits(&self, Parameters(args): Parameters<LimitsArgs>) -> Answer {
        let ids: Vec<ChannelId> = args.channel_ids.into_iter().map(ChannelId::new).collect();
        answer(self.backend.daily_posting_limits(&ids).await)
    }

    #[tool(description = "Move a queued post to the top of its queue (classic API only).")]
    async fn move_post_to_top(&self, Parameters(args): Parameters<PostArgs>) -> Answer {
        answer(
            self.backend
                .move_post_to_top(&PostId::new(args.post_id))
                .await,
        )
    }

    #[tool(description = "Put a channel's queue in a new order (classic API only).")]
    async fn reorder_queue(&self, Parameters(args): Parameters<ReorderArgs>) -> Answer {
        let order: Vec<PostId> = args.order.into_iter().map(PostId::new).collect();
        answer(
            self.backend
                .reorder_queue(&ChannelId::new(args.channel_id), &order, None)
                .await,
        )
    }

    #[tool(description = "A channel's posting schedule (classic API only).")]
    async fn get_schedules(&self, Parameters(args): Parameters<ChannelArgs>) -> Answer {
        answer(
            self.backend
                .schedules(&ChannelId::new(args.channel_id))
                .await,
        )
    }

    #[tool(description = "Interactions of one kind on a sent post (classic API only).")]
    async fn list_interactions(&self, Parameters(args): Parameters<InteractionsArgs>) -> Answer {
        answer(
            self.backend
                .interactions(
                    &PostId::new(args.post_id),
                    &args.event,
                    PageRequest::first(20),
                )
                .await,
        )
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for BufferTools {
    async fn list_tools(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> std::result::Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.tool_router
                .list_all()
                .into_iter()
                .filter(|tool| self.shown.contains(&tool.name.as_ref()))
                .collect(),
        ))
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_instructions(
            "Buffer, through buffer-bridge: read channels and posts, and create, edit or \
             delete posts as your access policy allows. Refused calls say why.",
        )
    }
}
