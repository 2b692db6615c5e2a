//! The shadow layer on fake in-memory backends: the caller always gets the primary's answer,
//! writes never reach a non-sandbox candidate, and comparisons are reported with correct paths.

use async_trait::async_trait;
use buffer_bridge::model::{
    Account, Channel, NewPost, Page, PageToken, Post, PostList, PostQuery, PostStatus, Service,
};
use buffer_bridge::shadow::{
    Comparator, JsonLinesReporter, MemoryReporter, Sample, Shadow, Verdict,
};
use buffer_bridge::{
    Backend, BackendExt, BackendKind, Error, ErrorKind, Operation, Request, Response, Result,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Counts the bytes this test binary holds and the most it has held, so that a test can bound
/// what the shadow costs in memory (other tests running beside it add a little).
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn held(grown: usize) {
    let now = HELD.fetch_add(grown, Ordering::Relaxed) + grown;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call goes straight to the system allocator; the counters only observe it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            held(layout.size());
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        unsafe { System.dealloc(block, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(block, layout, size) };
        if !moved.is_null() {
            HELD.fetch_sub(layout.size(), Ordering::Relaxed);
            held(size);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `work` and returns how many bytes above what was held before it the process peaked at.
async fn peak_growth(work: impl std::future::Future<Output = ()>) -> usize {
    let before = HELD.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    work.await;
    PEAK.load(Ordering::Relaxed).saturating_sub(before)
}

// Ids and names from the recorded classic bodies in the reference (profiles, updates).
const CHANNEL: &str = "4eb854340acb04e870000010";
const POST: &str = "4ec93ae4512f7e6307000002";

/// How a fake backend answers a request.
type Answer = Box<dyn Fn(&Request) -> Result<Response> + Send + Sync>;

/// What a fake backend does when called.
#[derive(Clone, Copy)]
enum Behaviour {
    Answer,
    Fail,
    Hang,
    Panic,
}

/// A backend answering from a function, counting calls, optionally slow, failing or hanging.
struct Fake {
    kind: BackendKind,
    behaviour: Behaviour,
    delay: Duration,
    answer: Answer,
    calls: AtomicUsize,
    seen: Mutex<Vec<Operation>>,
}

impl Fake {
    fn new(
        kind: BackendKind,
        answer: impl Fn(&Request) -> Result<Response> + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            behaviour: Behaviour::Answer,
            delay: Duration::ZERO,
            answer: Box::new(answer),
            calls: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
        }
    }

    fn behaving(mut self, behaviour: Behaviour) -> Self {
        self.behaviour = behaviour;
        self
    }

    fn slow(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Backend for Fake {
    fn kind(&self) -> BackendKind {
        self.kind
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.seen.lock().unwrap().push(request.operation());
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        match self.behaviour {
            Behaviour::Answer => (self.answer)(&request),
            Behaviour::Fail => Err(Error::of_kind(
                ErrorKind::Transport,
                "connection reset by the candidate".into(),
                None,
            )),
            Behaviour::Hang => futures::future::pending().await,
            Behaviour::Panic => panic!("candidate blew up"),
        }
    }
}

fn channel(name: &str) -> Channel {
    let mut channel = Channel::new(CHANNEL, Service::Twitter, name);
    channel.timezone = Some("Europe/London".into());
    channel
}

fn queued_post(status: PostStatus) -> Post {
    Post::new(
        POST,
        CHANNEL,
        Service::Twitter,
        "This is me in an alternate life where i can breakdance j.mp/w...",
        status,
    )
}

/// Answers every read like the classic API would for the reference account.
fn classic(request: &Request) -> Result<Response> {
    Ok(match request {
        Request::Account => {
            let mut account = Account::new("4f0c0a06512f7ef214000000");
            account.plan = Some("free".into());
            account.timezone = Some("Asia/Tel_Aviv".into());
            Response::Account(account)
        }
        Request::Channels => Response::Channels(vec![channel("skinnyoteam")]),
        Request::Posts { query } => Response::Posts(Page::new(
            vec![queued_post(PostStatus::Scheduled)],
            Some(8),
            Some(PageToken::new(
                BackendKind::ClassicRest,
                &query.scope(),
                1,
                None,
            )),
        )),
        Request::CreatePost { .. } => {
            Response::Created(buffer_bridge::model::CreateOutcome::new(Vec::new()))
        }
        _ => {
            return Err(Error::of_kind(
                ErrorKind::NotFound,
                "Update could not be found.".into(),
                Some(1020),
            ));
        }
    })
}

/// Like [`classic`], as GraphQL would: no plan, an email, no total, its own page tokens.
fn graphql(request: &Request) -> Result<Response> {
    Ok(match request {
        Request::Account => {
            let mut account = Account::new("4f0c0a06512f7ef214000000");
            account.email = Some("someone@example.com".into());
            account.timezone = Some("Asia/Tel_Aviv".into());
            Response::Account(account)
        }
        Request::Posts { query } => Response::Posts(Page::new(
            vec![queued_post(PostStatus::Scheduled)],
            None,
            Some(PageToken::new(
                BackendKind::GraphQl,
                &query.scope(),
                1,
                Some("YXJyYXljb25uZWN0aW9uOjA=".into()),
            )),
        )),
        other => return classic(other),
    })
}

fn backends(candidate: Fake) -> (Arc<Fake>, Arc<Fake>) {
    (
        Arc::new(Fake::new(BackendKind::ClassicRest, classic)),
        Arc::new(candidate),
    )
}

fn shadow(primary: &Arc<Fake>, candidate: &Arc<Fake>, reporter: &MemoryReporter) -> Shadow {
    Shadow::builder(primary.clone(), candidate.clone())
        .reporter(reporter.clone())
        .candidate_timeout(Duration::from_millis(100))
        .build()
}

fn json(response: &Result<impl serde::Serialize>) -> String {
    match response {
        Ok(value) => serde_json::to_string(value).unwrap(),
        Err(error) => format!("error: {error}"),
    }
}

#[tokio::test]
async fn the_caller_gets_the_primarys_answer_whatever_the_candidate_does() {
    for behaviour in [Behaviour::Fail, Behaviour::Hang, Behaviour::Panic] {
        let (primary, candidate) =
            backends(Fake::new(BackendKind::GraphQl, graphql).behaving(behaviour));
        let reporter = MemoryReporter::new();
        let shadow = shadow(&primary, &candidate, &reporter);

        let expected = json(&primary.channels().await);
        // A hanging candidate must not hold the caller: bound the wait far above any answer.
        let answer = tokio::time::timeout(Duration::from_secs(5), shadow.channels())
            .await
            .expect("the shadow waited for its candidate");
        assert_eq!(json(&answer), expected);

        shadow.settled().await;
        let reports = reporter.take();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].verdict(), Verdict::Failed);
        let detail = reports[0].outcome.detail.clone().unwrap_or_default();
        let wanted = match behaviour {
            Behaviour::Fail => "connection reset",
            Behaviour::Hang => "no answer",
            _ => "panicked: candidate blew up",
        };
        assert!(detail.contains(wanted), "{detail}");
    }
}

#[tokio::test]
async fn a_slow_candidate_does_not_delay_the_caller() {
    let (primary, candidate) =
        backends(Fake::new(BackendKind::GraphQl, graphql).slow(Duration::from_secs(3600)));
    let reporter = MemoryReporter::new();
    let shadow = Shadow::builder(primary.clone(), candidate.clone())
        .reporter(reporter.clone())
        .candidate_timeout(Duration::from_secs(3600))
        .build();
    let answer = tokio::time::timeout(Duration::from_secs(5), shadow.account()).await;
    assert!(answer.expect("the caller waited for the candidate").is_ok());
    // The candidate's task starts alongside; give it the turn it had not had yet.
    tokio::time::timeout(Duration::from_secs(5), async {
        while candidate.calls() == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the candidate never started");
    assert!(reporter.comparisons().is_empty(), "nothing compared yet");
}

/// A candidate that blocks the OS thread it runs on (a synchronous client inside `execute`, a
/// lock held across a slow call) until the test opens its gate.
struct ThreadBlocking {
    gate: Mutex<std::sync::mpsc::Receiver<()>>,
    entered: AtomicUsize,
    blocked: AtomicBool,
}

#[async_trait]
impl Backend for ThreadBlocking {
    fn kind(&self) -> BackendKind {
        BackendKind::GraphQl
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        self.entered.fetch_add(1, Ordering::SeqCst);
        self.blocked.store(true, Ordering::SeqCst);
        // The bound only keeps a shadow that runs this on the caller's thread from hanging the
        // test forever; the test fails on `blocked` either way.
        let gate = self.gate.lock().unwrap();
        let _ = gate.recv_timeout(Duration::from_secs(30));
        drop(gate);
        self.blocked.store(false, Ordering::SeqCst);
        graphql(&request)
    }
}

/// On a one-thread runtime, as `#[tokio::test]` gives: a candidate run on the caller's runtime
/// would block every caller until it returns.
#[tokio::test]
async fn a_candidate_that_blocks_its_thread_never_blocks_the_caller() {
    let (open, gate) = std::sync::mpsc::channel::<()>();
    let candidate = Arc::new(ThreadBlocking {
        gate: Mutex::new(gate),
        entered: AtomicUsize::new(0),
        blocked: AtomicBool::new(false),
    });
    let primary = Arc::new(Fake::new(BackendKind::ClassicRest, classic));
    let reporter = MemoryReporter::new();
    let shadow = Shadow::builder(primary.clone(), candidate.clone())
        .reporter(reporter.clone())
        .max_in_flight(4)
        .build();
    let expected = json(&primary.channels().await);

    assert_eq!(json(&shadow.channels().await), expected);
    tokio::time::timeout(Duration::from_secs(10), async {
        while candidate.entered.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the candidate never started");
    for _ in 0..50 {
        assert_eq!(json(&shadow.channels().await), expected);
    }
    assert!(
        candidate.blocked.load(Ordering::SeqCst),
        "the caller's calls waited until the candidate let go of its thread"
    );
    assert_eq!(primary.calls(), 52);
    // One comparison holds the blocked thread, three wait behind it: the other 47 are dropped.
    assert_eq!(shadow.dropped(), 47);

    drop(open);
    shadow.settled().await;
    assert_eq!(candidate.entered.load(Ordering::SeqCst), 4);
    let verdicts: Vec<Verdict> = reporter.take().iter().map(|c| c.verdict()).collect();
    assert_eq!(count(&verdicts, Verdict::Match), 4, "{verdicts:?}");
    assert_eq!(count(&verdicts, Verdict::Dropped), 47, "{verdicts:?}");
}

fn count(verdicts: &[Verdict], wanted: Verdict) -> usize {
    verdicts.iter().filter(|v| **v == wanted).count()
}

/// A candidate that hangs until the test lets it go: no timeout can end the hang before the
/// test has looked.
struct Stuck {
    released: tokio::sync::Semaphore,
    calls: AtomicUsize,
}

#[async_trait]
impl Backend for Stuck {
    fn kind(&self) -> BackendKind {
        BackendKind::GraphQl
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let _released = self.released.acquire().await;
        graphql(&request)
    }
}

/// A hundred calls at once against a candidate that hangs: the slots fill, every other
/// comparison is dropped at once, counted and reported, and no caller waits.
#[tokio::test]
async fn a_hanging_candidate_fills_the_slots_and_the_rest_are_dropped() {
    let primary = Arc::new(Fake::new(BackendKind::ClassicRest, classic));
    let candidate = Arc::new(Stuck {
        released: tokio::sync::Semaphore::new(0),
        calls: AtomicUsize::new(0),
    });
    let reporter = MemoryReporter::new();
    let shadow = Shadow::builder(primary.clone(), candidate.clone())
        .reporter(reporter.clone())
        .max_in_flight(4)
        .candidate_timeout(Duration::from_secs(3600))
        .build();
    let expected = json(&primary.account().await);
    let calls = 100;
    let answers = futures::future::join_all((0..calls).map(|_| shadow.account())).await;
    for answer in &answers {
        assert_eq!(json(answer), expected);
    }
    assert_eq!(primary.calls(), calls + 1);
    assert_eq!(shadow.dropped(), calls as u64 - 4);
    assert!(candidate.calls.load(Ordering::SeqCst) <= 4);

    candidate
        .released
        .add_permits(tokio::sync::Semaphore::MAX_PERMITS);
    shadow.settled().await;
    assert_eq!(candidate.calls.load(Ordering::SeqCst), 4);
    let reports = reporter.take();
    let verdicts: Vec<Verdict> = reports.iter().map(|c| c.verdict()).collect();
    assert_eq!(count(&verdicts, Verdict::Match), 4, "{verdicts:?}");
    assert_eq!(
        count(&verdicts, Verdict::Dropped),
        calls - 4,
        "{verdicts:?}"
    );
    let dropped = reports
        .iter()
        .find(|c| c.verdict() == Verdict::Dropped)
        .unwrap();
    assert_eq!(dropped.operation, Operation::Account);
    let detail = dropped.outcome.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("4 comparisons"), "{detail}");

    // The slots are free again: the next call is compared.
    shadow.account().await.unwrap();
    shadow.settled().await;
    assert_eq!(reporter.take()[0].verdict(), Verdict::Match);
    assert_eq!(shadow.dropped(), calls as u64 - 4);
}

/// Every other call panics in the candidate: the shadow's thread survives them and goes on
/// comparing.
#[tokio::test]
async fn a_panicking_candidate_never_reaches_the_caller_nor_stops_the_shadow() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let (primary, candidate) = backends(Fake::new(BackendKind::GraphQl, move |request| {
        if seen.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
            panic!("candidate blew up");
        }
        classic(request)
    }));
    let reporter = MemoryReporter::new();
    let shadow = shadow(&primary, &candidate, &reporter);
    let expected = json(&primary.channels().await);
    for _ in 0..20 {
        assert_eq!(json(&shadow.channels().await), expected);
    }
    shadow.settled().await;
    let reports = reporter.take();
    let verdicts: Vec<Verdict> = reports.iter().map(|c| c.verdict()).collect();
    assert_eq!(count(&verdicts, Verdict::Failed), 10, "{verdicts:?}");
    assert_eq!(count(&verdicts, Verdict::Match), 10, "{verdicts:?}");
    assert!(reports.iter().any(|c| {
        c.outcome
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("panicked: candidate blew up"))
    }));
}

/// Posts with ids of their own, as a page of `count` would list them.
fn many_posts(count: usize) -> Vec<Post> {
    (0..count)
        .map(|i| {
            let mut post = queued_post(PostStatus::Scheduled);
            post.id = format!("{i:024x}").into();
            post
        })
        .collect()
}

/// A candidate answering 20,000 items where the primary answers one (a paging bug, a huge
/// account): the comparison must not diff it item by item, nor hold it on the caller's path.
///
/// Memory is measured in a process of its own (this test binary, running this test alone):
/// the tests running beside it in this one would be counted too.
#[test]
fn a_huge_candidate_answer_is_summarised_not_diffed() {
    const ALONE: &str = "BUFFER_BRIDGE_SHADOW_TEST_ALONE";
    const NAME: &str = "a_huge_candidate_answer_is_summarised_not_diffed";
    if std::env::var_os(ALONE).is_some() {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(a_huge_candidate_answer_in_this_process());
        return;
    }
    let run = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--test-threads=1"])
        .env(ALONE, "1")
        .output()
        .expect("the test binary runs again");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "{output}");
    assert!(
        output.contains("1 passed"),
        "the test did not run: {output}"
    );
}

async fn a_huge_candidate_answer_in_this_process() {
    let huge = Arc::new(Page::new(many_posts(20_000), None, None));
    let answer = Arc::clone(&huge);
    let candidate = Fake::new(BackendKind::GraphQl, move |_| {
        Ok(Response::Posts((*answer).clone()))
    });
    let (primary, candidate) = backends(candidate);
    let reporter = MemoryReporter::new();
    let shadow = shadow(&primary, &candidate, &reporter);
    let query = PostQuery::new(CHANNEL, PostList::Queue);
    let expected = json(&primary.posts(&query).await);
    let one_copy = {
        let before = HELD.load(Ordering::Relaxed);
        let copy = (*huge).clone();
        let size = HELD.load(Ordering::Relaxed).saturating_sub(before);
        drop(copy);
        size
    };

    let calls = 5;
    let growth = peak_growth(async {
        for _ in 0..calls {
            assert_eq!(json(&shadow.posts(&query).await), expected);
        }
        shadow.settled().await;
    })
    .await;
    // The candidate's answers themselves (one at a time, at most two) and a little more; a
    // comparison item by item costs many copies of the answer as JSON.
    assert!(
        growth < 2 * one_copy + 16 * 1024 * 1024,
        "the shadow peaked {} MB above its start; one answer is {} MB",
        growth >> 20,
        one_copy >> 20
    );

    let reports = reporter.take();
    assert_eq!(reports.len(), calls);
    for report in &reports {
        assert_eq!(report.verdict(), Verdict::Mismatch);
        let differences = &report.outcome.differences;
        assert_eq!(paths(differences), ["$.summary.ids", "$.summary.items"]);
        assert_eq!(differences[1].primary, Some(1.into()));
        assert_eq!(differences[1].candidate, Some(20_000.into()));
        let detail = report.outcome.detail.as_deref().unwrap_or_default();
        assert!(detail.contains("20000 items"), "{detail}");
        let size = serde_json::to_string(report).unwrap().len();
        assert!(size < 4096, "a report of {size} bytes");
    }
}

/// Over the configured limits, equal answers still match (by count and ids, in any order) and
/// different ids still differ.
#[tokio::test]
async fn answers_over_the_limits_compare_by_count_and_ids() {
    let page = |posts: Vec<Post>| Response::Posts(Page::new(posts, None, None));
    let mut reversed = many_posts(30);
    reversed.reverse();
    let mut other = many_posts(30);
    other[7].id = "another post".into();
    let query = PostQuery::new(CHANNEL, PostList::Queue);
    for (limit, candidate, verdict) in [
        (Limits::Items(10), reversed.clone(), Verdict::Match),
        (Limits::Items(10), other.clone(), Verdict::Mismatch),
        (Limits::Bytes(2_000), reversed, Verdict::Match),
        (Limits::Bytes(2_000), other, Verdict::Mismatch),
    ] {
        let primary = Arc::new(Fake::new(BackendKind::ClassicRest, move |_| {
            Ok(page(many_posts(30)))
        }));
        let candidate = Arc::new(Fake::new(BackendKind::GraphQl, move |_| {
            Ok(page(candidate.clone()))
        }));
        let reporter = MemoryReporter::new();
        let builder = Shadow::builder(primary.clone(), candidate)
            .comparator(Comparator::empty())
            .reporter(reporter.clone());
        let shadow = match limit {
            Limits::Items(items) => builder.max_compared_items(items),
            Limits::Bytes(bytes) => builder.max_compared_bytes(bytes),
        }
        .build();
        shadow.posts(&query).await.unwrap();
        shadow.settled().await;
        let report = &reporter.take()[0];
        assert_eq!(report.verdict(), verdict, "{limit:?}");
        assert!(
            report
                .outcome
                .detail
                .as_deref()
                .unwrap_or_default()
                .contains("30 items"),
            "{limit:?}: {:?}",
            report.outcome
        );
        if verdict == Verdict::Mismatch {
            assert_eq!(paths(&report.outcome.differences), ["$.summary.ids"]);
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Limits {
    Items(usize),
    Bytes(usize),
}

/// Two backends failing the same way agree on nothing: that is its own verdict, not a match.
#[tokio::test]
async fn both_failing_the_same_way_is_not_a_match() {
    let unavailable = |_: &Request| Err(Error::from_status(503, None));
    let primary = Arc::new(Fake::new(BackendKind::ClassicRest, unavailable));
    let candidate = Arc::new(Fake::new(BackendKind::GraphQl, unavailable));
    let reporter = MemoryReporter::new();
    let shadow = shadow(&primary, &candidate, &reporter);
    assert!(shadow.channels().await.is_err());
    shadow.settled().await;
    let report = &reporter.take()[0];
    assert_eq!(report.verdict(), Verdict::BothFailed);
    let detail = report.outcome.detail.as_deref().unwrap_or_default();
    assert!(
        detail.starts_with("primary: ") && detail.contains("; candidate: "),
        "{detail}"
    );
}

#[tokio::test]
async fn the_primarys_errors_reach_the_caller_unchanged() {
    let (primary, candidate) = backends(Fake::new(BackendKind::GraphQl, |_| {
        Ok(Response::Post(queued_post(PostStatus::Scheduled)))
    }));
    let reporter = MemoryReporter::new();
    let shadow = shadow(&primary, &candidate, &reporter);
    let error = shadow.post(&POST.into()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(error.legacy_code(), Some(1020));

    shadow.settled().await;
    let report = &reporter.take()[0];
    assert_eq!(report.verdict(), Verdict::Mismatch);
    assert_eq!(report.outcome.differences[0].path.to_string(), "$");
}

#[tokio::test]
async fn writes_never_reach_the_candidate_unless_it_is_a_sandbox() {
    let post = NewPost::new("This is an example update").channel(CHANNEL);

    let (primary, candidate) = backends(Fake::new(BackendKind::GraphQl, graphql));
    let reporter = MemoryReporter::new();
    let shadow = shadow(&primary, &candidate, &reporter);
    shadow.create_post(&post).await.unwrap();
    shadow.delete_post(&POST.into()).await.unwrap_err();
    shadow.settled().await;
    assert_eq!(primary.calls(), 2);
    assert_eq!(candidate.calls(), 0, "a write reached the candidate");
    assert!(reporter.take().is_empty());

    let sandboxed = Shadow::builder(primary.clone(), candidate.clone())
        .reporter(reporter.clone())
        .sandbox_candidate()
        .build();
    sandboxed.create_post(&post).await.unwrap();
    sandboxed.settled().await;
    assert_eq!(candidate.calls(), 1);
    assert_eq!(
        *candidate.seen.lock().unwrap(),
        [Operation::CreatePost],
        "the sandbox got the write once"
    );
    assert_eq!(reporter.take()[0].operation, Operation::CreatePost);
}

#[tokio::test]
async fn differences_are_reported_at_their_json_path() {
    let (primary, candidate) = backends(Fake::new(BackendKind::GraphQl, |request| match request {
        Request::Channels => Ok(Response::Channels(vec![channel("example")])),
        Request::Posts { .. } => Ok(Response::Posts(Page::new(
            vec![queued_post(PostStatus::Draft)],
            None,
            None,
        ))),
        other => graphql(other),
    }));
    let reporter = MemoryReporter::new();
    let shadow = shadow(&primary, &candidate, &reporter);
    shadow.channels().await.unwrap();
    shadow
        .posts(&PostQuery::new(CHANNEL, PostList::Queue))
        .await
        .unwrap();
    shadow.settled().await;

    let reports = reporter.take();
    let channels = reports
        .iter()
        .find(|r| r.operation == Operation::Channels)
        .unwrap();
    assert_eq!(channels.verdict(), Verdict::Mismatch);
    let difference = &channels.outcome.differences[0];
    assert_eq!(difference.path.to_string(), "$.data[0].name");
    assert_eq!(difference.primary, Some("skinnyoteam".into()));
    assert_eq!(difference.candidate, Some("example".into()));

    let posts = reports
        .iter()
        .find(|r| r.operation == Operation::Posts)
        .unwrap();
    let paths: Vec<String> = posts
        .outcome
        .differences
        .iter()
        .map(|d| d.path.to_string())
        .collect();
    // The status differs; the page token is present on one side only. The total (classic only)
    // is not a difference: the default comparator drops it.
    assert_eq!(paths, ["$.data.items[0].status", "$.data.next"]);
    assert_eq!(
        posts.outcome.differences[1].candidate,
        Some(serde_json::Value::Null)
    );
}

#[tokio::test]
async fn what_cannot_match_by_construction_is_normalised_away() {
    let (primary, candidate) = backends(Fake::new(BackendKind::GraphQl, graphql));
    let reporter = MemoryReporter::new();
    let shadow = shadow(&primary, &candidate, &reporter);
    shadow.account().await.unwrap();
    shadow
        .posts(&PostQuery::new(CHANNEL, PostList::Queue))
        .await
        .unwrap();
    shadow.settled().await;
    for report in reporter.take() {
        assert_eq!(
            report.verdict(),
            Verdict::Match,
            "{:?}",
            report.outcome.differences
        );
    }

    // Without the normalisers, plan/email, totals and tokens all differ.
    let raw = Shadow::builder(primary.clone(), candidate.clone())
        .reporter(reporter.clone())
        .comparator(Comparator::empty())
        .build();
    raw.account().await.unwrap();
    raw.settled().await;
    let paths: Vec<String> = reporter.take()[0]
        .outcome
        .differences
        .iter()
        .map(|d| d.path.to_string())
        .collect();
    assert_eq!(paths, ["$.data.email", "$.data.plan"]);
}

#[tokio::test]
async fn ignore_rules_turn_known_differences_into_a_match() {
    let (primary, candidate) = backends(Fake::new(BackendKind::GraphQl, |request| match request {
        Request::Channels => Ok(Response::Channels(vec![channel("example")])),
        other => graphql(other),
    }));
    let reporter = MemoryReporter::new();
    let shadow = Shadow::builder(primary.clone(), candidate.clone())
        .reporter(reporter.clone())
        .ignore(
            Operation::Channels,
            "data[*].name",
            "handles are spelled differently",
        )
        .ignore(Operation::Account, "data", "a rule for another operation")
        .build();
    shadow.channels().await.unwrap();
    shadow.settled().await;
    let report = &reporter.take()[0];
    assert_eq!(report.verdict(), Verdict::Match);
    assert_eq!(report.outcome.ignored.len(), 1);
    assert_eq!(
        report.outcome.ignored[0].reason,
        "handles are spelled differently"
    );

    let strict = Shadow::builder(primary.clone(), candidate.clone())
        .reporter(reporter.clone())
        .ignore(Operation::Account, "data[*].name", "only for the account")
        .build();
    strict.channels().await.unwrap();
    strict.settled().await;
    assert_eq!(reporter.take()[0].verdict(), Verdict::Mismatch);
}

#[tokio::test]
async fn sampling_picks_calls_deterministically() {
    let (primary, candidate) = backends(Fake::new(BackendKind::GraphQl, graphql));
    let reporter = MemoryReporter::new();
    let shadow = Shadow::builder(primary.clone(), candidate.clone())
        .reporter(reporter.clone())
        .sample(Sample::EveryNth(3))
        .build();
    for _ in 0..7 {
        shadow.account().await.unwrap();
    }
    shadow.settled().await;
    assert_eq!(primary.calls(), 7);
    assert_eq!(candidate.calls(), 3, "calls 0, 3 and 6");
    assert_eq!(reporter.take().len(), 3);
}

#[tokio::test]
async fn an_unsupported_candidate_is_reported_as_such() {
    let (primary, candidate) = backends(Fake::new(BackendKind::GraphQl, |request| {
        Err(Error::unsupported(
            request.operation(),
            BackendKind::GraphQl,
            "GraphQL has no stable configuration query",
        ))
    }));
    let reporter = MemoryReporter::new();
    let shadow = shadow(&primary, &candidate, &reporter);
    assert_eq!(shadow.kind(), BackendKind::ClassicRest);
    shadow.channels().await.unwrap();
    shadow.settled().await;
    let report = &reporter.take()[0];
    assert_eq!(report.verdict(), Verdict::Unsupported);
    assert_eq!(report.primary.backend, BackendKind::ClassicRest);
    assert_eq!(report.candidate.backend, BackendKind::GraphQl);
}

/// A writer that several owners can read back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn json_lines_carry_the_verdict_and_the_diff() {
    let (primary, candidate) = backends(Fake::new(BackendKind::GraphQl, |request| match request {
        Request::Channels => Ok(Response::Channels(vec![channel("example")])),
        other => graphql(other),
    }));
    let out = Shared::default();
    let shadow = Shadow::builder(primary.clone(), candidate.clone())
        .reporter(JsonLinesReporter::new(out.clone()))
        .build();
    shadow.channels().await.unwrap();
    shadow.account().await.unwrap();
    shadow.settled().await;

    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let channels = lines.iter().find(|l| l["operation"] == "channels").unwrap();
    assert_eq!(channels["verdict"], "mismatch");
    assert_eq!(channels["diff"][0]["path"], "$.data[0].name");
    assert_eq!(channels["primary"]["backend"], "rest");
    assert_eq!(channels["candidate"]["backend"], "graphql");
    assert!(channels["primary"]["ms"].is_u64());
}

/// On the simulator, with the GraphQL side slow, failing, dropping connections and sending
/// broken bodies, every answer through the shadow is exactly the classic backend's own.
#[tokio::test]
async fn faults_in_the_candidate_never_change_what_the_caller_gets() {
    use buffer_bridge::graphql::GraphQl;
    use buffer_bridge::rest::ClassicRest;
    use buffer_sim::{Api, Fault, FaultRule, Faults, Simulator};

    let sim = Simulator::start().await;
    let rest: Arc<dyn Backend> = Arc::new(
        ClassicRest::builder()
            .access_token(sim.access_token())
            .base_url(sim.rest_url())
            .build()
            .unwrap(),
    );
    let graphql: Arc<dyn Backend> = Arc::new(
        GraphQl::builder()
            .api_key(sim.api_key())
            .base_url(sim.graphql_url())
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap(),
    );
    sim.set_faults(
        Faults::seeded(11)
            .rule(FaultRule::new(Fault::Latency(Duration::from_millis(20))).api(Api::GraphQl))
            .rule(
                FaultRule::new(Fault::ServerError(503))
                    .api(Api::GraphQl)
                    .share(0.3),
            )
            .rule(FaultRule::new(Fault::Drop).api(Api::GraphQl).share(0.2))
            .rule(FaultRule::new(Fault::Truncate).api(Api::GraphQl).share(0.2))
            .rule(FaultRule::new(Fault::Html).api(Api::GraphQl).share(0.2)),
    );
    let reporter = MemoryReporter::new();
    let shadow = Shadow::builder(rest.clone(), graphql)
        .reporter(reporter.clone())
        .candidate_timeout(Duration::from_secs(1))
        .build();

    let channels = rest.channels().await.unwrap();
    let mut requests = vec![Request::Account, Request::Channels];
    for channel in &channels {
        requests.push(Request::Channel {
            id: channel.id.clone(),
        });
        for list in [PostList::Queue, PostList::Sent] {
            requests.push(Request::Posts {
                query: PostQuery::new(channel.id.clone(), list),
            });
        }
    }
    // Interactions and link shares: the candidate lacks them, the primary answers.
    requests.push(Request::LinkShares {
        url: "http://google.com".into(),
    });
    for request in requests {
        let direct = json(&rest.execute(request.clone()).await);
        let shadowed = json(&shadow.execute(request.clone()).await);
        assert_eq!(shadowed, direct, "{:?}", request.operation());
    }
    shadow.settled().await;
    let verdicts: Vec<Verdict> = reporter.take().iter().map(|c| c.verdict()).collect();
    assert!(
        verdicts.contains(&Verdict::Failed),
        "no fault reached the candidate: {verdicts:?}"
    );
    assert!(verdicts.contains(&Verdict::Unsupported));
}

/// Compares two answers to `operation` with the default (classic against GraphQL) comparator.
fn compared(
    operation: Operation,
    rest: Response,
    graphql: Response,
) -> buffer_bridge::shadow::Outcome {
    Comparator::default().compare(operation, &Ok(rest), &Ok(graphql))
}

fn paths<'a>(
    differences: impl IntoIterator<Item = &'a buffer_bridge::shadow::Difference>,
) -> Vec<String> {
    differences
        .into_iter()
        .map(|d| d.path.to_string())
        .collect()
}

fn ignored_paths(outcome: &buffer_bridge::shadow::Outcome) -> Vec<String> {
    paths(outcome.ignored.iter().map(|i| &i.difference))
}

/// The sent update of the reference (`GET /updates/:id.json`) as each API reports it: classic
/// with the network's id, whole seconds, an image and its statistics; GraphQL with the post's
/// URL, milliseconds, the image's alt text and title, and its metrics.
fn sent_posts() -> (Post, Post) {
    use buffer_bridge::model::Asset;
    let sent_at = chrono::DateTime::from_timestamp(1320744001, 0).unwrap();
    let image = Asset::image("http://google.com/images/logo.png");
    let mut rest = queued_post(PostStatus::Sent);
    rest.sent_at = Some(sent_at);
    rest.service_post_id = Some("133667319959392256".into());
    rest.metrics = [("retweets".to_owned(), 20.0), ("favorites".to_owned(), 1.0)].into();
    rest.assets = vec![image.clone()];
    let mut graphql = queued_post(PostStatus::Sent);
    graphql.sent_at = Some(sent_at + chrono::TimeDelta::milliseconds(417));
    graphql.external_link =
        Some("https://twitter.com/skinnyoteam/status/133667319959392256".into());
    graphql.metrics = [("reposts".to_owned(), 20.0), ("reactions".to_owned(), 1.0)].into();
    let mut image = image.with_alt_text("The Google logo");
    image.title = Some("Logo".into());
    graphql.assets = vec![image];
    (rest, graphql)
}

#[test]
fn what_migration_explains_is_accepted_with_its_reason() {
    let (rest, graphql) = sent_posts();
    let outcome = compared(
        Operation::Post,
        Response::Post(rest),
        Response::Post(graphql),
    );
    assert_eq!(outcome.verdict, Verdict::Match, "{:?}", outcome.differences);
    assert_eq!(
        ignored_paths(&outcome),
        [
            "$.data.assets[0].alt_text",
            "$.data.assets[0].title",
            "$.data.external_link",
            "$.data.metrics.favorites",
            "$.data.metrics.reactions",
            "$.data.metrics.reposts",
            "$.data.metrics.retweets",
            "$.data.service_post_id",
        ],
        "the milliseconds of sent_at are normalised away, not ignored"
    );
    for ignored in &outcome.ignored {
        assert!(ignored.reason.contains("(MIGRATION.md, "), "{ignored:?}");
    }
}

#[test]
fn a_field_only_one_api_has_still_differs_when_both_have_it() {
    let (mut rest, mut graphql) = sent_posts();
    graphql.service_post_id = Some("another tweet".into());
    rest.assets[0].alt_text = Some("A dog".into());
    let outcome = compared(
        Operation::Post,
        Response::Post(rest),
        Response::Post(graphql),
    );
    assert_eq!(outcome.verdict, Verdict::Mismatch);
    assert_eq!(
        paths(&outcome.differences),
        ["$.data.assets[0].alt_text", "$.data.service_post_id"]
    );
}

#[test]
fn times_compare_to_the_second_and_handles_without_their_at() {
    let (rest, mut graphql) = sent_posts();
    graphql.sent_at = rest.sent_at.map(|t| t + chrono::TimeDelta::seconds(1));
    let outcome = compared(
        Operation::Post,
        Response::Post(rest),
        Response::Post(graphql),
    );
    assert_eq!(paths(&outcome.differences), ["$.data.sent_at"]);

    let handle = |display: &str| {
        let mut channel = channel("skinnyoteam");
        channel.display_name = Some(display.into());
        channel
    };
    let same = compared(
        Operation::Channels,
        Response::Channels(vec![handle("@skinnyoteam")]),
        Response::Channels(vec![handle("skinnyoteam")]),
    );
    assert_eq!(same.verdict, Verdict::Match);
    assert_eq!(ignored_paths(&same), ["$.data[0].display_name"]);
    let other = compared(
        Operation::Channel,
        Response::Channel(handle("@skinnyoteam")),
        Response::Channel(handle("Skinny Team")),
    );
    assert_eq!(paths(&other.differences), ["$.data.display_name"]);
}

#[test]
fn paused_days_are_left_out_and_other_days_still_count() {
    use buffer_bridge::model::{Day, Schedule};
    let week = |extra: Option<Schedule>| {
        let mut days = vec![Schedule::new(Day::Mon, ["09:00", "12:00"])];
        days.extend(extra);
        days
    };
    let mut paused = Schedule::new(Day::Wed, ["08:00"]);
    paused.paused = true;
    let outcome = compared(
        Operation::Schedules,
        Response::Schedules(week(None)),
        Response::Schedules(week(Some(paused.clone()))),
    );
    assert_eq!(outcome.verdict, Verdict::Match);

    // The same inside a channel, as `channels` and `channel` answer it.
    let mut rest = channel("skinnyoteam");
    rest.schedules = week(None);
    let mut graphql = rest.clone();
    graphql.schedules = week(Some(paused));
    let outcome = compared(
        Operation::Channel,
        Response::Channel(rest.clone()),
        Response::Channel(graphql),
    );
    assert_eq!(outcome.verdict, Verdict::Match);

    let outcome = compared(
        Operation::Schedules,
        Response::Schedules(week(None)),
        Response::Schedules(week(Some(Schedule::new(Day::Wed, ["08:00"])))),
    );
    assert_eq!(paths(&outcome.differences), ["$.data[1]"]);
}

#[test]
fn writes_compare_their_posts_like_reads_and_refusals_by_kind() {
    use buffer_bridge::model::{ChannelOutcome, CreateOutcome};
    let (rest, graphql) = sent_posts();
    let created = |post: Post, refusal: Error| {
        Response::Created(CreateOutcome::new(vec![
            ChannelOutcome::created(CHANNEL, post),
            ChannelOutcome::failed("4eb9276e0acb04bb81000067", refusal),
        ]))
    };
    let duplicate = Error::from_legacy_code(
        1025,
        Some("Update was recently posted, can't post duplicate content.".into()),
    );
    let outcome = compared(
        Operation::CreatePost,
        created(rest.clone(), duplicate.clone()),
        created(
            graphql.clone(),
            Error::invalid_input("This post is a duplicate"),
        ),
    );
    assert_eq!(outcome.verdict, Verdict::Match, "{:?}", outcome.differences);
    assert!(!outcome.ignored.is_empty());

    let outcome = compared(
        Operation::CreatePost,
        created(rest, duplicate),
        created(
            graphql,
            Error::of_kind(ErrorKind::LimitReached, "Queue is full".into(), None),
        ),
    );
    assert_eq!(
        paths(&outcome.differences),
        ["$.data.channels[1].result.failed.kind"]
    );
}

#[test]
fn a_sandboxs_new_post_ids_differ_until_a_normaliser_removes_them() {
    use buffer_bridge::model::{ChannelOutcome, CreateOutcome};
    use buffer_bridge::shadow::Normaliser;
    let (rest, mut sandbox) = sent_posts();
    sandbox.id = "4ec93ae4512f7e6307000003".into();
    let created = |post: Post| {
        Response::Created(CreateOutcome::new(vec![ChannelOutcome::created(
            CHANNEL, post,
        )]))
    };
    let (rest, sandbox) = (Ok(created(rest)), Ok(created(sandbox)));
    let outcome = Comparator::default().compare(Operation::CreatePost, &rest, &sandbox);
    assert_eq!(
        paths(&outcome.differences),
        ["$.data.channels[0].result.created.id"]
    );
    let forgiving = Comparator::default().normalise(
        Normaliser::remove("data.channels[*].result.created.id")
            .for_operation(Operation::CreatePost),
    );
    let outcome = forgiving.compare(Operation::CreatePost, &rest, &sandbox);
    assert_eq!(outcome.verdict, Verdict::Match);
}

#[test]
fn every_known_difference_points_to_a_section_of_migration_md() {
    use buffer_bridge::shadow::known;
    let guide = include_str!("../MIGRATION.md");
    for entry in known::ALL.into_iter().flatten() {
        let (_, pointer) = entry
            .reason
            .split_once("(MIGRATION.md, ")
            .unwrap_or_else(|| panic!("{entry:?} does not name its section"));
        let pointer = pointer.trim_end_matches(')');
        let (section, part) = pointer.split_once(": ").unwrap_or((pointer, ""));
        let at = guide
            .find(&format!("### `{section}`"))
            .or_else(|| guide.find(&format!("**{section}.**")))
            .unwrap_or_else(|| panic!("MIGRATION.md has no section {section:?}"));
        if !part.is_empty() {
            let body = &guide[at..];
            let end = body[4..].find("\n### ").map_or(body.len(), |e| e + 4);
            assert!(
                body[..end].contains(&format!("{part}:")),
                "section {section:?} of MIGRATION.md says nothing under {part:?}"
            );
        }
    }
}

/// A backend whose last answer announced a `Retry-After`, as a rate-limited GraphQL reply does.
struct Budgeted(BackendKind, u64);

#[async_trait]
impl Backend for Budgeted {
    fn kind(&self) -> BackendKind {
        self.0
    }

    async fn execute(&self, _: Request) -> Result<Response> {
        Ok(Response::Deauthorized)
    }

    fn rate_limits(&self) -> Option<buffer_bridge::http::rate_limit::RateLimits> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", self.1.into());
        Some(buffer_bridge::http::rate_limit::RateLimits::from_headers(
            &headers,
        ))
    }
}

#[tokio::test]
async fn a_shadow_reports_the_primarys_rate_budget_not_the_candidates() {
    let primary: Arc<dyn Backend> = Arc::new(Budgeted(BackendKind::GraphQl, 7));
    let candidate: Arc<dyn Backend> = Arc::new(Budgeted(BackendKind::ClassicRest, 60));
    let shadow = Shadow::builder(primary, candidate).build();
    let wait = shadow.rate_limits().and_then(|limits| limits.wait(None));
    assert_eq!(wait, Some(Duration::from_secs(7)));
}
