//! The classic REST API (`/1/…​.json`): routing, auth, rate limit and each endpoint, with the
//! response shapes and numeric error codes the classic API used.

mod form;
mod render;

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Value, json};

use crate::limits::Limiter;
use crate::log::Api;
use crate::model::{Asset, AssetKind, Day, DaySchedule, Post, PostStatus, Service};
use crate::network_rules;
use crate::paging::offset_page;
use crate::reply::Reply;
use crate::store::{NewPost, PostEdit, SimError, State, Store, StoreConfig, When};
use form::Params;

/// What the classic API answers a request without a token: 401, no body, a realm header.
const WWW_AUTHENTICATE: &str = "OAuth realm='Service', error='invalid_request', error_description='The request is missing a required parameter, includes an unsupported parameter or parameter value, repeats the same parameter, uses more than one method for including an access token, or is otherwise malformed.'";

/// A classic error: HTTP status, numeric code, message.
struct Failure {
    status: u16,
    code: u16,
    message: String,
}

impl Failure {
    fn new(status: u16, code: u16, message: &str) -> Self {
        Self {
            status,
            code,
            message: message.to_owned(),
        }
    }

    fn missing() -> Self {
        Self::new(400, 1004, "Required parameter missing.")
    }

    fn bounds() -> Self {
        Self::new(400, 1006, "Parameter value not within bounds.")
    }

    fn reply(&self) -> Reply {
        Reply::json(
            self.status,
            &json!({ "success": false, "code": self.code, "error": self.message }),
        )
    }
}

impl From<SimError> for Failure {
    fn from(error: SimError) -> Self {
        match error {
            SimError::ChannelNotFound | SimError::OrganizationNotFound => {
                Failure::new(404, 1010, "Profile could not be found.")
            }
            SimError::ChannelForbidden => {
                Failure::new(403, 1011, "No authorization to access profile.")
            }
            SimError::PostNotFound => Failure::new(404, 1020, "Update could not be found."),
            SimError::PostForbidden => {
                Failure::new(403, 1021, "No authorization to access update.")
            }
            SimError::Duplicate => Failure::new(
                400,
                1025,
                "Update was recently posted, can't post duplicate content.",
            ),
            SimError::QueueLimit => {
                Failure::new(403, 1023, "Update limit for profile has been reached.")
            }
            SimError::PastSchedule => {
                Failure::new(400, 1034, "Cannot schedule updates in the past.")
            }
            SimError::NotMovable => Failure::new(
                400,
                1027,
                "Update must be in buffer and not custom scheduled in order to move to top.",
            ),
            SimError::NotEditable(_) => {
                Failure::new(400, 1022, "Update did not save successfully.")
            }
            SimError::Missing(_) => Failure::missing(),
            // The code's text may be more specific than the table's (rest-v1.md §1.2): the
            // simulator says which limit, in the rules table's words.
            SimError::OutOfBounds(why) => Failure::new(400, 1006, &why),
            SimError::ScheduleLimit => Failure::new(403, 1013, "Profile schedule limit reached."),
            SimError::Invalid(message) => Failure::new(400, 1004, &message),
        }
    }
}

type Outcome = Result<Value, Failure>;

/// One classic request, already read off the wire.
pub(crate) struct RestRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    /// The `Authorization: Bearer` token, if any.
    pub(crate) bearer: Option<&'a str>,
    pub(crate) body: &'a [u8],
}

