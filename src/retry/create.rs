//! Creates that are retried channel by channel and reconciled before any resend.
//!
//! The unit is one channel of one new post (a *slot*). After each attempt every slot is
//! created, refused for good, refused for now (rate limited: resend after the wait), or
//! unknown (the request may have reached Buffer). Unknown slots are looked up in the
//! channel's recent posts; only those not found are sent again, so no post is made twice and
//! no outcome is lost.

use super::{Decision, Failure, Retrying, pause};
use crate::backend::{Backend, Request, Response};
use crate::model::{
    ChannelId, ChannelOutcome, CreateOutcome, NewPost, PageRequest, Post, PostList, PostQuery, When,
};
use crate::{Error, Result};
use std::time::Duration;

/// The page size of reconciliation reads: the largest both APIs serve.
const LOOKUP_PAGE: u32 = 100;

/// How many pages of a channel's queue a lookup reads before calling the answer unknown.
const LOOKUP_QUEUE_PAGES: usize = 2;

/// One channel of one new post.
struct Slot {
    post: usize,
    channel: ChannelId,
    /// The latest result; `None` only before the first attempt.
    result: Option<Result<Post>>,
    /// Whether an attempt may have created it: a later "duplicate" then means it exists.
    unsure: bool,
}

/// What a lookup found.
enum Lookup {
    Found(Box<Post>),
    Missing,
    /// The lists could not be read, or not far enough to be sure.
    Unknown,
}

impl<B: Backend> Retrying<B> {
    /// Creates every post on each of its channels; one outcome per post, in order.
    pub(super) async fn create(&self, posts: &[NewPost]) -> Result<Vec<CreateOutcome>> {
        let mut slots: Vec<Slot> = posts
            .iter()
            .enumerate()
            .flat_map(|(post, new)| {
                new.channel_ids.iter().map(move |channel| Slot {
                    post,
                    channel: channel.clone(),
                    result: None,
                    unsure: false,
                })
            })
            .collect();
        let mut todo: Vec<usize> = (0..slots.len()).collect();
        let mut attempt = 1;
        while !todo.is_empty() {
            let results = match self.send(posts, &slots, &todo).await {
                Ok(results) => results,
                // Nothing was created and nothing will be: answer as the backend did.
                Err(error) if attempt == 1 && Failure::of(&error) == Failure::Permanent => {
                    return Err(error);
                }
                Err(error) => vec![Err(error); todo.len()],
            };
            let mut resend = Vec::new();
            let mut check = Vec::new();
            let mut wait = Duration::ZERO;
            for (&index, result) in todo.iter().zip(results) {
                let slot = &mut slots[index];
                let error = match result {
                    Ok(post) => {
                        slot.result = Some(Ok(post));
                        continue;
                    }
                    Err(error) => error,
                };
                let decision = if slot.unsure && error.is_duplicate() {
                    // Buffer refuses recent duplicates: an earlier attempt got through.
                    Decision::Reconcile(Duration::ZERO)
                } else {
                    self.decide(&error, attempt, false)
                };
                match decision {
                    Decision::Retry(after) => {
                        wait = wait.max(after);
                        resend.push(index);
                    }
                    Decision::Reconcile(after) => {
                        wait = wait.max(after);
                        slot.unsure = true;
                        check.push((index, true));
                    }
                    // Out of attempts with the outcome unknown: still find out, so a created
                    // post is reported as created, but send nothing more.
                    Decision::GiveUp if Failure::of(&error) == Failure::Transient => {
                        check.push((index, false));
                    }
                    Decision::GiveUp => {}
                }
                slot.result = Some(Err(error));
            }
            pause(wait).await;
            for (index, may_resend) in check {
                let slot = &mut slots[index];
                match self.find(&posts[slot.post], &slot.channel).await {
                    Lookup::Found(post) => {
                        tracing::debug!(channel = %slot.channel, post = %post.id, "the post was created by an earlier attempt");
                        slot.result = Some(Ok(*post));
                    }
                    Lookup::Missing if may_resend => resend.push(index),
                    Lookup::Missing => {}
                    Lookup::Unknown => tracing::warn!(
                        channel = %slot.channel,
                        "could not tell whether the post was created; not sending it again"
                    ),
                }
            }
            resend.sort_unstable();
            todo = resend;
            attempt += 1;
        }
        let mut outcomes: Vec<Vec<ChannelOutcome>> = posts.iter().map(|_| Vec::new()).collect();
        for slot in slots {
            let result = slot
                .result
                .unwrap_or_else(|| Err(never_sent(&slot.channel)));
            outcomes[slot.post].push(ChannelOutcome::new(slot.channel, result));
        }
        Ok(outcomes.into_iter().map(CreateOutcome::new).collect())
    }

