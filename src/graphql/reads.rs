//! Read operations: the account, organizations, channels, schedules, posts, ideas and daily
//! posting limits.

use super::operations::{
    Account, Channel, ChannelSchedule, Channels, DailyPostingLimits, Ideas, Organizations, Post,
    PostCursors, Posts, account, channel, channel_schedule, channels, daily_posting_limits, ideas,
    organizations, post, post_cursors, posts,
};
use super::paging::{self, Chunk, Listing};
use super::wire::lock;
use super::{ChannelRoute, GraphQl, convert};
use crate::model::{
    self, ChannelId, DailyPostingLimit, Idea, OrganizationId, Page, PageRequest, PostId, PostList,
    PostQuery, Schedule,
};
use crate::{Error, Result};
use graphql_client::GraphQLQuery;
use std::collections::HashMap;

impl GraphQl {
    /// Sends one generated operation and decodes its whole `data`.
    pub(super) async fn query<Q: GraphQLQuery>(
        &self,
        variables: Q::Variables,
    ) -> Result<Q::ResponseData> {
        let body = Q::build_query(variables);
        self.inner
            .wire
            .send(body.query, body.operation_name, &body.variables)
            .await?
            .into_data()
    }

    pub(super) async fn account(&self) -> Result<model::Account> {
        let data = self.query::<Account>(account::Variables).await?;
        let account = model::Account::from(data.account);
        if self.inner.organization_id.is_none() {
            let ids = account.organizations.iter().map(|o| o.id.clone()).collect();
            *lock(&self.inner.organizations) = Some(ids);
        }
        Ok(account)
    }

    /// The organizations to work in: the configured one, else every one of the account.
    pub(super) async fn organization_ids(&self) -> Result<Vec<OrganizationId>> {
        if let Some(id) = &self.inner.organization_id {
            return Ok(vec![id.clone()]);
        }
        if let Some(ids) = lock(&self.inner.organizations).clone() {
            return Ok(ids);
        }
        let data = self
            .query::<Organizations>(organizations::Variables)
            .await?;
        let ids: Vec<OrganizationId> = data
            .account
            .organizations
            .into_iter()
            .map(|o| o.id)
            .collect();
        *lock(&self.inner.organizations) = Some(ids.clone());
        Ok(ids)
    }

    /// Every channel of every organization worked in, one request per organization.
    pub(super) async fn channels(&self) -> Result<Vec<model::Channel>> {
        let mut all = Vec::new();
        for organization_id in self.organization_ids().await? {
            let input = channels::ChannelsInput {
                filter: None,
                organization_id,
            };
            let data = self
                .query::<Channels>(channels::Variables { input })
                .await?;
            all.extend(data.channels.into_iter().map(model::Channel::from));
        }
        let mut routes = lock(&self.inner.routes);
        for channel in &all {
            if let Some(organization_id) = &channel.organization_id {
                routes.insert(
                    channel.id.clone(),
                    ChannelRoute {
                        organization_id: organization_id.clone(),
                        service: channel.service.clone(),
                    },
                );
            }
        }
        Ok(all)
    }

    /// The routes of some channels, listing the channels again when one is not known yet.
    /// Channels that are still unknown are left out.
    pub(super) async fn routes(
        &self,
        ids: &[ChannelId],
    ) -> Result<HashMap<ChannelId, ChannelRoute>> {
        let known = |routes: &HashMap<ChannelId, ChannelRoute>| {
            ids.iter()
                .filter_map(|id| routes.get(id).map(|r| (id.clone(), r.clone())))
                .collect::<HashMap<_, _>>()
        };
        let found = known(&lock(&self.inner.routes));
        if found.len() == ids.iter().collect::<std::collections::HashSet<_>>().len() {
            return Ok(found);
        }
        self.channels().await?;
        Ok(known(&lock(&self.inner.routes)))
    }

    pub(super) async fn channel(&self, id: &ChannelId) -> Result<model::Channel> {
        let input = channel::ChannelInput { id: id.clone() };
        let data = self.query::<Channel>(channel::Variables { input }).await?;
        Ok(data.channel.into())
    }

    pub(super) async fn schedules(&self, id: &ChannelId) -> Result<Vec<Schedule>> {
        let input = channel_schedule::ChannelInput { id: id.clone() };
        let data = self
            .query::<ChannelSchedule>(channel_schedule::Variables { input })
            .await?;
        Ok(convert::schedules(data.channel))
    }

    pub(super) async fn post(&self, id: &PostId) -> Result<model::Post> {
        let input = post::PostInput { id: id.clone() };
        let data = self.query::<Post>(post::Variables { input }).await?;
        Ok(data.post.into())
    }

    pub(super) async fn posts(&self, query: &PostQuery) -> Result<Page<model::Post>> {
        query.page.validate()?;
        // A token of another listing is refused before finding the channel's organization
        // costs a request.
        if let PageRequest::After { token, .. } = &query.page {
            token.check_scope(&query.scope())?;
        }
        let organization_id = match &self.inner.organization_id {
            Some(id) => id.clone(),
            None => self
                .routes(std::slice::from_ref(&query.channel_id))
                .await?
                .remove(&query.channel_id)
                .map(|route| route.organization_id)
                .ok_or_else(|| Error::NotFound {
                    message: format!(
                        "channel {} is not among the account's channels",
                        query.channel_id
                    ),
                    legacy_code: None,
                })?,
        };
        let listing = PostListing {
            backend: self,
            query,
            organization_id,
        };
        paging::page(&listing, &query.page).await
    }

