//! The retry layer over a scripted in-memory backend: what is retried, what is reconciled,
//! and that no create ever lands twice. Time is paused, so backoffs and rate-limit waits
//! take no real time and their lengths can be checked.

use async_trait::async_trait;
use buffer_bridge::http::rate_limit::{RateLimits, RateWindow};
use buffer_bridge::model::{
    ChannelId, ChannelOutcome, ChannelResult, CreateOutcome, NewPost, Page, PageToken, Post,
    PostEdit, PostList, PostStatus, RecentPosts, Service, When,
};
use buffer_bridge::pacing::{Paced, Pacing};
use buffer_bridge::retry::{RetryPolicy, Retrying};
use buffer_bridge::{
    Backend, BackendExt, BackendKind, Error, ErrorKind, Operation, Request, Response,
};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How many recent posts the fake lists before calling its listing incomplete, as Buffer's
/// backends stop after a few pages.
const RECENT_LIMIT: usize = 200;

/// What the next call meets.
#[derive(Clone, Debug)]
enum Fault {
    /// Fails before doing anything.
    Before(Error),
    /// Does the work, then fails as if the answer was lost.
    After(Error),
    /// Does the work, then reports this error for every channel inside a successful answer
    /// (a GraphQL batch whose alias results were lost).
    AfterPerChannel(Error),
    /// Answers a listing as empty, as a lagging replica would.
    Stale,
}

#[derive(Default)]
struct State {
    posts: Vec<Post>,
    next_id: u64,
    /// One entry per call, in order; `None` is a clean call.
    script: VecDeque<Option<Fault>>,
    /// Channels that refuse every create with this error (inside a successful answer).
    refuse: HashMap<ChannelId, Error>,
    /// Channels that refuse the next create with this error.
    refuse_once: HashMap<ChannelId, Error>,
    calls: Vec<Operation>,
}

/// A small Buffer: posts per channel, a queue and a sent list, Buffer's duplicate refusal.
#[derive(Default)]
struct Fake {
    state: Mutex<State>,
}

impl Fake {
    fn script(self, faults: impl IntoIterator<Item = Option<Fault>>) -> Self {
        self.state.lock().unwrap().script.extend(faults);
        self
    }

    fn refuse(self, channel: &str, error: Error) -> Self {
        self.state
            .lock()
            .unwrap()
            .refuse
            .insert(channel.into(), error);
        self
    }

    fn refuse_once(self, channel: &str, error: Error) -> Self {
        self.state
            .lock()
            .unwrap()
            .refuse_once
            .insert(channel.into(), error);
        self
    }

    fn calls(&self) -> Vec<Operation> {
        self.state.lock().unwrap().calls.clone()
    }

    fn count(&self, operation: Operation) -> usize {
        self.calls().iter().filter(|o| **o == operation).count()
    }

    fn posts_on(&self, channel: &str) -> Vec<Post> {
        let state = self.state.lock().unwrap();
        state
            .posts
            .iter()
            .filter(|p| p.channel_id.as_str() == channel)
            .cloned()
            .collect()
    }

    fn create(state: &mut State, post: &NewPost) -> CreateOutcome {
        let mut outcomes = Vec::new();
        for channel in &post.channel_ids {
            let text = post.text.clone().unwrap_or_default();
            let result = if let Some(error) = state.refuse.get(channel) {
                Err(error.clone())
            } else if let Some(error) = state.refuse_once.remove(channel) {
                Err(error)
            } else if state
                .posts
                .iter()
                .any(|p| &p.channel_id == channel && p.text == text)
            {
                Err(Error::from_legacy_code(1025, None))
            } else {
                state.next_id += 1;
                let status = match post.when {
                    When::Now => PostStatus::Sent,
                    _ => PostStatus::Scheduled,
                };
                let mut created = Post::new(
                    format!("p{}", state.next_id),
                    channel.clone(),
                    Service::Twitter,
                    text,
                    status,
                );
                if let When::At(at) = post.when {
                    created.due_at = Some(at);
                }
                created.created_at = Some(chrono::Utc::now());
                state.posts.push(created.clone());
                Ok(created)
            };
            outcomes.push(ChannelOutcome::new(
                channel.clone(),
                ChannelResult::of_attempt(result),
            ));
        }
        CreateOutcome::new(outcomes)
    }

