//! One plain async function per operation: the model in, the classic call, the model out.
//!
//! Everything the classic API cannot express is refused with [`Error::InvalidInput`]
//! ([`Origin::Local`](crate::error::Origin::Local)) before a request goes out, naming what
//! cannot be carried and what to do instead.

use super::ClassicRest;
use super::form::Form;
use super::paging::Window;
use super::wire::{
    Done, Edited, InteractionPage, List, Posted, Profile, ScheduleGroup, Shape, Shares, Update,
    UpdatePage, Updates, User, WireConfiguration, per_day,
};
use crate::model::{
    Account, Asset, AssetKind, Channel, ChannelId, ChannelOutcome, ChannelResult, Configuration,
    CreateOutcome, Interaction, Link, NewPost, Page, PageRequest, Patch, Post, PostEdit, PostId,
    PostList, PostQuery, RecentPosts, Schedule, When,
};
use crate::{Error, Result};
use chrono::{DateTime, Utc};

pub(super) async fn account(rest: &ClassicRest) -> Result<Account> {
    let user: User = rest.get(&["user"], &Form::new(), "a user").await?;
    user.into_account()
}

pub(super) async fn deauthorize(rest: &ClassicRest) -> Result<()> {
    let done: Done = rest
        .post(&["user", "deauthorize"], &Form::new(), "a deauthorization")
        .await?;
    confirmed(rest, done, "classic token revoked");
    Ok(())
}

pub(super) async fn channels(rest: &ClassicRest) -> Result<Vec<Channel>> {
    let List(profiles): List<Profile> = rest
        .get(&["profiles"], &Form::new(), "a list of profiles")
        .await?;
    profiles.into_iter().map(Profile::into_channel).collect()
}

pub(super) async fn channel(rest: &ClassicRest, id: &ChannelId) -> Result<Channel> {
    let profile: Profile = rest
        .get(&["profiles", id.as_str()], &Form::new(), "a profile")
        .await?;
    profile.into_channel()
}

pub(super) async fn schedules(rest: &ClassicRest, channel_id: &ChannelId) -> Result<Vec<Schedule>> {
    let List(groups): List<ScheduleGroup> = rest
        .get(
            &["profiles", channel_id.as_str(), "schedules"],
            &Form::new(),
            "a list of schedules",
        )
        .await?;
    Ok(per_day(&groups))
}

/// Classic schedules group days that share times, and have no pause: days with identical
/// times are sent as one group, and paused days and days without times are left out (the
/// classic API posts nothing on a day no group names).
pub(super) async fn update_schedules(
    rest: &ClassicRest,
    channel_id: &ChannelId,
    days: &[Schedule],
) -> Result<()> {
    let form = schedule_form(days)?;
    let done: Done = rest
        .post(
            &["profiles", channel_id.as_str(), "schedules", "update"],
            &form,
            "a schedules update",
        )
        .await?;
    confirmed(rest, done, "classic schedules updated");
    Ok(())
}

fn schedule_form(days: &[Schedule]) -> Result<Form> {
    let mut groups: Vec<(Vec<&str>, &[String])> = Vec::new();
    for day in days.iter().filter(|d| !d.paused && !d.times.is_empty()) {
        match groups
            .iter_mut()
            .find(|(_, times)| *times == day.times.as_slice())
        {
            Some((group_days, _)) => group_days.push(day.day.as_str()),
            None => groups.push((vec![day.day.as_str()], &day.times)),
        }
    }
    if groups.is_empty() {
        return Err(Error::invalid_input(
            "the classic API needs at least one unpaused day with posting times; it cannot store \
             an empty or fully paused schedule (pause posting in Buffer's app instead)",
        ));
    }
    let mut form = Form::new();
    for (index, (group_days, times)) in groups.iter().enumerate() {
        form.list(&format!("schedules[{index}][days]"), group_days)
            .list(&format!("schedules[{index}][times]"), times.iter());
    }
    Ok(form)
}