/// Answers one classic request.
pub(crate) fn handle(store: &Store, limiter: &Limiter, request: &RestRequest<'_>) -> Reply {
    let params = Params::parse(request.query, request.body);
    let pretty = params.flag("pretty");
    let Some(route) = request.path.strip_prefix("/1/") else {
        return Failure::new(404, 404, "Endpoint not found.").reply();
    };
    let Some(route) = route.strip_suffix(".json") else {
        return Failure::new(406, 1005, "Unsupported response format.").reply();
    };
    let segments: Vec<&str> = route.split('/').collect();
    let Some(endpoint) = Endpoint::find(&segments) else {
        return Failure::new(404, 404, "Endpoint not found.").reply();
    };
    if endpoint.method != request.method {
        return Failure::new(405, 405, "Method not allowed.").reply();
    }
    let token = request.bearer.or_else(|| params.text("access_token"));
    let account = match token {
        None if endpoint.anonymous => None,
        None => return unauthenticated(),
        Some(token) => match account_of(store, token) {
            Ok(id) => Some(id),
            Err(failure) => return failure.reply(),
        },
    };
    if let Some(token) = token {
        let verdict = limiter.check(Api::Rest, token);
        if verdict.exceeded.is_some() {
            return Failure::new(429, 429, "Too Many Requests.").reply();
        }
    }
    let account = account.unwrap_or_default();
    let outcome = store.with(|state, now, config| {
        let ctx = Ctx {
            state,
            now,
            config,
            account: &account,
            params: &params,
            id: endpoint
                .pattern
                .iter()
                .zip(&segments)
                .find(|(pattern, _)| **pattern == ":id")
                .map_or("", |(_, segment)| *segment),
        };
        (endpoint.run)(ctx)
    });
    match outcome {
        Ok(body) => Reply::json_with(200, &body, pretty),
        Err(failure) => failure.reply(),
    }
}

/// The classic 401: no body, a realm header.
pub(crate) fn unauthenticated() -> Reply {
    Reply::empty(401).header("www-authenticate", WWW_AUTHENTICATE)
}

/// The account a token belongs to, unless it is unknown or revoked (403, code 1001).
fn account_of(store: &Store, token: &str) -> Result<String, Failure> {
    store
        .with(|state, _, _| {
            state
                .account_by_token(token)
                .filter(|a| !a.access_revoked)
                .map(|a| a.id.clone())
        })
        .ok_or_else(|| Failure::new(403, 1001, "Access token required."))
}

/// The refusal a request earns from its head alone: a known endpoint whose token (header or
/// query) is unknown. `None` when the body must be read first: the route is wrong (answered
/// after), or there is no token outside the form body, which may carry one.
pub(crate) fn refusal_before_body(
    store: &Store,
    method: &str,
    path: &str,
    query: &str,
    bearer: Option<&str>,
) -> Option<Reply> {
    let route = path.strip_prefix("/1/")?.strip_suffix(".json")?;
    let segments: Vec<&str> = route.split('/').collect();
    Endpoint::find(&segments).filter(|e| e.method == method)?;
    let params = Params::parse(query, &[]);
    let token = bearer.or_else(|| params.text("access_token"))?;
    account_of(store, token)
        .err()
        .map(|failure| failure.reply())
}

/// Whether the request head (the `Authorization` header or the query string) names a token;
/// without one, only the form body can.
pub(crate) fn token_in_head(query: &str, bearer: Option<&str>) -> bool {
    bearer.is_some() || Params::parse(query, &[]).text("access_token").is_some()
}

struct Ctx<'a> {
    state: &'a mut State,
    now: DateTime<Utc>,
    config: &'a StoreConfig,
    account: &'a str,
    params: &'a Params,
    /// The `:id` segment of the path, if the route has one.
    id: &'a str,
}

impl Ctx<'_> {
    fn id(&self) -> &str {
        self.id
    }

    fn utc(&self) -> bool {
        self.params.flag("utc")
    }

    fn update(&self, post: &crate::model::Post) -> Value {
        let channel = self.state.channels.iter().find(|c| c.id == post.channel_id);
        render::update(post, channel, self.now, self.utc())
    }

    fn updates(&self, posts: &[crate::model::Post]) -> Value {
        Value::Array(posts.iter().map(|p| self.update(p)).collect())
    }

    /// `buffer_count` and `buffer_percentage` of a create or edit answer.
    fn buffer_fill(&self, channel_id: &str) -> (usize, usize) {
        let count = self.state.pending(channel_id).len();
        (count, count * 100 / self.config.queue_limit.max(1))
    }
}

/// One route: method, path pattern (`:id` matches an id), handler.
struct Endpoint {
    method: &'static str,
    pattern: &'static [&'static str],
    anonymous: bool,
    run: fn(Ctx<'_>) -> Outcome,
}

const fn get(pattern: &'static [&'static str], run: fn(Ctx<'_>) -> Outcome) -> Endpoint {
    Endpoint {
        method: "GET",
        pattern,
        anonymous: false,
        run,
    }
}

