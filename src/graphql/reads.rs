//! Read operations: the account, organizations, channels, schedules, posts, ideas and daily
//! posting limits.

use super::operations::{
    Account, Channel, ChannelSchedule, DailyPostingLimits, Ideas, Organizations, Post, PostCursors,
    Posts, account, channel, channel_schedule, channels, daily_posting_limits, fragments, ideas,
    organizations, post, post_cursors, posts,
};
use super::paging::{self, Chunk, Listing};
use super::{
    ChannelRoute, Directory, GraphQl, LOOKUP_LIFETIME, MAX_ALIASES, MISS_LIFETIME, convert,
};
use crate::model::{
    self, ChannelId, DailyPostingLimit, Idea, OrganizationId, Page, PageRequest, PostId, PostList,
    PostQuery, Schedule,
};
use crate::{Error, Result};
use graphql_client::GraphQLQuery;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;
use std::time::Duration;

/// The name of the aliased listing of several organizations' channels.
const CHANNELS_OPERATION: &str = "ChannelsOfOrganizations";

/// A request for some organizations' channels: one organization uses the `Channels` document
/// itself; several, aliased `channels` fields (`c0: channels(input: $o0)`) written at run time,
/// so an account with many organizations costs one request per [`MAX_ALIASES`] of them.
#[derive(Debug)]
struct ChannelsRequest {
    document: String,
    operation_name: &'static str,
    variables: Map<String, Value>,
    /// The response field of each organization, in order.
    fields: Vec<String>,
}

impl ChannelsRequest {
    fn new(organizations: &[OrganizationId]) -> Result<Self> {
        let input = |organization_id: &OrganizationId| {
            serde_json::to_value(channels::ChannelsInput {
                filter: None,
                organization_id: organization_id.clone(),
            })
            .map_err(|e| Error::invalid_input(e.to_string()))
        };
        if let [organization_id] = organizations {
            return Ok(Self {
                document: channels::QUERY.to_owned(),
                operation_name: channels::OPERATION_NAME,
                variables: Map::from_iter([("input".to_owned(), input(organization_id)?)]),
                fields: vec!["channels".to_owned()],
            });
        }
        let declarations: Vec<String> = (0..organizations.len())
            .map(|i| format!("$o{i}: ChannelsInput!"))
            .collect();
        let mut document = format!(
            "query {CHANNELS_OPERATION}({}) {{\n",
            declarations.join(", ")
        );
        let mut variables = Map::new();
        let mut fields = Vec::with_capacity(organizations.len());
        for (i, organization_id) in organizations.iter().enumerate() {
            let _ = write!(
                document,
                "  c{i}: channels(input: $o{i}) {{\n    ...ChannelFields\n  }}\n"
            );
            variables.insert(format!("o{i}"), input(organization_id)?);
            fields.push(format!("c{i}"));
        }
        document.push_str("}\n\n");
        document.push_str(fragments(channels::QUERY));
        Ok(Self {
            document,
            operation_name: CHANNELS_OPERATION,
            variables,
            fields,
        })
    }
}

impl GraphQl {
    /// Sends one generated operation and decodes its whole `data`.
    pub(super) async fn query<Q: GraphQLQuery>(
        &self,
        variables: Q::Variables,
    ) -> Result<Q::ResponseData> {
        let body = Q::build_query(variables);
        self.inner
            .wire
            .fetch(body.query, body.operation_name, &body.variables)
            .await
    }

    pub(super) async fn account(&self) -> Result<model::Account> {
        let data = self.query::<Account>(account::Variables).await?;
        let account = model::Account::from(data.account);
        if self.inner.organization_id.is_none() {
            let ids = account.organizations.iter().map(|o| o.id.clone()).collect();
            self.inner.organizations.put(ids).await;
        }
        Ok(account)
    }

    /// The organizations to work in: the configured one, else every one of the account,
    /// looked up once per [`LOOKUP_LIFETIME`].
    pub(super) async fn organization_ids(&self) -> Result<Arc<[OrganizationId]>> {
        if let Some(id) = &self.inner.organization_id {
            return Ok(Arc::from([id.clone()]));
        }
        let lookup = || async {
            let data = self
                .query::<Organizations>(organizations::Variables)
                .await?;
            Ok(data
                .account
                .organizations
                .into_iter()
                .map(|o| o.id)
                .collect())
        };
        self.inner.organizations.get(LOOKUP_LIFETIME, lookup).await
    }