/// Times go out as Unix seconds, the form `since` requires; `utc` is never sent, since it
/// changes only the human-readable `day` and `due_time` strings, which the model does not use.
pub(super) async fn posts(rest: &ClassicRest, query: &PostQuery) -> Result<Page<Post>> {
    let scope = query.scope();
    let window = Window::of(&query.page, &scope)?;
    let mut form = Form::new();
    form.field("page", window.page)
        .field("count", window.count)
        .optional("since", query.since.map(|t| t.timestamp()));
    let list = match query.list {
        PostList::Queue => "pending",
        PostList::Sent => "sent",
    };
    let page: UpdatePage = rest
        .get(
            &["profiles", query.channel_id.as_str(), "updates", list],
            &form,
            "a page of updates",
        )
        .await?;
    let items = page.updates.into_iter().map(|Posted(post)| post).collect();
    Ok(window.page(&scope, items, page.total))
}

/// Pages of one list read per channel when looking for recent posts, 100 posts each.
const RECENT_PAGES: u32 = 3;

/// Posts created since a time: each channel's queue (created since) and sent list (sent since,
/// so created before it is sent), up to [`RECENT_PAGES`] pages of 100 each.
pub(super) async fn recent_posts(
    rest: &ClassicRest,
    channel_ids: &[ChannelId],
    since: DateTime<Utc>,
) -> Result<RecentPosts> {
    let mut found = Vec::new();
    let mut complete = true;
    for channel_id in channel_ids {
        for list in [PostList::Queue, PostList::Sent] {
            let mut page = 1;
            loop {
                let query = PostQuery::new(channel_id.clone(), list)
                    .since(since)
                    .page(PageRequest::offset(page, 100));
                let read = posts(rest, &query).await?;
                let full = read.items.len() == 100;
                found.extend(
                    read.items
                        .into_iter()
                        .filter(|post| post.created_at.is_none_or(|created| created >= since)),
                );
                if !full {
                    break;
                }
                if page == RECENT_PAGES {
                    complete = false;
                    break;
                }
                page += 1;
            }
        }
    }
    Ok(RecentPosts::new(found, complete))
}

pub(super) async fn post(rest: &ClassicRest, id: &PostId) -> Result<Post> {
    let update: Update = rest
        .get(&["updates", id.as_str()], &Form::new(), "an update")
        .await?;
    update.into_post()
}

pub(super) async fn interactions(
    rest: &ClassicRest,
    post_id: &PostId,
    event: &str,
    page: &PageRequest,
) -> Result<Page<Interaction>> {
    if event.trim().is_empty() {
        return Err(Error::invalid_input(
            "interactions need an event type such as `like`, `retweet` or `comment`",
        ));
    }
    let scope = format!("interactions/{post_id}/{event}");
    let window = Window::of(page, &scope)?;
    let mut form = Form::new();
    form.field("event", event)
        .field("page", window.page)
        .field("count", window.count);
    let answer: InteractionPage = rest
        .get(
            &["updates", post_id.as_str(), "interactions"],
            &form,
            "a page of interactions",
        )
        .await?;
    let items = answer
        .interactions
        .into_iter()
        .map(|i| i.into_interaction())
        .collect::<Result<Vec<_>>>()?;
    Ok(window.page(&scope, items, answer.total))
}

/// Classic create takes every channel in one request and answers with one update per channel
/// it accepted. The outcome has one entry per requested channel, in request order:
///
/// - a channel with an update in the answer gets it;
/// - a channel without one gets [`Error::NotFound`]: the classic API silently ignores profile
///   ids it does not know or this token may not post to;
/// - when Buffer refuses the whole request with a code about its content (a full queue 1023,
///   a duplicate 1025, a time in the past 1034, …: codes from 1003 on), every channel gets
///   that error, since the classic API does not say which channel caused it;
/// - when the request may have reached Buffer but its answer was lost or unreadable (a
///   transport failure, a timeout, a server error, a broken body), every channel is
///   [`Unknown`](ChannelResult::Unknown): the post may exist;
/// - what proves nothing was done and is not about the post (a bad token, a rate limit) is
///   returned as the call's `Err`, as it would be for any call.
pub(super) async fn create_post(rest: &ClassicRest, new: &NewPost) -> Result<CreateOutcome> {
    if new.channel_ids.is_empty() {
        return Err(Error::invalid_input(
            "a new post needs at least one channel; add one with NewPost::channel",
        ));
    }
    let form = create_form(new)?;
    let answer: Result<Updates> = rest
        .post(&["updates", "create"], &form, "the created updates")
        .await;
    let updates = match answer {
        Ok(answer) => answer.updates,
        Err(error) if is_about_the_post(&error) || error.may_have_run() => {
            let result = ChannelResult::of_attempt(Err(error));
            let outcomes = new
                .channel_ids
                .iter()
                .map(|channel| ChannelOutcome::new(channel.clone(), result.clone()))
                .collect();
            return Ok(CreateOutcome::new(outcomes));
        }
        Err(error) => return Err(error),
    };
    Ok(match_channels(&new.channel_ids, updates))
}