    /// Sends the slots in `todo` as one request: each post with just those of its channels
    /// (a `CreatePost` for one post, a `CreatePosts` for several). One result per slot of
    /// `todo`, in order.
    async fn send(
        &self,
        posts: &[NewPost],
        slots: &[Slot],
        todo: &[usize],
    ) -> Result<Vec<Result<Post>>> {
        // Slots are in post order: group them into one subset post per post.
        let mut subsets: Vec<NewPost> = Vec::new();
        let mut owners: Vec<usize> = Vec::new();
        for &index in todo {
            let slot = &slots[index];
            if owners.last() != Some(&slot.post) {
                let mut subset = posts[slot.post].clone();
                subset.channel_ids.clear();
                subsets.push(subset);
                owners.push(slot.post);
            }
            if let Some(subset) = subsets.last_mut() {
                subset.channel_ids.push(slot.channel.clone());
            }
        }
        let answer = match subsets.as_slice() {
            [] => return Ok(Vec::new()),
            [post] if posts.len() == 1 => {
                let request = Request::CreatePost { post: post.clone() };
                self.inner.execute(request).await?
            }
            _ => {
                let request = Request::CreatePosts {
                    posts: subsets.clone(),
                };
                self.inner.execute(request).await?
            }
        };
        let outcomes = match answer {
            Response::Created(outcome) => vec![outcome],
            Response::CreatedMany(outcomes) => outcomes,
            other => {
                return Err(Error::Unexpected {
                    message: format!("the backend answered {other:?} to a create"),
                    legacy_code: None,
                });
            }
        };
        if outcomes.len() != subsets.len() {
            return Err(Error::Unexpected {
                message: format!(
                    "the backend answered {} outcomes to a create of {} posts",
                    outcomes.len(),
                    subsets.len()
                ),
                legacy_code: None,
            });
        }
        Ok(subsets
            .iter()
            .zip(outcomes)
            .flat_map(|(post, outcome)| by_channel(&post.channel_ids, outcome))
            .collect())
    }

    /// Looks for `post` among the channel's recent posts: the queue, and the sent list (a post
    /// may have gone out already). Posts sent now are looked for in the sent list first.
    async fn find(&self, post: &NewPost, channel: &ChannelId) -> Lookup {
        let lists = match post.when {
            When::Now => [PostList::Sent, PostList::Queue],
            _ => [PostList::Queue, PostList::Sent],
        };
        let mut sure = true;
        for list in lists {
            // The sent list is newest first, so a new post is on its first page; the queue is
            // in publishing order, where a queued post goes last.
            let pages = match (list, &post.when) {
                (PostList::Queue, When::Queue | When::At(_)) => LOOKUP_QUEUE_PAGES,
                _ => 1,
            };
            let mut query =
                PostQuery::new(channel.clone(), list).page(PageRequest::first(LOOKUP_PAGE));
            let mut read = 0;
            loop {
                let page = match self
                    .plain(Request::Posts {
                        query: query.clone(),
                    })
                    .await
                {
                    Ok(Response::Posts(page)) => page,
                    Ok(_) | Err(_) => return Lookup::Unknown,
                };
                if let Some(found) = page.items.iter().find(|p| is_same(post, p)) {
                    return Lookup::Found(Box::new(found.clone()));
                }
                read += 1;
                match page.next {
                    Some(token) if read < pages => {
                        query = query.page(PageRequest::after(token, LOOKUP_PAGE));
                    }
                    Some(_) if list == PostList::Queue => {
                        sure = false;
                        break;
                    }
                    _ => break,
                }
            }
        }
        if sure {
            Lookup::Missing
        } else {
            Lookup::Unknown
        }
    }
}