    fn run(state: &mut State, request: &Request) -> Result<Response, Error> {
        match request {
            Request::Channels => Ok(Response::Channels(Vec::new())),
            Request::CreatePost { post } => Ok(Response::Created(Self::create(state, post))),
            Request::CreatePosts { posts } => Ok(Response::CreatedMany(
                posts.iter().map(|post| Self::create(state, post)).collect(),
            )),
            Request::DeletePost { id } => match state.posts.iter().position(|p| &p.id == id) {
                Some(i) => {
                    state.posts.remove(i);
                    Ok(Response::Deleted)
                }
                None => Err(Error::from_legacy_code(1020, None)),
            },
            Request::EditPost { id, .. } => state
                .posts
                .iter()
                .find(|p| &p.id == id)
                .cloned()
                .map(Response::Post)
                .ok_or_else(|| Error::from_legacy_code(1020, None)),
            Request::Posts { query } => {
                let status = match query.list {
                    PostList::Sent => PostStatus::Sent,
                    _ => PostStatus::Scheduled,
                };
                let all: Vec<Post> = state
                    .posts
                    .iter()
                    .filter(|p| p.channel_id == query.channel_id && p.status == status)
                    .cloned()
                    .collect();
                let start = query.page.start() as usize;
                let size = query.page.size() as usize;
                let items: Vec<Post> = all.iter().skip(start).take(size).cloned().collect();
                let end = start + items.len();
                let next = (end < all.len()).then(|| {
                    PageToken::new(BackendKind::ClassicRest, &query.scope(), end as u64, None)
                });
                Ok(Response::Posts(Page::new(
                    items,
                    Some(all.len() as u64),
                    next,
                )))
            }
            Request::RecentPosts { channel_ids, since } => {
                let found: Vec<Post> = state
                    .posts
                    .iter()
                    .filter(|p| channel_ids.contains(&p.channel_id))
                    .filter(|p| p.created_at.is_some_and(|at| at >= *since))
                    .cloned()
                    .collect();
                let complete = found.len() <= RECENT_LIMIT;
                let read = found.into_iter().take(RECENT_LIMIT).collect();
                Ok(Response::RecentPosts(RecentPosts::new(read, complete)))
            }
            other => Err(Error::unsupported(
                other.operation(),
                BackendKind::ClassicRest,
                "not in the fake",
            )),
        }
    }
}

#[async_trait]
impl Backend for Fake {
    fn kind(&self) -> BackendKind {
        BackendKind::ClassicRest
    }

    async fn execute(&self, request: Request) -> Result<Response, Error> {
        let mut state = self.state.lock().unwrap();
        state.calls.push(request.operation());
        match state.script.pop_front().flatten() {
            None => Self::run(&mut state, &request),
            Some(Fault::Before(error)) => Err(error),
            Some(Fault::Stale) => Ok(match request {
                Request::RecentPosts { .. } => {
                    Response::RecentPosts(RecentPosts::new(Vec::new(), true))
                }
                _ => Response::Posts(Page::new(Vec::new(), Some(0), None)),
            }),
            Some(Fault::After(error)) => {
                let _ = Self::run(&mut state, &request);
                Err(error)
            }
            Some(Fault::AfterPerChannel(error)) => match Self::run(&mut state, &request)? {
                Response::Created(outcome) => Ok(Response::Created(CreateOutcome::new(
                    outcome
                        .channels
                        .into_iter()
                        .map(|c| {
                            ChannelOutcome::new(
                                c.channel_id,
                                ChannelResult::of_attempt(Err(error.clone())),
                            )
                        })
                        .collect(),
                ))),
                Response::CreatedMany(outcomes) => Ok(Response::CreatedMany(
                    outcomes
                        .into_iter()
                        .map(|outcome| {
                            CreateOutcome::new(
                                outcome
                                    .channels
                                    .into_iter()
                                    .map(|c| {
                                        ChannelOutcome::new(
                                            c.channel_id,
                                            ChannelResult::of_attempt(Err(error.clone())),
                                        )
                                    })
                                    .collect(),
                            )
                        })
                        .collect(),
                )),
                other => Ok(other),
            },
        }
    }
}