/// The form of `POST updates/create.json`.
pub(crate) fn create_form(new: &NewPost) -> Result<Form> {
    if new.draft {
        return Err(Error::Unsupported {
            operation: crate::Operation::CreatePost,
            backend: crate::BackendKind::ClassicRest,
            hint: "the classic API has no drafts; create drafts through GraphQL (saveToDraft), \
                   or schedule the post and review it in Buffer's queue"
                .to_owned(),
        });
    }
    let mut form = Form::new();
    form.optional("text", new.text.as_deref())
        .list("profile_ids", new.channel_ids.iter());
    media(&mut form, &new.assets, new.link.as_ref(), "photo")?;
    form.optional("shorten", new.shorten);
    match new.when {
        When::Queue => {}
        When::Next => {
            form.flag("top", true);
        }
        When::Now => {
            form.flag("now", true);
        }
        When::At(at) => {
            form.field("scheduled_at", unix_seconds(at));
        }
    }
    Ok(form)
}

/// Many posts: the classic API has no batch, so one create per post, in order. A post whose
/// call fails gets that error on each of its channels; after a rate limit or a refused token
/// the remaining posts are not sent (they would fail the same way) and get the same error.
pub(super) async fn create_posts(
    rest: &ClassicRest,
    posts: &[NewPost],
) -> Result<Vec<CreateOutcome>> {
    if let Some(i) = posts.iter().position(|p| p.channel_ids.is_empty()) {
        return Err(Error::invalid_input(format!(
            "a new post needs at least one channel; add one with NewPost::channel (post {i} of the batch has none)"
        )));
    }
    let mut outcomes = Vec::with_capacity(posts.len());
    let mut stop: Option<Error> = None;
    for post in posts {
        let result = match &stop {
            Some(error) => Err(error.clone()),
            None => create_post(rest, post).await,
        };
        outcomes.push(match result {
            Ok(outcome) => outcome,
            Err(error) => {
                if matches!(
                    error.kind(),
                    crate::ErrorKind::RateLimited | crate::ErrorKind::Unauthorized
                ) {
                    stop = Some(error.clone());
                }
                let result = ChannelResult::of_attempt(Err(error));
                CreateOutcome::new(
                    post.channel_ids
                        .iter()
                        .map(|channel| ChannelOutcome::new(channel.clone(), result.clone()))
                        .collect(),
                )
            }
        });
    }
    Ok(outcomes)
}

/// Pairs each requested channel, in request order, with the update the answer holds for it.
/// Each update is used once, so a channel named twice needs two updates. An update that
/// cannot be read was still created, so its channel is unknown, not failed; and when some
/// update cannot be attributed (no `profile_id`), a channel left without one may be the one
/// it belongs to, so it is unknown too.
fn match_channels(channel_ids: &[ChannelId], updates: Vec<Update>) -> CreateOutcome {
    let total = updates.len();
    let mut unclaimed: Vec<(String, ChannelResult)> = updates
        .into_iter()
        .filter_map(|update| {
            let profile = update.profile_id.clone()?;
            let result = match update.into_post() {
                Ok(post) => ChannelResult::Created(post),
                Err(error) => ChannelResult::Unknown(error),
            };
            Some((profile, result))
        })
        .collect();
    let unattributable = total - unclaimed.len();
    let outcomes = channel_ids
        .iter()
        .map(|channel| {
            let claimed = unclaimed
                .iter()
                .position(|(profile, _)| profile == channel.as_str());
            let result = match claimed {
                Some(index) => unclaimed.remove(index).1,
                None if unattributable > 0 => ChannelResult::Unknown(Error::unexpected(format!(
                    "the classic API answered an update without a profile id; it may be \
                         the post of channel {channel}"
                ))),
                None => ChannelResult::Failed(Error::not_found(format!(
                    "Buffer created no post on channel {channel}: the classic API silently \
                         skips profile ids it does not know or this token cannot post to"
                ))),
            };
            ChannelOutcome::new(channel.clone(), result)
        })
        .collect();
    if unattributable > 0 || !unclaimed.is_empty() {
        tracing::debug!(
            unattributable,
            unrequested = unclaimed.len(),
            "classic create answered updates that match no requested channel"
        );
    }
    CreateOutcome::new(outcomes)
}