const fn post(pattern: &'static [&'static str], run: fn(Ctx<'_>) -> Outcome) -> Endpoint {
    Endpoint {
        method: "POST",
        pattern,
        anonymous: false,
        run,
    }
}

/// Every classic endpoint. Literal segments are listed before `:id` so `updates/create`
/// is not read as an update id.
const ENDPOINTS: &[Endpoint] = &[
    get(&["user"], user),
    post(&["user", "deauthorize"], deauthorize),
    get(&["profiles"], profiles),
    get(&["profiles", ":id"], profile),
    get(&["profiles", ":id", "schedules"], schedules),
    post(
        &["profiles", ":id", "schedules", "update"],
        update_schedules,
    ),
    get(&["profiles", ":id", "updates", "pending"], pending),
    get(&["profiles", ":id", "updates", "sent"], sent),
    post(&["profiles", ":id", "updates", "reorder"], reorder),
    post(&["profiles", ":id", "updates", "shuffle"], shuffle),
    post(&["updates", "create"], create),
    get(&["updates", ":id"], show_update),
    get(&["updates", ":id", "interactions"], interactions),
    post(&["updates", ":id", "update"], edit),
    post(&["updates", ":id", "share"], share),
    post(&["updates", ":id", "destroy"], destroy),
    post(&["updates", ":id", "move_to_top"], move_to_top),
    Endpoint {
        method: "GET",
        pattern: &["links", "shares"],
        anonymous: true,
        run: shares,
    },
    get(&["info", "configuration"], configuration),
];

impl Endpoint {
    /// The endpoint whose pattern matches; a literal match wins over `:id`.
    fn find(segments: &[&str]) -> Option<&'static Endpoint> {
        let fits = |e: &&Endpoint, literal_only: bool| {
            e.pattern.len() == segments.len()
                && e.pattern
                    .iter()
                    .zip(segments)
                    .all(|(p, s)| *p == *s || (!literal_only && *p == ":id" && !s.is_empty()))
        };
        ENDPOINTS
            .iter()
            .find(|e| fits(e, true))
            .or_else(|| ENDPOINTS.iter().find(|e| fits(e, false)))
    }
}

fn user(ctx: Ctx<'_>) -> Outcome {
    let account = ctx
        .state
        .accounts
        .iter()
        .find(|a| a.id == ctx.account)
        .ok_or_else(|| Failure::new(403, 1001, "Access token required."))?;
    Ok(render::user(account, ctx.now))
}

fn deauthorize(ctx: Ctx<'_>) -> Outcome {
    ctx.state.revoke_access(ctx.account);
    Ok(json!({ "success": true, "message": "Access successfully revoked!" }))
}

fn profiles(ctx: Ctx<'_>) -> Outcome {
    let channels = ctx.state.channels_of(ctx.account);
    Ok(Value::Array(
        channels
            .iter()
            .map(|c| render::profile(c, &ctx.state.posts, ctx.account))
            .collect(),
    ))
}

fn profile(ctx: Ctx<'_>) -> Outcome {
    let channel = ctx.state.channel_for(ctx.account, ctx.id())?;
    Ok(render::profile(channel, &ctx.state.posts, ctx.account))
}

fn schedules(ctx: Ctx<'_>) -> Outcome {
    Ok(render::schedules(
        ctx.state.channel_for(ctx.account, ctx.id())?,
    ))
}