fn retrying(fake: Fake) -> Retrying<Fake> {
    Retrying::new(fake)
        .policy(
            RetryPolicy::default()
                .max_attempts(4)
                .backoff(Duration::from_millis(100), Duration::from_secs(2))
                .max_wait(Duration::from_secs(60)),
        )
        .seed(42)
}

fn server_error() -> Error {
    Error::from_status(503, Some("HTTP 503 Service Unavailable".into()))
}

fn dropped() -> Error {
    Error::transport("connection closed before the answer", None)
}

fn timeout() -> Error {
    Error::timeout(Some(Duration::from_secs(30)))
}

fn limited(seconds: u64) -> Error {
    Error::rate_limited(Some(Duration::from_secs(seconds)), "Too Many Requests.")
}

fn three_channels() -> NewPost {
    NewPost::new("Launch day").channels(["a", "b", "c"])
}

#[tokio::test(start_paused = true)]
async fn reads_retry_server_failures_drops_and_timeouts_with_backoff() {
    let backend = retrying(Fake::default().script([
        Some(Fault::Before(server_error())),
        Some(Fault::Before(dropped())),
        Some(Fault::Before(timeout())),
        None,
    ]));
    let started = Instant::now();
    backend.channels().await.unwrap();
    assert_eq!(backend.inner().count(Operation::Channels), 4);
    // Equal jitter: each wait is between half and all of its step (100, 200, 400 ms).
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(350) && waited <= Duration::from_millis(700),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn reads_give_up_after_the_last_attempt_with_the_last_error() {
    let backend = retrying(Fake::default().script(vec![Some(Fault::Before(server_error())); 10]));
    let error = backend.channels().await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(backend.inner().count(Operation::Channels), 4);
}

#[tokio::test(start_paused = true)]
async fn refusals_are_not_retried() {
    let backend =
        retrying(Fake::default().script([Some(Fault::Before(Error::from_status(401, None)))]));
    assert_eq!(
        backend.channels().await.unwrap_err().kind(),
        ErrorKind::Unauthorized
    );
    assert_eq!(backend.inner().count(Operation::Channels), 1);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_waits_as_told_and_a_longer_one_is_returned_with_its_wait() {
    let backend = retrying(Fake::default().script([Some(Fault::Before(limited(30))), None]));
    let started = Instant::now();
    backend.channels().await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(30));

    let backend = retrying(Fake::default().script([Some(Fault::Before(limited(900)))]));
    let error = backend.channels().await.unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(900)));
    assert_eq!(backend.inner().count(Operation::Channels), 1);
}

#[tokio::test(start_paused = true)]
async fn a_create_whose_answer_was_lost_is_found_not_posted_again() {
    let backend = retrying(Fake::default().script([Some(Fault::After(timeout()))]));
    let outcome = backend.create_post(&three_channels()).await.unwrap();
    assert!(outcome.is_complete(), "{outcome:?}");
    for channel in ["a", "b", "c"] {
        assert_eq!(backend.inner().posts_on(channel).len(), 1, "{channel}");
    }
    assert_eq!(
        backend.inner().count(Operation::CreatePost),
        1,
        "found, so not resent"
    );
    let created: Vec<_> = outcome.posts().map(|p| p.id.to_string()).collect();
    assert_eq!(
        created,
        ["p1", "p2", "p3"],
        "the outcome holds the posts that were found"
    );
}

#[tokio::test(start_paused = true)]
async fn a_create_that_never_arrived_is_sent_again_once() {
    let backend = retrying(Fake::default().script([Some(Fault::Before(dropped()))]));
    let outcome = backend.create_post(&three_channels()).await.unwrap();
    assert!(outcome.is_complete());
    for channel in ["a", "b", "c"] {
        assert_eq!(backend.inner().posts_on(channel).len(), 1, "{channel}");
    }
    assert_eq!(backend.inner().count(Operation::CreatePost), 2);
}