/// Whether a whole-request error is about the post's content (and so belongs to each
/// channel's outcome) rather than about the session: classic codes from 1003 on, except the
/// OAuth client codes 1050 and 1051.
fn is_about_the_post(error: &Error) -> bool {
    matches!(error.legacy_code(), Some(code) if code >= 1003 && !matches!(code, 1050 | 1051))
}

/// Classic edit requires `text`. When the edit keeps the text, the post is read first
/// (`GET updates/:id.json`) and its text sent back: one more request. An edit that changes
/// nothing is just that read. The edit endpoint documents `media[picture]` for an image
/// (create uses `media[photo]`), so an image and a link preview picture cannot both be set.
pub(super) async fn edit_post(rest: &ClassicRest, id: &PostId, edit: &PostEdit) -> Result<Post> {
    let (text, changes) = edit_changes(edit)?;
    let text = match text {
        Some(text) => text.to_owned(),
        None if changes.is_empty() => return post(rest, id).await,
        None => post(rest, id).await?.text,
    };
    let mut form = Form::new();
    form.field("text", text).append(changes);
    let edited: Edited = rest
        .post(
            &["updates", id.as_str(), "update"],
            &form,
            "the edited update",
        )
        .await?;
    edited
        .update
        .ok_or_else(|| {
            Error::protocol(
                None,
                "the classic API confirmed the edit without the `update` it should return",
                String::new(),
            )
        })?
        .into_post()
}

/// An edit's new text and the rest of its form, or why the classic API cannot make it: checked
/// before any request, here and by the preflight.
pub(crate) fn edit_changes(edit: &PostEdit) -> Result<(Option<&str>, Form)> {
    let text = match &edit.text {
        Patch::Set(text) => Some(text.as_str()),
        Patch::Keep => None,
        Patch::Clear => {
            return Err(Error::invalid_input(
                "the classic API cannot clear a post's text (its edit requires text); \
                 set new text instead",
            ));
        }
    };
    let cannot_remove = |what: &str| {
        Error::invalid_input(format!(
            "the classic API cannot remove {what} from a post; delete the post and create it \
             again, or use the GraphQL backend"
        ))
    };
    let assets: &[Asset] = match &edit.assets {
        Patch::Keep => &[],
        Patch::Set(assets) if !assets.is_empty() => assets,
        Patch::Set(_) | Patch::Clear => return Err(cannot_remove("media")),
    };
    let link = match &edit.link {
        Patch::Keep => None,
        Patch::Set(link) => Some(link),
        Patch::Clear => return Err(cannot_remove("a link preview")),
    };
    let mut changes = Form::new();
    media(&mut changes, assets, link, "picture")?;
    match &edit.when {
        None => {}
        Some(When::Now) => {
            changes.flag("now", true);
        }
        Some(When::At(at)) => {
            changes.field("scheduled_at", unix_seconds(*at));
        }
        Some(When::Queue | When::Next) => {
            return Err(Error::invalid_input(
                "the classic API cannot put an edited post back in the queue; to publish it \
                 next, call move_post_to_top; to publish it now, edit with When::Now",
            ));
        }
    }
    Ok((text, changes))
}

pub(super) async fn share_post(rest: &ClassicRest, id: &PostId) -> Result<()> {
    let done: Done = rest
        .post(
            &["updates", id.as_str(), "share"],
            &Form::new(),
            "a share confirmation",
        )
        .await?;
    confirmed(rest, done, "classic update shared");
    Ok(())
}

pub(super) async fn delete_post(rest: &ClassicRest, id: &PostId) -> Result<()> {
    let done: Done = rest
        .post(
            &["updates", id.as_str(), "destroy"],
            &Form::new(),
            "a delete confirmation",
        )
        .await?;
    confirmed(rest, done, "classic update deleted");
    Ok(())
}

pub(super) async fn move_post_to_top(rest: &ClassicRest, id: &PostId) -> Result<Post> {
    let update: Update = rest
        .post(
            &["updates", id.as_str(), "move_to_top"],
            &Form::new(),
            "the moved update",
        )
        .await?;
    update.into_post()
}

