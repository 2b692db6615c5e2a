//! Posts created on some channels since a time, whatever their status: one `posts` query per
//! organization with every channel in its `channelIds` filter and a `createdAt` lower bound,
//! so looking for the posts of a lost 30-channel batch costs one request, not thirty.

use super::GraphQl;
use super::operations::{Posts, posts};
use crate::model::{self, ChannelId, OrganizationId, RecentPosts};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Pages of 100 read per organization before the listing is called incomplete.
const RECENT_PAGES: usize = 5;

impl GraphQl {
    pub(super) async fn recent_posts(
        &self,
        channel_ids: &[ChannelId],
        since: DateTime<Utc>,
    ) -> Result<RecentPosts> {
        let routes = self.routes(channel_ids).await?;
        let mut by_organization: BTreeMap<OrganizationId, Vec<ChannelId>> = BTreeMap::new();
        for channel_id in channel_ids {
            let Some(route) = routes.get(channel_id) else {
                return Err(Error::not_found(format!(
                    "channel {channel_id} is not one of this account's channels"
                )));
            };
            let channels = by_organization
                .entry(route.organization_id.clone())
                .or_default();
            if !channels.contains(channel_id) {
                channels.push(channel_id.clone());
            }
        }
        let mut found = Vec::new();
        let mut complete = true;
        for (organization_id, channels) in by_organization {
            let mut after = None;
            let mut pages = 0;
            loop {
                let data = self
                    .query::<Posts>(posts::Variables {
                        input: input(organization_id.clone(), channels.clone(), since),
                        first: Some(100),
                        after: after.take(),
                    })
                    .await?;
                let edges = data.posts.edges.unwrap_or_default();
                found.extend(edges.into_iter().map(|e| model::Post::from(e.node)));
                pages += 1;
                let info = data.posts.page_info;
                match info.end_cursor {
                    Some(cursor) if info.has_next_page && pages < RECENT_PAGES => {
                        after = Some(cursor);
                    }
                    // More posts, with no cursor to reach them or past the reading limit.
                    _ if info.has_next_page => {
                        complete = false;
                        break;
                    }
                    _ => break,
                }
            }
        }
        Ok(RecentPosts::new(found, complete))
    }
}

/// Every status, created at or after `since`, oldest first.
fn input(
    organization_id: OrganizationId,
    channel_ids: Vec<ChannelId>,
    since: DateTime<Utc>,
) -> posts::PostsInput {
    use posts::{
        DateTimeComparator, PostSortInput, PostSortableKey, PostsFiltersInput, PostsInput,
        SortDirection,
    };
    PostsInput {
        filter: Some(PostsFiltersInput {
            channel_ids: Some(channel_ids),
            due_at: None,
            due_at_presence: None,
            end_date: None,
            start_date: None,
            status: None,
            tag_ids: None,
            tags: None,
            created_at: Some(DateTimeComparator {
                end: None,
                start: Some(since),
            }),
        }),
        organization_id,
        sort: Some(vec![PostSortInput {
            direction: SortDirection::asc,
            field: PostSortableKey::createdAt,
        }]),
    }
}