#[tokio::test(start_paused = true)]
async fn only_the_channels_whose_outcome_is_unknown_are_checked_and_resent() {
    // A GraphQL-style answer: every channel's alias lost, but the work was done on `a` and `b`
    // only, because `c` refused the first time with a transient error of its own.
    let fake = Fake::default()
        .refuse_once("c", server_error())
        .script([Some(Fault::AfterPerChannel(dropped()))]);
    let backend = retrying(fake);
    let outcome = backend.create_post(&three_channels()).await.unwrap();
    assert!(outcome.is_complete(), "{outcome:?}");
    for channel in ["a", "b", "c"] {
        assert_eq!(backend.inner().posts_on(channel).len(), 1, "{channel}");
    }
    assert_eq!(
        backend.inner().count(Operation::CreatePost),
        2,
        "one resend, for c only"
    );
}

#[tokio::test(start_paused = true)]
async fn a_batch_whose_answer_was_lost_resends_only_the_posts_that_are_missing() {
    // The batch's answer is lost; post 1's channel `b` had refused with a transient error,
    // so it alone is missing and is the only one sent again, in a batch of its own.
    let fake = Fake::default()
        .refuse_once("b", server_error())
        .script([Some(Fault::AfterPerChannel(dropped()))]);
    let backend = retrying(fake);
    let posts: Vec<NewPost> = (0..4)
        .map(|i| NewPost::new(format!("batch {i}")).channels(["a", "b"]))
        .collect();
    let outcomes = backend.create_posts(&posts).await.unwrap();
    assert_eq!(outcomes.len(), 4);
    assert!(
        outcomes.iter().all(CreateOutcome::is_complete),
        "{outcomes:?}"
    );
    for channel in ["a", "b"] {
        assert_eq!(backend.inner().posts_on(channel).len(), 4, "{channel}");
    }
    assert_eq!(backend.inner().count(Operation::CreatePosts), 2);
}

