//! `posts(input: { filter, sort })`, read once per request into plain values, so testing and
//! ordering each post of a large store does not re-read the JSON input.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::root::{parse_time, str_field};
use crate::model::Post;

/// A time range; a bound that is missing or not a valid time does not limit.
#[derive(Clone, Copy, Debug, Default)]
struct Range {
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
}

impl Range {
    fn read(range: &Value) -> Self {
        let bound = |key: &str| str_field(range, key).and_then(|t| parse_time(t).ok());
        Self {
            start: bound("start"),
            end: bound("end"),
        }
    }

    fn holds(&self, at: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| at >= s) && self.end.is_none_or(|e| at <= e)
    }
}

/// `PostsFiltersInput`: every given field must hold.
#[derive(Debug, Default)]
pub(super) struct PostFilter<'v> {
    channel_ids: Option<Vec<&'v str>>,
    statuses: Option<Vec<&'v str>>,
    /// A post without a due time fails a `dueAt` range, even an open one.
    due_at: Option<Range>,
    created_at: Option<Range>,
    due_at_presence: Option<&'v str>,
    /// `startDate`/`endDate`: the creation or the due time falls inside.
    either_time: Option<Range>,
    /// `tags`: one of these ids, or (`isEmpty`) no tag at all.
    tags: Option<(Vec<&'v str>, bool)>,
}

impl<'v> PostFilter<'v> {
    pub(super) fn read(filter: &'v Value) -> Self {
        let list = |key: &str| -> Option<Vec<&'v str>> {
            filter
                .get(key)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
        };
        let range = |key: &str| filter.get(key).filter(|v| v.is_object()).map(Range::read);
        let time = |key: &str| str_field(filter, key).and_then(|t| parse_time(t).ok());
        let either_time = Range {
            start: time("startDate"),
            end: time("endDate"),
        };
        let tags = filter.get("tags").filter(|v| v.is_object()).map(|tags| {
            let wanted = tags
                .get("in")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let empty_ok = tags
                .get("isEmpty")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            (wanted, empty_ok)
        });
        Self {
            channel_ids: list("channelIds"),
            statuses: list("status"),
            due_at: range("dueAt"),
            created_at: range("createdAt"),
            due_at_presence: str_field(filter, "dueAtPresence"),
            either_time: (either_time.start.is_some() || either_time.end.is_some())
                .then_some(either_time),
            tags,
        }
    }

    /// Whether `channelIds` (if given) names the channel.
    pub(super) fn allows_channel(&self, channel_id: &str) -> bool {
        self.channel_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&channel_id))
    }

    /// Whether the post passes every field; its channel is checked by [`Self::allows_channel`].
    pub(super) fn matches(&self, post: &Post) -> bool {
        if self
            .statuses
            .as_ref()
            .is_some_and(|s| !s.contains(&post.status.graphql()))
        {
            return false;
        }
        if self
            .due_at
            .is_some_and(|range| !post.due_at.is_some_and(|at| range.holds(at)))
        {
            return false;
        }
        if self
            .created_at
            .is_some_and(|range| !range.holds(post.created_at))
        {
            return false;
        }
        match self.due_at_presence {
            Some("present") if post.due_at.is_none() => return false,
            Some("absent") if post.due_at.is_some() => return false,
            _ => {}
        }
        if let Some(range) = self.either_time
            && !range.holds(post.created_at)
            && !post.due_at.is_some_and(|at| range.holds(at))
        {
            return false;
        }
        if let Some((wanted, empty_ok)) = &self.tags {
            let hit = post.tag_ids.iter().any(|t| wanted.contains(&t.as_str()))
                || (*empty_ok && post.tag_ids.is_empty());
            if !hit {
                return false;
            }
        }
        true
    }
}

/// Which time a sort key reads.
#[derive(Clone, Copy, Debug)]
enum SortField {
    DueAt,
    CreatedAt,
}

/// `[PostSortInput!]`, `dueAt` ascending when absent or empty.
#[derive(Debug)]
pub(super) struct PostOrder {
    keys: Vec<(SortField, bool)>,
}

impl PostOrder {
    pub(super) fn read(sort: Option<&Value>) -> Self {
        let keys = match sort {
            Some(Value::Array(keys)) if !keys.is_empty() => keys
                .iter()
                .map(|key| {
                    let field = match str_field(key, "field") {
                        Some("createdAt") => SortField::CreatedAt,
                        _ => SortField::DueAt,
                    };
                    (field, str_field(key, "direction") == Some("desc"))
                })
                .collect(),
            _ => vec![(SortField::DueAt, false)],
        };
        Self { keys }
    }

    /// A total order: a post without the time sorts last either way; creation time and then
    /// the (unique) id break ties.
    pub(super) fn compare(&self, a: &Post, b: &Post) -> Ordering {
        for &(field, desc) in &self.keys {
            let time = |p: &Post| match field {
                SortField::CreatedAt => Some(p.created_at),
                SortField::DueAt => p.due_at,
            };
            let order = match (time(a), time(b)) {
                (Some(x), Some(y)) if desc => y.cmp(&x),
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        a.created_at
            .cmp(&b.created_at)
            .then_with(|| a.id.cmp(&b.id))
    }
}