fn update_schedules(ctx: Ctx<'_>) -> Outcome {
    let mut groups: std::collections::BTreeMap<usize, (Vec<String>, Vec<String>)> =
        Default::default();
    for (segments, value) in ctx.params.nested("schedules") {
        let (Some(index), Some(field)) = (
            segments.first().and_then(|s| s.parse::<usize>().ok()),
            segments.get(1),
        ) else {
            return Err(Failure::bounds());
        };
        let group = groups.entry(index).or_default();
        match field.as_str() {
            "days" => group.0.push(value),
            "times" => group.1.push(value),
            _ => return Err(Failure::new(400, 1003, "Parameter not recognized.")),
        }
    }
    if groups.is_empty() {
        return Err(Failure::missing());
    }
    let mut week: Vec<DaySchedule> = Vec::new();
    for (days, times) in groups.into_values() {
        if times
            .iter()
            .any(|t| crate::schedule::parse_time(t).is_none())
        {
            return Err(Failure::bounds());
        }
        for day in days {
            let day = Day::parse(&day).ok_or_else(Failure::bounds)?;
            let entry = match week.iter_mut().find(|e| e.day == day) {
                Some(entry) => entry,
                None => {
                    week.push(DaySchedule {
                        day,
                        times: Vec::new(),
                        paused: false,
                    });
                    week.last_mut().ok_or_else(Failure::bounds)?
                }
            };
            entry.times.extend(times.iter().cloned());
            entry.times.sort();
            entry.times.dedup();
        }
    }
    let id = ctx.id().to_owned();
    ctx.state
        .update_schedule(ctx.account, &id, week, ctx.now, ctx.config)?;
    Ok(json!({ "success": true }))
}

/// `page` (from 1) and `count` (1 to 100, default 10).
fn page_window(params: &Params) -> Result<(usize, usize), Failure> {
    let number = |key: &str, default: usize| match params.text(key) {
        None => Ok(default),
        Some(v) => v.parse::<usize>().map_err(|_| Failure::bounds()),
    };
    let (page, count) = (number("page", 1)?, number("count", 10)?);
    if page == 0 || !(1..=100).contains(&count) {
        return Err(Failure::bounds());
    }
    Ok((page, count))
}

fn since(params: &Params) -> Result<Option<i64>, Failure> {
    params
        .text("since")
        .map(|v| v.parse::<i64>().map_err(|_| Failure::bounds()))
        .transpose()
}

/// One classic page of `posts` sorted stably by `order` (ties keep the iteration order): only
/// that page is cloned and rendered.
fn paged<'p>(
    ctx: &Ctx<'_>,
    posts: impl Iterator<Item = &'p Post> + Clone,
    order: impl Fn(&Post, &Post) -> Ordering,
) -> Outcome {
    let (page, count) = page_window(ctx.params)?;
    let total = posts.clone().count();
    let skip = (page - 1).saturating_mul(count);
    let slice: Vec<Post> = offset_page(posts.enumerate(), skip, count, |(i, a), (j, b)| {
        order(a, b).then(i.cmp(j))
    })
    .into_iter()
    .map(|(_, post)| post.clone())
    .collect();
    Ok(json!({ "total": total, "updates": ctx.updates(&slice) }))
}

fn pending(ctx: Ctx<'_>) -> Outcome {
    ctx.state.channel_for(ctx.account, ctx.id())?;
    let since = since(ctx.params)?;
    // At most the queue limit, already in publishing order.
    let queue = ctx.state.pending(ctx.id());
    let posts = queue
        .iter()
        .filter(|p| since.is_none_or(|s| p.created_at.timestamp() > s));
    paged(&ctx, posts, |_, _| Ordering::Equal)
}

fn sent(ctx: Ctx<'_>) -> Outcome {
    ctx.state.channel_for(ctx.account, ctx.id())?;
    let since = since(ctx.params)?;
    let posts = ctx
        .state
        .posts
        .iter()
        .filter(|p| p.channel_id == ctx.id() && p.status == PostStatus::Sent)
        .filter(|p| since.is_none_or(|s| p.sent_at.is_some_and(|t| t.timestamp() > s)));
    paged(&ctx, posts, |a, b| {
        b.sent_at
            .cmp(&a.sent_at)
            .then_with(|| b.created_at.cmp(&a.created_at))
    })
}

fn reorder(ctx: Ctx<'_>) -> Outcome {
    let order = ctx.params.list("order");
    if order.is_empty() {
        return Err(Failure::missing());
    }
    let offset = match ctx.params.text("offset") {
        None => 0,
        Some(v) => v.parse::<usize>().map_err(|_| Failure::bounds())?,
    };
    let id = ctx.id().to_owned();
    let posts = ctx
        .state
        .reorder(ctx.account, &id, &order, offset, ctx.now)?;
    Ok(json!({ "success": true, "updates": ctx.updates(&posts) }))
}