/// Matches a create's outcome to the channels asked for: by position when the backend kept
/// the order, else by channel id.
fn by_channel(channels: &[ChannelId], outcome: CreateOutcome) -> Vec<Result<Post>> {
    let in_order = outcome.channels.len() == channels.len()
        && outcome
            .channels
            .iter()
            .zip(channels)
            .all(|(got, asked)| &got.channel_id == asked);
    if in_order {
        return outcome.channels.into_iter().map(|c| c.result).collect();
    }
    let mut left = outcome.channels;
    channels
        .iter()
        .map(
            |channel| match left.iter().position(|c| &c.channel_id == channel) {
                Some(i) => left.remove(i).result,
                None => Err(Error::Unexpected {
                    message: format!("the create's answer has no outcome for channel {channel}"),
                    legacy_code: None,
                }),
            },
        )
        .collect()
}

/// Whether a listed post is the new post: the same text (links may have been shortened) and,
/// for a post at a set time, the same due time. Buffer refuses recent duplicates of a text on
/// a channel, so a match is ours.
fn is_same(new: &NewPost, found: &Post) -> bool {
    if let When::At(at) = new.when {
        if found.due_at.map(|due| due.timestamp()) != Some(at.timestamp()) {
            return false;
        }
    }
    let text = new.text.as_deref().unwrap_or_default();
    same_text(text, &found.text)
}

/// Equal after folding whitespace, or equal without their links (the classic API shortens
/// links in the text by default).
fn same_text(a: &str, b: &str) -> bool {
    let words = |text: &str, drop_links: bool| -> Vec<String> {
        text.split_whitespace()
            .filter(|w| !(drop_links && (w.starts_with("http://") || w.starts_with("https://"))))
            .map(str::to_owned)
            .collect()
    };
    words(a, false) == words(b, false) || words(a, true) == words(b, true)
}

fn never_sent(channel: &ChannelId) -> Error {
    Error::Unexpected {
        message: format!("no attempt was made for channel {channel}"),
        legacy_code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PostStatus, Service};

    fn post(id: &str, channel: &str, text: &str) -> Post {
        Post::new(id, channel, Service::Twitter, text, PostStatus::Scheduled)
    }

    #[test]
    fn texts_match_across_whitespace_and_shortened_links() {
        assert!(same_text("Hello  world\n", "Hello world"));
        assert!(same_text(
            "Read https://example.com/a/long/path now",
            "Read https://buff.ly/3xYz now"
        ));
        assert!(!same_text("Hello world", "Hello there"));
        assert!(!same_text("Hello", ""));
    }

    #[test]
    fn outcomes_are_matched_by_channel_when_out_of_order() {
        let channels: Vec<ChannelId> = vec!["a".into(), "b".into()];
        let outcome = CreateOutcome::new(vec![
            ChannelOutcome::new("b", Err(Error::invalid_input("no"))),
            ChannelOutcome::new("a", Ok(post("p", "a", "x"))),
        ]);
        let results = by_channel(&channels, outcome);
        assert!(results[0].is_ok());
        assert!(results[1].is_err());
        let missing = by_channel(&channels, CreateOutcome::new(Vec::new()));
        assert!(missing.iter().all(Result::is_err));
    }
}