    /// Every channel of every organization worked in. Always asked of the server (a call that
    /// arrives while a listing is under way shares it); the routes are kept from it.
    pub(super) async fn channels(&self) -> Result<Vec<model::Channel>> {
        Ok(self.directory(Duration::ZERO).await?.channels.clone())
    }

    /// The latest channel listing, if it is at most `max_age` old; else a new one.
    async fn directory(&self, max_age: Duration) -> Result<Arc<Directory>> {
        self.inner
            .channels
            .get(max_age, || async {
                Ok(Arc::new(Directory::new(self.list_channels().await?)))
            })
            .await
    }

    /// Lists the channels of every organization worked in, up to [`MAX_ALIASES`]
    /// organizations a request.
    async fn list_channels(&self) -> Result<Vec<model::Channel>> {
        let organizations = self.organization_ids().await?;
        let mut all = Vec::new();
        for batch in organizations.chunks(MAX_ALIASES) {
            let request = ChannelsRequest::new(batch)?;
            let mut data: HashMap<String, Option<Vec<channels::ChannelFields>>> = self
                .inner
                .wire
                .fetch(
                    &request.document,
                    request.operation_name,
                    &request.variables,
                )
                .await?;
            for field in &request.fields {
                let listed = data.remove(field).flatten().ok_or_else(|| {
                    Error::protocol(
                        None,
                        format!("the response has no value for `{field}`"),
                        String::new(),
                    )
                })?;
                all.extend(listed.into_iter().map(model::Channel::from));
            }
        }
        Ok(all)
    }

    /// The routes of some channels. The channel listing is reused while it is at most
    /// [`LOOKUP_LIFETIME`] old, and, for a channel it lacks, while it is at most
    /// [`MISS_LIFETIME`] old: a channel that does not exist costs one listing a minute, not one
    /// a call. Channels that are still unknown are left out.
    pub(super) async fn routes(
        &self,
        ids: &[ChannelId],
    ) -> Result<HashMap<ChannelId, ChannelRoute>> {
        let mut directory = self.directory(LOOKUP_LIFETIME).await?;
        if !ids.iter().all(|id| directory.routes.contains_key(id)) {
            directory = self.directory(MISS_LIFETIME).await?;
        }
        Ok(ids
            .iter()
            .filter_map(|id| directory.routes.get(id).map(|r| (id.clone(), r.clone())))
            .collect())
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
                .ok_or_else(|| {
                    Error::not_found(format!(
                        "channel {} is not among the account's channels",
                        query.channel_id
                    ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_channel_fields_are_the_documents_own_fragment() {
        assert!(fragments(channels::QUERY).starts_with("fragment ChannelFields on Channel {"));
        assert_eq!(
            channels::QUERY
                .matches("fragment ChannelFields on ")
                .count(),
            1
        );
    }

    #[test]
    fn one_organization_sends_the_channels_document_itself() {
        let request = ChannelsRequest::new(&[OrganizationId::new("o")]).unwrap();
        assert_eq!(request.document, channels::QUERY);
        assert_eq!(request.fields, ["channels"]);
        assert_eq!(request.variables["input"]["organizationId"], "o");
    }

    #[test]
    fn several_organizations_are_aliased_fields_of_a_valid_document() {
        let organizations: Vec<OrganizationId> = (0..MAX_ALIASES)
            .map(|i| OrganizationId::new(format!("org{i}")))
            .collect();
        let request = ChannelsRequest::new(&organizations).unwrap();
        assert!(request.document.starts_with(
            "query ChannelsOfOrganizations($o0: ChannelsInput!, $o1: ChannelsInput!, "
        ));
        assert!(
            request
                .document
                .contains("  c29: channels(input: $o29) {\n    ...ChannelFields\n  }\n")
        );
        assert_eq!(request.fields.len(), MAX_ALIASES);
        assert_eq!(request.fields[29], "c29");
        assert_eq!(request.variables["o29"]["organizationId"], "org29");
        assert!(
            request.variables["o0"].get("filter").is_none(),
            "absent, not null"
        );
        let schema = apollo_compiler::Schema::parse_and_validate(
            include_str!("../../schema.graphql"),
            "schema.graphql",
        )
        .unwrap();
        apollo_compiler::ExecutableDocument::parse_and_validate(
            &schema,
            &request.document,
            "channels",
        )
        .unwrap();
    }
}