fn shuffle(ctx: Ctx<'_>) -> Outcome {
    let count = match ctx.params.text("count") {
        None => None,
        Some(v) => Some(
            v.parse::<usize>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(Failure::bounds)?,
        ),
    };
    let id = ctx.id().to_owned();
    let mut posts = ctx.state.shuffle_queue(ctx.account, &id, ctx.now)?;
    if let Some(count) = count {
        posts.truncate(count);
    }
    Ok(json!({ "success": true, "updates": ctx.updates(&posts) }))
}

/// `media[...]` as assets: `photo` an image, `video` a video, `link` a link preview. `picture`
/// is the link preview's picture beside a `link` (the documented preview fields), and the image
/// without one (the edit endpoint's name for it).
fn media_assets(params: &Params) -> Vec<Asset> {
    let media = params.map("media");
    let field = |name: &str| {
        media
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let link = field("link");
    let picture = field("picture");
    let (image, preview_picture) = match (field("photo"), &link) {
        (Some(photo), _) => (Some(photo), picture),
        (None, None) => (picture, None),
        (None, Some(_)) => (None, picture),
    };
    let mut assets = Vec::new();
    if let Some(url) = image {
        assets.push(Asset {
            kind: AssetKind::Image,
            url,
            thumbnail: field("thumbnail"),
            title: None,
            description: None,
        });
    }
    if let Some(url) = field("video") {
        assets.push(Asset {
            kind: AssetKind::Video,
            url,
            thumbnail: field("thumbnail"),
            title: None,
            description: None,
        });
    }
    if let Some(url) = link {
        assets.push(Asset {
            kind: AssetKind::Link,
            url,
            thumbnail: preview_picture,
            title: field("title"),
            description: field("description"),
        });
    }
    assets
}

/// `retweet[tweet_id]` (and `retweet[comment]`) as a retweet asset.
fn retweet(params: &Params) -> Option<Asset> {
    let fields = params.map("retweet");
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    Some(Asset {
        kind: AssetKind::Retweet,
        url: field("tweet_id")?,
        thumbnail: None,
        title: None,
        description: field("comment"),
    })
}

/// `scheduled_at`: unix seconds, or ISO 8601 (UTC when it has no offset).
fn scheduled_at(params: &Params) -> Result<Option<DateTime<Utc>>, Failure> {
    let Some(value) = params.text("scheduled_at") else {
        return Ok(None);
    };
    if let Ok(seconds) = value.parse::<i64>() {
        return DateTime::from_timestamp(seconds, 0)
            .map(Some)
            .ok_or_else(Failure::bounds);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
    .map(|naive| Some(naive.and_utc()))
    .ok_or_else(Failure::bounds)
}

/// `scheduled_at` wins over `now`, which wins over `top`.
fn when(params: &Params) -> Result<When, Failure> {
    Ok(match scheduled_at(params)? {
        Some(at) => When::At(at),
        None if params.flag("now") => When::Now,
        None if params.flag("top") => When::Next,
        None => When::Queue,
    })
}

fn create(ctx: Ctx<'_>) -> Outcome {
    let requested = ctx.params.list("profile_ids");
    if requested.is_empty() {
        return Err(Failure::missing());
    }
    // Unknown profile ids are silently ignored, as the classic docs say.
    let mut channel_ids = Vec::new();
    for id in requested {
        match ctx.state.channel_for(ctx.account, &id) {
            Ok(_) if !channel_ids.contains(&id) => channel_ids.push(id),
            Ok(_) | Err(SimError::ChannelNotFound) => {}
            Err(other) => return Err(other.into()),
        }
    }
    let Some(first) = channel_ids.first().cloned() else {
        return Err(SimError::ChannelNotFound.into());
    };
    let when = when(ctx.params)?;
    let text = ctx.params.get("text").unwrap_or_default();
    let assets = media_assets(ctx.params);
    let retweet = retweet(ctx.params);
    let mut entries: Vec<NewPost> = channel_ids
        .iter()
        .map(|id| {
            let mut assets = assets.clone();
            // A retweet applies to Twitter profiles and is silently ignored for others.
            let on_twitter = ctx
                .state
                .channels
                .iter()
                .any(|c| c.id == *id && c.service == Service::Twitter);
            if let (Some(retweet), true) = (&retweet, on_twitter) {
                assets.push(retweet.clone());
            }
            NewPost {
                assets,
                ..NewPost::new(id, text, when)
            }
        })
        .collect();
    for entry in &mut entries {
        network_rules::check_classic_create(ctx.state, entry)?;
    }
    let posts = ctx
        .state
        .create_posts(ctx.account, entries, ctx.now, ctx.config)?;
    let (count, percentage) = ctx.buffer_fill(&first);
    Ok(json!({
        "success": true,
        "buffer_count": count,
        "buffer_percentage": percentage,
        "updates": ctx.updates(&posts),
    }))
}

fn show_update(ctx: Ctx<'_>) -> Outcome {
    let post = ctx.state.post_for(ctx.account, ctx.id())?;
    Ok(ctx.update(post))
}

fn interactions(ctx: Ctx<'_>) -> Outcome {
    let post = ctx.state.post_for(ctx.account, ctx.id())?;
    let event = ctx.params.text("event").ok_or_else(Failure::missing)?;
    const EVENTS: &[&str] = &[
        "retweet", "favorite", "like", "comment", "mention", "reshare",
    ];
    let event = event.trim_end_matches('s');
    if !EVENTS.contains(&event) {
        return Err(Failure::new(400, 1029, "Event type not supported."));
    }
    let (page, count) = page_window(ctx.params)?;
    let service = ctx
        .state
        .channels
        .iter()
        .find(|c| c.id == post.channel_id)
        .map(|c| c.service);
    let found = match (post.status, service) {
        (PostStatus::Sent, Some(service)) => {
            let skip = (page - 1).saturating_mul(count);
            render::interactions(post, service, event, skip, count)
        }
        _ => None,
    };
    let (total, items) = found.unwrap_or_default();
    Ok(json!({ "total": total, "interactions": items }))
}

fn edit(ctx: Ctx<'_>) -> Outcome {
    let text = ctx
        .params
        .get("text")
        .ok_or_else(Failure::missing)?
        .to_owned();
    let scheduled = scheduled_at(ctx.params)?;
    let when = match scheduled {
        Some(at) => Some(When::At(at)),
        None if ctx.params.flag("now") => Some(When::Now),
        None => None,
    };
    let assets = media_assets(ctx.params);
    let edit = PostEdit {
        text: Some(text),
        when,
        assets: (!assets.is_empty()).then_some(assets),
        ..PostEdit::default()
    };
    let id = ctx.id().to_owned();
    let post = ctx
        .state
        .edit_post(ctx.account, &id, edit, ctx.now, ctx.config)?;
    let (count, percentage) = ctx.buffer_fill(&post.channel_id);
    Ok(json!({
        "success": true,
        "buffer_count": count,
        "buffer_percentage": percentage,
        "update": ctx.update(&post),
    }))
}

fn share(ctx: Ctx<'_>) -> Outcome {
    let id = ctx.id().to_owned();
    ctx.state.share_now(ctx.account, &id, ctx.now)?;
    Ok(json!({ "success": true }))
}

fn destroy(ctx: Ctx<'_>) -> Outcome {
    let id = ctx.id().to_owned();
    ctx.state.delete_post(ctx.account, &id, ctx.now)?;
    Ok(json!({ "success": true, "message": "Update deleted successfully" }))
}

fn move_to_top(ctx: Ctx<'_>) -> Outcome {
    let id = ctx.id().to_owned();
    let post = ctx.state.move_in_queue(ctx.account, &id, true, ctx.now)?;
    Ok(ctx.update(&post))
}

fn shares(ctx: Ctx<'_>) -> Outcome {
    let url = ctx.params.text("url").ok_or_else(Failure::missing)?;
    let shares = ctx
        .state
        .posts
        .iter()
        .filter(|p| p.text.contains(url) || p.assets.iter().any(|a| a.url == url))
        .count();
    Ok(json!({ "shares": shares }))
}

fn configuration(ctx: Ctx<'_>) -> Outcome {
    Ok(render::configuration(ctx.config.schedule_limit))
}