pub(super) async fn reorder_queue(
    rest: &ClassicRest,
    channel_id: &ChannelId,
    order: &[PostId],
    offset: Option<u32>,
) -> Result<Vec<Post>> {
    if order.is_empty() {
        return Err(Error::invalid_input(
            "reordering needs the post ids in their new order; got none",
        ));
    }
    let mut form = Form::new();
    form.optional("offset", offset).list("order", order.iter());
    queue(
        rest,
        &["profiles", channel_id.as_str(), "updates", "reorder"],
        &form,
    )
    .await
}

pub(super) async fn shuffle_queue(
    rest: &ClassicRest,
    channel_id: &ChannelId,
    count: Option<u32>,
) -> Result<Vec<Post>> {
    let mut form = Form::new();
    form.optional("count", count);
    queue(
        rest,
        &["profiles", channel_id.as_str(), "updates", "shuffle"],
        &form,
    )
    .await
}

async fn queue(rest: &ClassicRest, path: &[&str], form: &Form) -> Result<Vec<Post>> {
    let answer: Updates = rest.post(path, form, "the reordered queue").await?;
    answer.updates.into_iter().map(Update::into_post).collect()
}

/// The endpoint was historically callable without a token; the token is sent anyway.
pub(super) async fn link_shares(rest: &ClassicRest, url: &str) -> Result<u64> {
    let mut form = Form::new();
    form.field("url", url);
    let answer: Shares = rest
        .get(&["links", "shares"], &form, "a share count")
        .await?;
    answer.shares.ok_or_else(|| {
        Error::protocol(
            None,
            "the classic API's share count answer has no `shares` number",
            String::new(),
        )
    })
}

pub(super) async fn configuration(rest: &ClassicRest) -> Result<Configuration> {
    let answer: WireConfiguration = rest
        .get(
            &["info", "configuration"],
            &Form::new(),
            "the configuration",
        )
        .await?;
    Ok(answer.into_configuration())
}