    pub(super) async fn ideas(
        &self,
        organization_id: &OrganizationId,
        page: &PageRequest,
    ) -> Result<Page<Idea>> {
        let listing = IdeaListing {
            backend: self,
            organization_id,
        };
        paging::page(&listing, page).await
    }

    pub(super) async fn daily_posting_limits(
        &self,
        channel_ids: &[ChannelId],
    ) -> Result<Vec<DailyPostingLimit>> {
        let input = daily_posting_limits::DailyPostingLimitsInput {
            channel_ids: channel_ids.to_vec(),
            date: None,
        };
        let data = self
            .query::<DailyPostingLimits>(daily_posting_limits::Variables { input })
            .await?;
        Ok(data
            .daily_posting_limits
            .into_iter()
            .map(DailyPostingLimit::from)
            .collect())
    }
}

/// `PostsInput` for a query, in the given document's generated types: Buffer's own orders,
/// the queue soonest first and sent posts newest first.
macro_rules! posts_input {
    ($module:ident, $query:expr, $organization_id:expr) => {{
        use $module::{
            DateTimeComparator, PostSortInput, PostSortableKey, PostsFiltersInput, PostsInput,
            SortDirection,
        };
        let query: &PostQuery = $query;
        let since = query.since.map(|start| DateTimeComparator {
            end: None,
            start: Some(start),
        });
        let (status, field, direction, created_at, due_at) = match query.list {
            PostList::Queue => (
                model::PostStatus::Scheduled,
                PostSortableKey::dueAt,
                SortDirection::asc,
                since,
                None,
            ),
            PostList::Sent => (
                model::PostStatus::Sent,
                PostSortableKey::createdAt,
                SortDirection::desc,
                None,
                since,
            ),
        };
        PostsInput {
            filter: Some(PostsFiltersInput {
                channel_ids: Some(vec![query.channel_id.clone()]),
                due_at,
                due_at_presence: None,
                end_date: None,
                start_date: None,
                status: Some(vec![status]),
                tag_ids: None,
                tags: None,
                created_at,
            }),
            organization_id: $organization_id,
            sort: Some(vec![PostSortInput { direction, field }]),
        }
    }};
}

/// One channel's queued or sent posts.
struct PostListing<'a> {
    backend: &'a GraphQl,
    query: &'a PostQuery,
    organization_id: OrganizationId,
}

/// A page size as GraphQL's `Int`.
fn first(size: u32) -> Option<i64> {
    Some(i64::from(size))
}

impl Listing for PostListing<'_> {
    type Item = model::Post;

    fn scope(&self) -> String {
        self.query.scope()
    }

    async fn fetch(&self, size: u32, after: Option<String>) -> Result<Chunk<model::Post>> {
        let input = posts_input!(posts, self.query, self.organization_id.clone());
        let data = self
            .backend
            .query::<Posts>(posts::Variables {
                input,
                first: first(size),
                after,
            })
            .await?;
        let edges = data.posts.edges.unwrap_or_default();
        Ok(Chunk {
            cursors: edges.iter().map(|e| e.cursor.clone()).collect(),
            items: edges.into_iter().map(|e| e.node.into()).collect(),
            has_next: data.posts.page_info.has_next_page,
            end_cursor: data.posts.page_info.end_cursor,
        })
    }

    async fn skip(&self, size: u32, after: Option<String>) -> Result<Chunk<()>> {
        let input = posts_input!(post_cursors, self.query, self.organization_id.clone());
        let data = self
            .backend
            .query::<PostCursors>(post_cursors::Variables {
                input,
                first: first(size),
                after,
            })
            .await?;
        let cursors: Vec<String> = data
            .posts
            .edges
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.cursor)
            .collect();
        Ok(Chunk {
            items: vec![(); cursors.len()],
            cursors,
            has_next: data.posts.page_info.has_next_page,
            end_cursor: data.posts.page_info.end_cursor,
        })
    }
}

/// An organization's ideas.
struct IdeaListing<'a> {
    backend: &'a GraphQl,
    organization_id: &'a OrganizationId,
}

impl Listing for IdeaListing<'_> {
    type Item = Idea;

    fn scope(&self) -> String {
        format!("ideas/{}", self.organization_id)
    }

    async fn fetch(&self, size: u32, after: Option<String>) -> Result<Chunk<Idea>> {
        let input = ideas::IdeasInput {
            group_filter: None,
            organization_id: self.organization_id.clone(),
            tags_filter: None,
        };
        let data = self
            .backend
            .query::<Ideas>(ideas::Variables {
                input,
                first: first(size),
                after,
            })
            .await?;
        let edges = data.ideas.edges;
        Ok(Chunk {
            cursors: edges.iter().map(|e| e.cursor.clone()).collect(),
            items: edges.into_iter().map(|e| e.node.into()).collect(),
            has_next: data.ideas.page_info.has_next_page,
            end_cursor: data.ideas.page_info.end_cursor,
        })
    }

    /// Ideas have no cursor-only document: a walk reads whole pages.
    async fn skip(&self, size: u32, after: Option<String>) -> Result<Chunk<()>> {
        let chunk = self.fetch(size, after).await?;
        Ok(Chunk {
            items: vec![(); chunk.items.len()],
            cursors: chunk.cursors,
            has_next: chunk.has_next,
            end_cursor: chunk.end_cursor,
        })
    }
}