#[tokio::test(start_paused = true)]
async fn typed_refusals_inside_an_answer_stay_and_rate_limited_channels_are_resent() {
    let fake = Fake::default()
        .refuse("a", Error::from_legacy_code(1023, None))
        .refuse_once("b", limited(5));
    let backend = retrying(fake);
    let started = Instant::now();
    let outcome = backend.create_post(&three_channels()).await.unwrap();
    let results: Vec<Option<ErrorKind>> = outcome
        .channels
        .iter()
        .map(|c| c.result.error().map(Error::kind))
        .collect();
    assert_eq!(results, [Some(ErrorKind::LimitReached), None, None]);
    assert_eq!(backend.inner().count(Operation::CreatePost), 2);
    assert_eq!(
        backend.inner().count(Operation::Posts),
        0,
        "nothing was unsure"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn a_duplicate_after_an_unknown_outcome_means_the_post_exists() {
    // The first answer is lost after the work; the lookup reads stale lists (so the create is
    // resent), and the resend meets Buffer's duplicate refusal: the post is looked up again.
    let fake = Fake::default().script([
        Some(Fault::After(server_error())),
        Some(Fault::Stale),
        Some(Fault::Stale),
    ]);
    let backend = retrying(fake);
    let outcome = backend
        .create_post(&NewPost::new("Once only").channel("a"))
        .await
        .unwrap();
    assert!(outcome.is_complete(), "{outcome:?}");
    assert_eq!(backend.inner().posts_on("a").len(), 1);
    assert_eq!(backend.inner().count(Operation::CreatePost), 2);
}

#[tokio::test(start_paused = true)]
async fn out_of_attempts_the_outcome_is_still_reported_truthfully() {
    // Every create call does the work and loses the answer; with one attempt there is no
    // resend, but the lookup still reports the post as created.
    let backend = Retrying::new(Fake::default().script([Some(Fault::After(timeout()))]))
        .policy(RetryPolicy::default().max_attempts(1));
    let outcome = backend
        .create_post(&NewPost::new("hi").channel("a"))
        .await
        .unwrap();
    assert!(outcome.is_complete(), "{outcome:?}");
    assert_eq!(backend.inner().count(Operation::CreatePost), 1);
}

#[tokio::test(start_paused = true)]
async fn a_create_refused_as_a_whole_fails_every_channel_certainly_and_once() {
    // Through `Retrying`, a whole-request refusal is each channel's certain failure, so that a
    // batch whose earlier attempts created some posts keeps them in its outcome.
    let backend =
        retrying(Fake::default().script([Some(Fault::Before(Error::from_status(401, None)))]));
    let outcome = backend.create_post(&three_channels()).await.unwrap();
    for channel in &outcome.channels {
        assert!(channel.result.is_failed(), "{outcome:?}");
        assert_eq!(
            channel.result.error().map(Error::kind),
            Some(ErrorKind::Unauthorized)
        );
    }
    assert_eq!(backend.inner().count(Operation::CreatePost), 1);
    assert_eq!(
        backend.inner().count(Operation::RecentPosts),
        0,
        "nothing was unsure"
    );
    for channel in ["a", "b", "c"] {
        assert!(backend.inner().posts_on(channel).is_empty(), "{channel}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_queue_too_long_to_check_is_not_posted_to_again() {
    let fake = Fake::default();
    for i in 0..250 {
        let post = NewPost::new(format!("older {i}")).channel("a");
        Fake::create(&mut fake.state.lock().unwrap(), &post);
    }
    let backend = retrying(fake.script([Some(Fault::Before(timeout()))]));
    let outcome = backend
        .create_post(&NewPost::new("new").channel("a"))
        .await
        .unwrap();
    assert_eq!(
        outcome.channels[0].result.error().unwrap().kind(),
        ErrorKind::Timeout
    );
    assert_eq!(backend.inner().count(Operation::CreatePost), 1);
    assert!(
        outcome.channels[0].result.is_unknown(),
        "the look was incomplete, so the create stays unknown: {outcome:?}"
    );
    assert_eq!(
        backend.inner().count(Operation::RecentPosts),
        1,
        "one look at the channel's recent posts, then unsure"
    );
}

#[tokio::test(start_paused = true)]
async fn other_writes_are_never_resent_after_an_unknown_outcome() {
    let backend = retrying(Fake::default().script([Some(Fault::Before(timeout()))]));
    let error = backend
        .edit_post(&"p1".into(), &PostEdit::default().text("x"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(backend.inner().count(Operation::EditPost), 1);
    // A refusal by rate limit did nothing, so it is retried.
    let backend = retrying(Fake::default().script([Some(Fault::Before(limited(1)))]));
    let error = backend
        .edit_post(&"p1".into(), &PostEdit::default().text("x"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(backend.inner().count(Operation::EditPost), 2);
}

#[tokio::test(start_paused = true)]
async fn a_delete_whose_answer_was_lost_counts_as_done() {
    let fake = Fake::default();
    Fake::create(
        &mut fake.state.lock().unwrap(),
        &NewPost::new("bye").channel("a"),
    );
    let backend = retrying(fake.script([Some(Fault::After(server_error()))]));
    backend.delete_post(&"p1".into()).await.unwrap();
    assert_eq!(backend.inner().count(Operation::DeletePost), 2);
    assert!(backend.inner().posts_on("a").is_empty());
    // A post that never existed is still an error.
    let error = backend.delete_post(&"nope".into()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
}

/// A server that counts requests in fixed windows, as the simulator does, answering each
/// after `latency`; it reports its count in headers when `reports` is set.
struct Limited {
    limit: u64,
    window: Duration,
    latency: Duration,
    reports: bool,
    state: Mutex<LimitedState>,
}

#[derive(Default)]
struct LimitedState {
    started: Option<Instant>,
    used: u64,
    served: u64,
    refused: u64,
    last: Option<RateLimits>,
}

impl Limited {
    fn new(limit: u64, window: Duration) -> Self {
        Self {
            limit,
            window,
            latency: Duration::from_millis(50),
            reports: true,
            state: Mutex::new(LimitedState::default()),
        }
    }

    fn already_used(self, used: u64) -> Self {
        {
            let mut state = self.state.lock().unwrap();
            state.started = Some(Instant::now());
            state.used = used;
        }
        self
    }

    fn silent(mut self) -> Self {
        self.reports = false;
        self
    }

    fn counts(&self) -> (u64, u64) {
        let state = self.state.lock().unwrap();
        (state.served, state.refused)
    }
}

#[async_trait]
impl Backend for Limited {
    fn kind(&self) -> BackendKind {
        BackendKind::GraphQl
    }

    fn rate_limits(&self) -> Option<RateLimits> {
        self.state.lock().unwrap().last.clone()
    }

    async fn execute(&self, _request: Request) -> Result<Response, Error> {
        tokio::time::sleep(self.latency / 2).await;
        let verdict = {
            let mut state = self.state.lock().unwrap();
            let now = Instant::now();
            let started = match state.started {
                Some(at) if now < at + self.window => at,
                _ => {
                    state.used = 0;
                    state.started = Some(now);
                    now
                }
            };
            let reset = started + self.window - now;
            let verdict = if state.used >= self.limit {
                state.refused += 1;
                Err(Error::rate_limited(
                    Some(Duration::from_secs(reset.as_secs().max(1))),
                    "Too many requests from this client.",
                ))
            } else {
                state.used += 1;
                state.served += 1;
                Ok(Response::Channels(Vec::new()))
            };
            if self.reports {
                let mut window = RateWindow::default();
                window.window = Some(self.window);
                window.limit = Some(self.limit);
                window.remaining = Some(self.limit - state.used);
                window.reset_after = Some(Duration::from_secs(reset.as_secs()));
                let mut limits = RateLimits::default();
                limits.windows.push(window);
                state.last = Some(limits);
            }
            verdict
        };
        tokio::time::sleep(self.latency / 2).await;
        verdict
    }
}

/// Sends `n` reads at once through `backend`; how many failed.
async fn burst<B: Backend>(backend: &B, n: usize) -> usize {
    let calls = (0..n).map(|_| backend.channels());
    futures::future::join_all(calls)
        .await
        .into_iter()
        .filter(Result::is_err)
        .count()
}

const FIFTEEN_MINUTES: Duration = Duration::from_secs(900);

#[tokio::test(start_paused = true)]
async fn pacing_finishes_a_long_burst_without_a_429_in_the_least_time() {
    // Waits of up to two windows are what this test is about: allow them.
    let backend = Paced::with(
        Limited::new(100, FIFTEEN_MINUTES).silent(),
        Pacing::none()
            .quota(100, FIFTEEN_MINUTES)
            .max_wait(3 * FIFTEEN_MINUTES),
    );
    let started = Instant::now();
    assert_eq!(burst(&backend, 250).await, 0);
    assert_eq!(backend.inner().counts(), (250, 0), "served, refused");
    // Requests 101-200 cannot start before 15 minutes, 201-250 before 30: the least time
    // is two windows, plus a few answers' latency.
    let took = started.elapsed();
    assert!(took >= 2 * FIFTEEN_MINUTES, "{took:?}");
    assert!(
        took <= 2 * FIFTEEN_MINUTES + Duration::from_secs(2),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn pacing_follows_the_servers_count_of_requests_made_elsewhere() {
    // Another process already spent 95 of the window: the first answer's headers say so,
    // and the rest of the burst waits for the reset instead of meeting 429s.
    let backend = Paced::with(
        Limited::new(100, FIFTEEN_MINUTES).already_used(95),
        Pacing::graphql().max_wait(2 * FIFTEEN_MINUTES),
    );
    assert_eq!(burst(&backend, 40).await, 0);
    assert_eq!(backend.inner().counts(), (40, 0));
}

#[tokio::test(start_paused = true)]
async fn retries_over_pacing_absorb_a_limit_stricter_than_configured() {
    // The server allows 10 a minute and says nothing in headers; pacing believes 100 a
    // minute, so some requests meet 429s: retries wait them out and every read succeeds.
    let minute = Duration::from_secs(60);
    let backend = Retrying::new(Paced::with(
        Limited::new(10, minute).silent(),
        Pacing::none().quota(100, minute),
    ))
    .policy(RetryPolicy::default().max_attempts(5).max_wait(minute))
    .seed(1);
    assert_eq!(burst(&backend, 30).await, 0);
    let (served, refused) = backend.inner().inner().counts();
    assert_eq!(served, 30);
    // The first wave (29 after the probe) overruns by 20; the 20 retried after the wait
    // overrun by 10; the last 10 fit. Every 429 stops the whole client until the reset.
    assert_eq!(refused, 30);
}