/// Unix seconds rather than ISO 8601: the form the API answers in (`due_at`), the only form
/// `since` takes, and free of any timezone reading. Sub-second parts are dropped.
fn unix_seconds(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

/// Writes attachments and a link preview as `media[…]`.
///
/// Classic media holds one picture (`media[photo]` on create, `media[picture]` on edit, with
/// `media[thumbnail]` when the asset has one; the 2019 docs make it optional) or one video,
/// plus a link preview (`media[link]`, `media[title]`, `media[description]`, `media[picture]`).
/// `media[video]` is not in Buffer's documentation: it is what third-party clients send, and
/// is unconfirmed. Several assets, documents, alt text and asset titles cannot be carried and
/// are refused.
fn media(form: &mut Form, assets: &[Asset], link: Option<&Link>, image_key: &str) -> Result<()> {
    let refuse = |what: String| {
        Err(Error::invalid_input(format!(
            "the classic API cannot carry {what}; use the GraphQL backend for it"
        )))
    };
    if let Some(link) = link {
        form.field("media[link]", &link.url)
            .optional("media[title]", link.title.as_deref())
            .optional("media[description]", link.description.as_deref())
            .optional("media[picture]", link.thumbnail.as_deref());
    }
    let asset = match assets {
        [] => return Ok(()),
        [asset] => asset,
        more => {
            return refuse(format!(
                "{} attachments (it holds one image or one video per post)",
                more.len()
            ));
        }
    };
    let key = match &asset.kind {
        AssetKind::Image => format!("media[{image_key}]"),
        AssetKind::Video => "media[video]".to_owned(),
        other => return refuse(format!("a {other} attachment")),
    };
    if asset.alt_text.is_some() {
        return refuse("alt text on an image".to_owned());
    }
    if asset.title.is_some() {
        return refuse(format!(
            "a title on a {} (media[title] is the link preview's title)",
            asset.kind
        ));
    }
    if form.has(&key) {
        return refuse(
            "both an image and a link preview picture in one edit (both go in media[picture])"
                .to_owned(),
        );
    }
    form.field(key, &asset.url)
        .optional("media[thumbnail]", asset.thumbnail.as_deref());
    Ok(())
}

/// Logs Buffer's confirmation text, without a token it may have echoed: a log line is as public
/// as an error message.
fn confirmed(rest: &ClassicRest, done: Done, event: &str) {
    let message = done
        .reported()
        .message
        .map(|text| rest.credential.redact(&text));
    tracing::debug!(message = ?message, "{event}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Day;

    #[test]
    fn days_with_equal_times_form_one_group_and_paused_days_are_left_out() {
        let mut paused = Schedule::new(Day::Wed, ["12:45"]);
        paused.paused = true;
        let days = [
            Schedule::new(Day::Mon, ["12:45", "15:30"]),
            Schedule::new(Day::Tue, ["12:45", "15:30"]),
            paused,
            Schedule::new(Day::Thu, ["12:45", "15:30"]),
            Schedule::new(Day::Sat, ["09:00"]),
            Schedule::new(Day::Sun, Vec::<String>::new()),
        ];
        assert_eq!(
            schedule_form(&days).unwrap().encode(),
            "schedules[0][days][]=mon&schedules[0][days][]=tue&schedules[0][days][]=thu\
             &schedules[0][times][]=12%3A45&schedules[0][times][]=15%3A30\
             &schedules[1][days][]=sat&schedules[1][times][]=09%3A00"
        );
        assert!(schedule_form(&days[2..3]).is_err());
    }

    #[test]
    fn media_holds_one_picture_or_video_and_says_what_it_cannot_carry() {
        let mut form = Form::new();
        let image = Asset::image("https://x/a.png").with_thumbnail("https://x/t.png");
        media(&mut form, std::slice::from_ref(&image), None, "photo").unwrap();
        assert_eq!(
            form.encode(),
            "media[photo]=https%3A%2F%2Fx%2Fa.png&media[thumbnail]=https%3A%2F%2Fx%2Ft.png"
        );
        let refusals = [
            (vec![image.clone(), image.clone()], "2 attachments"),
            (
                vec![Asset::document("https://x/d.pdf", "D", "https://x/t.png")],
                "document",
            ),
            (
                vec![Asset::image("https://x/a.png").with_alt_text("A cat")],
                "alt text",
            ),
        ];
        for (assets, said) in refusals {
            let error = media(&mut Form::new(), &assets, None, "photo").unwrap_err();
            assert!(error.to_string().contains(said), "{error}");
        }
        let mut link = Link::new("https://x");
        link.thumbnail = Some("https://x/p.png".into());
        let error = media(&mut Form::new(), &[image], Some(&link), "picture").unwrap_err();
        assert!(error.to_string().contains("media[picture]"), "{error}");
    }

    #[test]
    fn each_update_answers_one_requested_channel_in_request_order() {
        let update = |id: &str, profile: Option<&str>| Update {
            id: Some(id.to_owned()),
            profile_id: profile.map(str::to_owned),
            ..Update::default()
        };
        let channels = ["a", "b", "a"].map(ChannelId::new);
        let updates = vec![
            update("u3", Some("c")),
            update("u1", Some("a")),
            update("u4", None),
            update("u2", Some("a")),
        ];
        let outcome = match_channels(&channels, updates);
        let ids: Vec<Option<&str>> = outcome
            .channels
            .iter()
            .map(|c| c.result.post().map(|p| p.id.as_str()))
            .collect();
        assert_eq!(ids, [Some("u1"), None, Some("u2")]);
        let (channel, _) = outcome.unknowns().next().unwrap();
        assert_eq!(
            channel.as_str(),
            "b",
            "u4 has no profile id: it may be b's post, so b is unknown, not failed"
        );
        let without_stray = match_channels(&channels[..2], vec![update("u1", Some("a"))]);
        let (channel, error) = without_stray.failures().next().unwrap();
        assert_eq!(
            (channel.as_str(), error.kind()),
            ("b", crate::ErrorKind::NotFound)
        );
    }

    #[test]
    fn only_content_errors_are_spread_over_channels() {
        assert!(is_about_the_post(&Error::from_legacy_code(1023, None)));
        assert!(is_about_the_post(&Error::from_legacy_code(1025, None)));
        assert!(!is_about_the_post(&Error::from_legacy_code(1001, None)));
        assert!(!is_about_the_post(&Error::from_legacy_code(1000, None)));
        assert!(!is_about_the_post(&Error::from_legacy_code(1051, None)));
        assert!(!is_about_the_post(&Error::from_status(401, None)));
    }
}
