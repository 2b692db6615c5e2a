//! Answers too large to diff item by item. Over a size limit an answer is replaced by its
//! [`Summary`] (how many items it lists and a digest of their ids), so that comparing costs the
//! same small amount whatever a backend answers, and a shadow never holds a copy of a huge
//! answer while it waits to compare.

use crate::backend::Response;
use crate::model::{ChannelOutcome, ChannelResult};
use serde_json::{Value, json};
use std::io;

/// The most items an answer may list and still be compared item by item, unless set with
/// [`ShadowBuilder::max_compared_items`](super::ShadowBuilder::max_compared_items): ten times
/// the largest page either API serves.
pub const DEFAULT_MAX_COMPARED_ITEMS: usize = 1_000;

/// The most bytes an answer may take as JSON and still be compared item by item, unless set
/// with [`ShadowBuilder::max_compared_bytes`](super::ShadowBuilder::max_compared_bytes): a
/// page of 100 long posts takes about 200 KB.
pub const DEFAULT_MAX_COMPARED_BYTES: usize = 1024 * 1024;

/// The size past which an answer is summarised.
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    pub items: usize,
    pub bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            items: DEFAULT_MAX_COMPARED_ITEMS,
            bytes: DEFAULT_MAX_COMPARED_BYTES,
        }
    }
}

/// What is compared of an answer too large to diff: how many items it lists, and a digest of
/// the set of their ids (the order is left out: GraphQL promises none for some lists).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Summary {
    items: usize,
    ids: u64,
}

impl Summary {
    /// Summarises `response`: one pass over its items, hashing each id.
    pub fn of(response: &Response) -> Self {
        let mut ids = 0u64;
        for_each_id(response, |id| ids = ids.wrapping_add(id_digest(id)));
        Self {
            items: item_count(response),
            ids,
        }
    }

    /// The summary as the comparator diffs it.
    pub fn to_value(self) -> Value {
        json!({ "summary": { "items": self.items, "ids": format!("{:016x}", self.ids) } })
    }

    /// How many items the answer listed.
    pub fn items(self) -> usize {
        self.items
    }
}

/// One side's answer as a comparison holds it.
#[derive(Debug)]
pub(super) enum Answer {
    /// Small enough to diff item by item (boxed: a response is large beside a summary).
    Whole(Box<Response>),
    /// Too large: only its summary is kept.
    Summarised(Summary),
}

impl Answer {
    /// Keeps `response` whole when it lists at most `limits.items` items, else its summary, so
    /// a huge answer is let go as soon as it has been read.
    pub fn keep(response: Response, limits: Limits) -> Self {
        if item_count(&response) > limits.items {
            Self::Summarised(Summary::of(&response))
        } else {
            Self::Whole(Box::new(response))
        }
    }

    /// A copy of `response` to compare, made on the caller's path: a clone of at most
    /// `limits.items` items, else the summary, which costs a hash per item and no copy.
    pub fn copy(response: &Response, limits: Limits) -> Self {
        if item_count(response) > limits.items {
            Self::Summarised(Summary::of(response))
        } else {
            Self::Whole(Box::new(response.clone()))
        }
    }

    /// Summarised too when its JSON is longer than `limits.bytes`. Off the caller's path: it
    /// serialises up to the limit, into nothing.
    pub fn within_bytes(self, limits: Limits) -> Self {
        match self {
            Self::Whole(response) if longer_than(&response, limits.bytes) => {
                Self::Summarised(Summary::of(&response))
            }
            kept => kept,
        }
    }
}

/// How many items an answer lists: one for a single value, none for an acknowledgement.
fn item_count(response: &Response) -> usize {
    use Response as R;
    match response {
        R::Channels(channels) => channels.len(),
        R::Schedules(days) => days.len(),
        R::Posts(page) => page.items.len(),
        R::Queue(posts) => posts.len(),
        R::Interactions(page) => page.items.len(),
        R::Ideas(page) => page.items.len(),
        R::DailyPostingLimits(limits) => limits.len(),
        R::Created(outcome) => outcome.channels.len(),
        R::CreatedMany(outcomes) | R::Reconciled(outcomes) => {
            outcomes.iter().map(|o| o.channels.len()).sum()
        }
        R::RecentPosts(recent) => recent.posts.len(),
        R::Account(_)
        | R::Channel(_)
        | R::Post(_)
        | R::Idea(_)
        | R::Configuration(_)
        | R::LinkShares(_) => 1,
        R::Deauthorized | R::SchedulesUpdated | R::Shared | R::Deleted => 0,
    }
}

/// Calls `each` with the id of every item that has one.
fn for_each_id(response: &Response, mut each: impl FnMut(&str)) {
    use Response as R;
    let mut outcome = |channel: &ChannelOutcome| match &channel.result {
        ChannelResult::Created(post) => each(post.id.as_str()),
        ChannelResult::Failed(_) | ChannelResult::Unknown(_) => each(channel.channel_id.as_str()),
    };
    match response {
        R::Channels(channels) => channels.iter().for_each(|c| each(c.id.as_str())),
        R::Posts(page) => page.items.iter().for_each(|p| each(p.id.as_str())),
        R::Queue(posts) => posts.iter().for_each(|p| each(p.id.as_str())),
        R::Interactions(page) => page.items.iter().for_each(|i| each(i.id.as_str())),
        R::Ideas(page) => page.items.iter().for_each(|i| each(i.id.as_str())),
        R::DailyPostingLimits(limits) => limits.iter().for_each(|l| each(l.channel_id.as_str())),
        R::Created(created) => created.channels.iter().for_each(&mut outcome),
        R::RecentPosts(recent) => recent.posts.iter().for_each(|p| each(p.id.as_str())),
        R::CreatedMany(created) | R::Reconciled(created) => created
            .iter()
            .flat_map(|o| &o.channels)
            .for_each(&mut outcome),
        R::Account(account) => each(account.id.as_str()),
        R::Channel(channel) => each(channel.id.as_str()),
        R::Post(post) => each(post.id.as_str()),
        R::Idea(idea) => each(idea.id.as_str()),
        R::Schedules(_)
        | R::Configuration(_)
        | R::LinkShares(_)
        | R::Deauthorized
        | R::SchedulesUpdated
        | R::Shared
        | R::Deleted => {}
    }
}

/// A well-mixed 64-bit digest of one id (FNV-1a, then a finaliser), summed over the set.
fn id_digest(id: &str) -> u64 {
    let fnv = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    super::splitmix64(fnv)
}

/// Whether `response` takes more than `limit` bytes as JSON, found without keeping any of it.
fn longer_than(response: &Response, limit: usize) -> bool {
    /// A writer that accepts `left` bytes and fails past them, which stops the serialiser.
    struct Budget {
        left: usize,
    }
    impl io::Write for Budget {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.left = self
                .left
                .checked_sub(bytes.len())
                .ok_or_else(|| io::Error::other("over the limit"))?;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    serde_json::to_writer(&mut Budget { left: limit }, response).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Page, Post, PostStatus, Service};

    fn posts(ids: &[&str]) -> Response {
        let items = ids
            .iter()
            .map(|id| Post::new(*id, "c", Service::Twitter, "hello", PostStatus::Draft))
            .collect();
        Response::Posts(Page::new(items, None, None))
    }

    #[test]
    fn a_summary_counts_items_and_ignores_their_order() {
        let one = Summary::of(&posts(&["a", "b", "c"]));
        assert_eq!(one.items(), 3);
        assert_eq!(one, Summary::of(&posts(&["c", "a", "b"])));
        assert_ne!(one, Summary::of(&posts(&["a", "b", "d"])));
        assert_ne!(one, Summary::of(&posts(&["a", "b"])));
    }

    #[test]
    fn answers_over_a_limit_are_summarised() {
        let limits = Limits {
            items: 2,
            bytes: 10_000,
        };
        let three = posts(&["a", "b", "c"]);
        assert!(matches!(
            Answer::copy(&three, limits),
            Answer::Summarised(_)
        ));
        assert!(matches!(
            Answer::keep(posts(&["a", "b"]), limits),
            Answer::Whole(_)
        ));
        let tight = Limits {
            items: 10,
            bytes: 50,
        };
        assert!(matches!(
            Answer::keep(three.clone(), tight).within_bytes(tight),
            Answer::Summarised(_)
        ));
        assert!(!longer_than(&three, 10_000));
    }
}
