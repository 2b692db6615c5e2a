//! The figures that decide what a user can do with a rate-limited API, measured on the
//! simulator: requests per logical operation, wall time at a realistic latency, decode CPU,
//! client memory, and a large batch under GraphQL's limits.
//!
//! ```text
//! cargo run --release --example bench                  # every figure
//! cargo run --release --example bench -- pages batch   # some: memory pages creates reconcile decoding batch shadow fleet
//! cargo run --release --features redis --example bench -- fleet   # the fleet's Redis budget
//! ```
//!
//! `fleet` measures the Redis budget's check per request on loopback against the in-process
//! budget's; it starts a `redis-server` of its own (or uses `BUFFER_REDIS_URL`).
//!
//! Prints one JSON line per figure (`{"metric", "ours", "baseline", "ratio", "unit"}`), then a
//! table. Each baseline is the obvious way without buffer-bridge's machinery: walking cursors
//! from the first page, one request per channel, plain `serde_json` into plain structs,
//! collecting every post in memory, one `createPost` per post, one lookup per uncertain channel.

#[path = "../benches/support/mod.rs"]
mod support;

use buffer_bridge::graphql::GraphQl;
use buffer_bridge::model::{NewPost, PageRequest, PostList, PostQuery};
use buffer_bridge::pacing::{Paced, Pacing};
use buffer_bridge::retry::Retrying;
use buffer_bridge::{BackendExt, Result};
use buffer_sim::{
    Api, ChannelSpec, Fault, FaultRule, Faults, NullScope, RateLimits, Service, Simulator,
};
use futures::StreamExt;
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

/// Three decimals are plenty for any of the figures.
fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// One measured figure.
struct Figure {
    metric: String,
    ours: f64,
    baseline: f64,
    unit: &'static str,
}

impl Figure {
    fn new(metric: impl Into<String>, ours: f64, baseline: f64, unit: &'static str) -> Self {
        let figure = Self {
            metric: metric.into(),
            ours,
            baseline,
            unit,
        };
        println!(
            "{}",
            serde_json::json!({
                "metric": figure.metric,
                "ours": round(figure.ours),
                "baseline": round(figure.baseline),
                "ratio": figure.ratio(),
                "unit": figure.unit,
            })
        );
        figure
    }

    /// Ours over the baseline: below 1 is better.
    fn ratio(&self) -> f64 {
        if self.baseline == 0.0 {
            0.0
        } else {
            round(self.ours / self.baseline)
        }
    }
}

/// Posts in the listing read page by page.
const LISTING_POSTS: usize = 1_000;
/// Page size of the page figures.
const PAGE_SIZE: u32 = 20;
/// Posts streamed by the memory figure.
const STREAMED_POSTS: usize = 100_000;

fn graphql(sim: &Simulator) -> GraphQl {
    GraphQl::builder()
        .api_key(sim.api_key())
        .base_url(sim.graphql_url())
        .organization_id(sim.organization_id())
        .build()
        .expect("the simulator's URL is loopback")
}

/// A simulator without rate limits, for figures about requests and time.
async fn unlimited() -> Simulator {
    Simulator::builder()
        .queue_limit(100_000)
        .rate_limits(RateLimits {
            enabled: false,
            ..RateLimits::default()
        })
        .start()
        .await
}

/// Requests to read pages 1 to 50 in order (through a pager, and by page number), and to
/// jump to page 50.
async fn pages() -> Result<Vec<Figure>> {
    let sim = unlimited().await;
    let channel = sim.demo().channels[0].id.clone();
    for i in 0..LISTING_POSTS {
        sim.store()
            .add_post(buffer_sim::NewPost::new(
                &channel,
                &format!("listing post {i}"),
                buffer_sim::When::Queue,
            ))
            .expect("the simulator accepts the post");
    }
    let query = PostQuery::new(channel.as_str(), PostList::Queue);
    let pages = 50u32;

    let ours = graphql(&sim);
    sim.clear_requests();
    let mut pager = ours.pager(query.clone().page(PageRequest::first(PAGE_SIZE)));
    for _ in 1..=pages {
        pager.next_page().await?;
    }
    let in_order = sim.request_count(Api::GraphQl);

    // Page numbers: each one is counted from the start of the listing as it is then.
    sim.clear_requests();
    for page in 1..=pages {
        ours.posts(&query.clone().page(PageRequest::offset(page, PAGE_SIZE)))
            .await?;
    }
    let by_number = sim.request_count(Api::GraphQl);

    // The naive walk: every page starts from the first and follows cursors.
    let naive = graphql(&sim);
    sim.clear_requests();
    for page in 1..=pages {
        naive_walk(&naive, &query, page).await?;
    }
    let naive_in_order = sim.request_count(Api::GraphQl);

    sim.clear_requests();
    graphql(&sim)
        .posts(&query.clone().page(PageRequest::offset(pages, PAGE_SIZE)))
        .await?;
    let jump = sim.request_count(Api::GraphQl);
    sim.clear_requests();
    naive_walk(&graphql(&sim), &query, pages).await?;
    let naive_jump = sim.request_count(Api::GraphQl);

    Ok(vec![
        Figure::new(
            "graphql requests to read pages 1..50 in order",
            in_order as f64,
            naive_in_order as f64,
            "requests",
        ),
        Figure::new(
            "graphql requests to read pages 1..50 by page number",
            by_number as f64,
            naive_in_order as f64,
            "requests",
        ),
        Figure::new(
            "graphql requests to jump to page 50",
            jump as f64,
            naive_jump as f64,
            "requests",
        ),
    ])
}

/// Reads page `page` by following `next` from the first page, 20 posts a request.
async fn naive_walk(backend: &GraphQl, query: &PostQuery, page: u32) -> Result<()> {
    let mut current = backend
        .posts(&query.clone().page(PageRequest::first(PAGE_SIZE)))
        .await?;
    for _ in 1..page {
        let Some(token) = current.next.clone() else {
            break;
        };
        current = backend
            .posts(&query.clone().page(PageRequest::after(token, PAGE_SIZE)))
            .await?;
    }
    Ok(())
}

/// Requests and wall time to create one post on 1, 10, 30 and 100 channels at 50 ms a request.
async fn creates() -> Result<Vec<Figure>> {
    let sim = unlimited().await;
    let channels: Vec<String> = (0..100)
        .map(|i| {
            sim.store()
                .add_channel(ChannelSpec::new(
                    sim.organization_id(),
                    Service::Twitter,
                    &format!("bench{i}"),
                ))
                .id
        })
        .collect();
    sim.set_faults(Faults::seeded(0).latency(Duration::from_millis(50)));
    let backend = graphql(&sim);
    let mut figures = Vec::new();
    for count in [1usize, 10, 30, 100] {
        let targets = &channels[..count];
        sim.clear_requests();
        let started = Instant::now();
        let outcome = backend
            .create_post(
                &NewPost::new(format!("one post on {count} channels"))
                    .channels(targets.iter().map(String::as_str)),
            )
            .await?;
        let ours_time = started.elapsed();
        let ours_requests = sim.request_count(Api::GraphQl);
        assert!(outcome.is_complete(), "{outcome:?}");

        sim.clear_requests();
        let started = Instant::now();
        for channel in targets {
            backend
                .create_post(
                    &NewPost::new(format!("one post per request on {count} channels"))
                        .channel(channel.as_str()),
                )
                .await?;
        }
        let naive_time = started.elapsed();
        let naive_requests = sim.request_count(Api::GraphQl);
        figures.push(Figure::new(
            format!("graphql requests to create a post on {count} channels"),
            ours_requests as f64,
            naive_requests as f64,
            "requests",
        ));
        figures.push(Figure::new(
            format!("wall time to create a post on {count} channels at 50 ms latency"),
            ours_time.as_secs_f64() * 1000.0,
            naive_time.as_secs_f64() * 1000.0,
            "ms",
        ));
    }
    Ok(figures)
}

/// Requests beyond the create itself to settle a 30-channel GraphQL batch whose answer was lost
/// after the mutation ran (`data: null`): the issue allows at most 2. The baseline is one
/// lookup per uncertain channel. The client has heard from Buffer before (it knows the
/// server's clock), as any client past its first request has.
async fn reconcile() -> Result<Vec<Figure>> {
    let sim = unlimited().await;
    let channels: Vec<String> = (0..30)
        .map(|i| {
            sim.store()
                .add_channel(ChannelSpec::new(
                    sim.organization_id(),
                    Service::Twitter,
                    &format!("lost{i}"),
                ))
                .id
        })
        .collect();
    let backend = Retrying::new(graphql(&sim));
    backend.account().await?;
    sim.set_faults(
        Faults::seeded(0).rule(
            FaultRule::new(Fault::NullField(NullScope::Data))
                .route("createPost")
                .times(1),
        ),
    );
    sim.clear_requests();
    let post =
        NewPost::new("a batch whose answer is lost").channels(channels.iter().map(String::as_str));
    let outcome = backend.create_post(&post).await?;
    assert!(outcome.is_complete(), "{outcome:?}");
    for channel in &channels {
        assert_eq!(
            sim.store()
                .count_with_text(channel, "a batch whose answer is lost"),
            1
        );
    }
    let extra = sim.request_count(Api::GraphQl) - 1;
    Ok(vec![Figure::new(
        "requests to reconcile a lost 30-channel graphql batch",
        extra as f64,
        channels.len() as f64,
        "requests",
    )])
}

/// CPU time to decode a 100-post page, library against plain serde, per page.
async fn decoding() -> Vec<Figure> {
    let (rest_body, graphql_body) = support::page_bodies(100).await;
    let rest = buffer_bridge::rest::ClassicRest::builder()
        .access_token("bench")
        .base_url("http://127.0.0.1:9/1/")
        .build()
        .expect("a loopback URL");
    let graphql = GraphQl::builder()
        .api_key("bench")
        .base_url("http://127.0.0.1:9/")
        .build()
        .expect("a loopback URL");
    let rounds = 2_000;
    let time = |f: &dyn Fn() -> usize| {
        // Warm up, then take the best of five runs.
        (0..rounds / 10).for_each(|_| {
            std::hint::black_box(f());
        });
        (0..5)
            .map(|_| {
                let started = Instant::now();
                for _ in 0..rounds {
                    std::hint::black_box(f());
                }
                started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds)
            })
            .fold(f64::INFINITY, f64::min)
    };
    let rest_ours = time(&|| {
        rest.decode_posts_page(200, &rest_body)
            .map_or(0, |p| p.len())
    });
    let rest_raw = time(&|| support::raw_rest(&rest_body));
    let graphql_ours = time(&|| {
        graphql
            .decode_posts_page(200, &graphql_body)
            .map_or(0, |p| p.len())
    });
    let graphql_raw = time(&|| support::raw_graphql(&graphql_body));
    vec![
        Figure::new(
            "rest: CPU to decode a 100-post page (vs plain serde structs)",
            rest_ours,
            rest_raw,
            "µs",
        ),
        Figure::new(
            "graphql: CPU to decode a 100-post page (vs plain serde structs)",
            graphql_ours,
            graphql_raw,
            "µs",
        ),
    ]
}

/// The client's peak resident memory, from the kernel's high-water mark.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Peak memory of this process while streaming 100,000 posts (pages of 100, over each API)
/// from a simulator in a child process, against collecting them all.
async fn memory() -> Result<Vec<Figure>> {
    let exe = std::env::current_exe().expect("the example knows its path");
    let mut child = std::process::Command::new(exe)
        .arg("--serve-sim")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the example can re-run itself");
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the child prints its address");
    }
    let measured = measure_both(&line).await;
    // Closing its stdin stops the child (which reports its own peak memory on stderr).
    drop(child.stdin.take());
    let _ = child.wait();
    let ((rest, rest_baseline), (graphql, graphql_baseline)) = measured?;
    Ok(vec![
        Figure::new(
            "peak client memory streaming 100,000 posts (vs collecting them)",
            rest,
            rest_baseline,
            "MB",
        ),
        Figure::new(
            "graphql: peak client memory streaming 100,000 posts (vs collecting them)",
            graphql,
            graphql_baseline,
            "MB",
        ),
    ])
}

/// Both APIs of the child's simulator (`<rest url> <token> <channel> <graphql url> <api key>
/// <organization>` on `line`): both streams first, since the allocator keeps what a collection
/// freed and that would count as a later stream's peak.
async fn measure_both(line: &str) -> Result<((f64, f64), (f64, f64))> {
    let parts: Vec<&str> = line.split_whitespace().collect();
    let [url, token, channel, graphql_url, api_key, organization] = parts[..] else {
        panic!("the child printed {line:?}")
    };
    let rest = buffer_bridge::rest::ClassicRest::builder()
        .access_token(token)
        .base_url(url)
        .build()?;
    let graphql = GraphQl::builder()
        .api_key(api_key)
        .base_url(graphql_url)
        .organization_id(organization)
        .build()?;
    let query = PostQuery::new(channel, PostList::Sent).page(PageRequest::first(100));
    let rest_streamed = stream(&rest, &query).await?;
    let graphql_streamed = stream(&graphql, &query).await?;
    let rest_collected = collect(&rest, &query).await?;
    let graphql_collected = collect(&graphql, &query).await?;
    Ok((
        (rest_streamed, rest_collected),
        (graphql_streamed, graphql_collected),
    ))
}

/// Streams every post `query` lists; the peak memory meanwhile, in MB.
async fn stream(
    backend: &(impl buffer_bridge::Backend + ?Sized),
    query: &PostQuery,
) -> Result<f64> {
    reset_peak_rss();
    eprintln!("(memory before streaming: {:.1} MB)", peak_rss_mb());
    let mut stream = backend.all_posts(query.clone());
    let mut streamed = 0usize;
    while let Some(post) = stream.next().await {
        post?;
        streamed += 1;
    }
    // The demo channel had a few sent posts of its own.
    assert!(streamed >= STREAMED_POSTS, "{streamed}");
    Ok(peak_rss_mb())
}

/// Collects every post `query` lists into one vector; the peak memory meanwhile, in MB.
async fn collect(
    backend: &(impl buffer_bridge::Backend + ?Sized),
    query: &PostQuery,
) -> Result<f64> {
    reset_peak_rss();
    let collected: Vec<_> = backend
        .all_posts(query.clone())
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    assert!(collected.len() >= STREAMED_POSTS, "{}", collected.len());
    Ok(peak_rss_mb())
}

/// Restarts the peak (Linux: `clear_refs` 5), so a later figure is not the earlier one's peak.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The child of [`memory`]: a simulator with 100,000 sent posts on one channel, serving until
/// its stdin closes.
fn serve_sim() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let sim = unlimited().await;
        let channel = sim.demo().channels[0].id.clone();
        let start = chrono::Utc::now() - chrono::TimeDelta::days(400);
        for i in 0..STREAMED_POSTS {
            let sent = start + chrono::TimeDelta::minutes(i as i64);
            sim.store()
                .add_sent_post(&channel, &format!("sent post {i}"), sent)
                .expect("the simulator accepts the post");
        }
        println!(
            "{} {} {channel} {} {} {}",
            sim.rest_url(),
            sim.access_token(),
            sim.graphql_url(),
            sim.api_key(),
            sim.organization_id()
        );
        std::io::stdout().flush().expect("stdout");
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            let _ = std::io::stdin().read_line(&mut sink);
        })
        .await
        .expect("stdin");
        eprintln!("(simulator peak memory: {:.1} MB)", peak_rss_mb());
    });
}

/// 500 posts under GraphQL's limits (100 per 15 minutes, 250 a day), with the simulator's
/// clock 100 times faster: requests, 429s, and time against the least the limits allow.
async fn batch() -> Result<Vec<Figure>> {
    let scale = 100.0;
    let sim = Simulator::builder()
        .queue_limit(10_000)
        .clock_scale(scale)
        .start()
        .await;
    let channel = sim
        .demo()
        .channel(Service::Twitter)
        .expect("a demo channel")
        .id
        .clone();
    let posts: Vec<NewPost> = (0..500)
        .map(|i| NewPost::new(format!("batch post {i}")).channel(channel.as_str()))
        .collect();
    let backend = Retrying::new(Paced::with(
        graphql(&sim),
        Pacing::graphql().time_scale(scale),
    ));
    let started = Instant::now();
    let outcomes = backend.create_posts(&posts).await?;
    let took = started.elapsed();
    let created: usize = outcomes.iter().map(|o| o.posts().count()).sum();
    let requests = sim.requests();
    let refused = requests.iter().filter(|r| r.status == Some(429)).count();
    // The fewest requests are ceil(500 / 30) = 17, all inside one 15-minute window: the
    // limits allow them back to back, so the least time is 17 round trips.
    let round_trip = back_to_back(requests.len()).await;
    assert_eq!(created, 500);
    Ok(vec![
        Figure::new(
            "graphql requests for a 500-post batch (vs one createPost per post)",
            requests.len() as f64,
            500.0,
            "requests",
        ),
        Figure::new(
            "429s received during the 500-post batch",
            refused as f64,
            0.0,
            "429s",
        ),
        Figure::new(
            "time for the 500-post batch (vs 17 back-to-back round trips)",
            took.as_secs_f64() * 1000.0,
            round_trip,
            "ms",
        ),
    ])
}

/// The time of `count` back-to-back batch requests (30 creates each), unpaced, on a fresh
/// simulator without limits.
async fn back_to_back(count: usize) -> f64 {
    let sim = unlimited().await;
    let channel = sim
        .demo()
        .channel(Service::Twitter)
        .expect("a demo channel")
        .id
        .clone();
    let backend = graphql(&sim);
    let started = Instant::now();
    for i in 0..count {
        let posts: Vec<NewPost> = (0..30)
            .map(|k| NewPost::new(format!("round trip {i} {k}")).channel(channel.as_str()))
            .collect();
        let _ = backend.create_posts(&posts).await;
    }
    started.elapsed().as_secs_f64() * 1000.0
}

/// Calls timed for each side of the shadow figure, alternating one by one so that drift in
/// the machine's load falls on both sides alike.
const SHADOW_CALLS: usize = 3_000;

/// A candidate that answers every read with the same 20,000 posts: a paging bug, or an account
/// far larger than the primary's view of it.
struct HugeCandidate(buffer_bridge::model::Page<buffer_bridge::model::Post>);

#[async_trait::async_trait]
impl buffer_bridge::Backend for HugeCandidate {
    fn kind(&self) -> buffer_bridge::BackendKind {
        buffer_bridge::BackendKind::GraphQl
    }

    async fn execute(&self, _: buffer_bridge::Request) -> Result<buffer_bridge::Response> {
        Ok(buffer_bridge::Response::Posts(self.0.clone()))
    }
}

/// The caller's p99 reading a 20-post queue page through a `Shadow` whose candidate answers
/// 20,000 posts, against the primary (the classic API on the simulator) alone.
async fn shadow() -> Result<Vec<Figure>> {
    use buffer_bridge::model::{Page, Post, PostStatus, Service as PostService};
    use buffer_bridge::shadow::{MemoryReporter, Shadow, Verdict};
    use std::sync::Arc;

    let sim = unlimited().await;
    let channel = sim.demo().channels[0].id.clone();
    for i in 0..PAGE_SIZE {
        sim.store()
            .add_post(buffer_sim::NewPost::new(
                &channel,
                &format!("shadowed post {i}"),
                buffer_sim::When::Queue,
            ))
            .expect("the simulator accepts the post");
    }
    let primary: Arc<dyn buffer_bridge::Backend> = Arc::new(
        buffer_bridge::rest::ClassicRest::builder()
            .access_token(sim.access_token())
            .base_url(sim.rest_url())
            .build()?,
    );
    let posts = (0..20_000)
        .map(|i| {
            let text = format!("candidate post {i}");
            let id = format!("{i:024x}");
            Post::new(
                id.as_str(),
                channel.as_str(),
                PostService::Twitter,
                text,
                PostStatus::Scheduled,
            )
        })
        .collect();
    let candidate = Arc::new(HugeCandidate(Page::new(posts, None, None)));
    let reporter = MemoryReporter::new();
    let shadowed = Shadow::builder(Arc::clone(&primary), candidate)
        .reporter(reporter.clone())
        .build();
    let query =
        PostQuery::new(channel.as_str(), PostList::Queue).page(PageRequest::first(PAGE_SIZE));

    let through_shadow: Arc<dyn buffer_bridge::Backend> = Arc::new(shadowed.clone());
    // Warm up: connections opened, the shadow's thread started.
    for backend in [&primary, &through_shadow] {
        backend.posts(&query).await?;
    }
    let (mut alone, mut through) = (Vec::new(), Vec::new());
    for _ in 0..SHADOW_CALLS {
        for (backend, times) in [(&primary, &mut alone), (&through_shadow, &mut through)] {
            let started = Instant::now();
            backend.posts(&query).await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    shadowed.settled().await;
    let reports = reporter.take();
    let compared = reports
        .iter()
        .filter(|c| c.verdict() == Verdict::Mismatch)
        .count();
    eprintln!(
        "shadow: {compared} of {} calls compared (by summary), {} dropped",
        through.len() + 1,
        shadowed.dropped()
    );
    Ok(vec![Figure::new(
        "caller p99 through a shadow with a 20,000-item candidate (vs the primary alone)",
        p99(&mut through),
        p99(&mut alone),
        "ms",
    )])
}

/// The 99th percentile of `times`.
fn p99(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    let at = (times.len() * 99).div_ceil(100).saturating_sub(1);
    times.get(at).copied().unwrap_or(0.0)
}

fn table(figures: &[Figure]) {
    let width = figures.iter().map(|f| f.metric.len()).max().unwrap_or(10);
    println!();
    println!(
        "{:width$}  {:>12}  {:>12}  {:>7}  unit",
        "figure", "ours", "baseline", "ratio"
    );
    for f in figures {
        println!(
            "{:width$}  {:>12.1}  {:>12.1}  {:>7.3}  {}",
            f.metric,
            f.ours,
            f.baseline,
            f.ratio(),
            f.unit
        );
    }
}

fn main() -> Result<()> {
    if std::env::args().any(|a| a == "--serve-sim") {
        serve_sim();
        return Ok(());
    }
    // Sections named on the command line, or all of them.
    let named: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |section: &str| named.is_empty() || named.iter().any(|n| n == section);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let mut figures = Vec::new();
    // Memory first, while this process is small.
    if wanted("memory") {
        figures.extend(runtime.block_on(memory())?);
    }
    if wanted("pages") {
        figures.extend(runtime.block_on(pages())?);
    }
    if wanted("creates") {
        figures.extend(runtime.block_on(creates())?);
    }
    if wanted("reconcile") {
        figures.extend(runtime.block_on(reconcile())?);
    }
    if wanted("decoding") {
        figures.extend(runtime.block_on(decoding()));
    }
    if wanted("batch") {
        figures.extend(runtime.block_on(batch())?);
    }
    if wanted("shadow") {
        figures.extend(runtime.block_on(shadow())?);
    }
    if wanted("fleet") {
        figures.extend(runtime.block_on(fleet::figures())?);
    }
    table(&figures);
    Ok(())
}

/// The fleet's budget in Redis against the in-process one: what one request's check costs
/// (take, then answer: two script runs), one worker at a time and many at once.
#[cfg(feature = "redis")]
mod fleet {
    use super::Figure;
    use buffer_bridge::Result;
    use buffer_bridge::fleet::Fleet;
    use buffer_bridge::http::Credential;
    use buffer_bridge::http::rate_limit::RateLimits;
    use buffer_bridge::pacing::{LocalBudget, Pacing, RateBudget};
    use std::process::{Child, Command, Stdio};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// Requests checked per measurement.
    const REQUESTS: usize = 20_000;
    /// Workers checking at once in the concurrent measurement.
    const WORKERS: usize = 16;

    /// A `redis-server` of the bench's own, killed when dropped.
    struct Server(Option<Child>, String);

    impl Drop for Server {
        fn drop(&mut self) {
            if let Some(child) = &mut self.0 {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    fn server() -> Option<Server> {
        if let Ok(url) = std::env::var("BUFFER_REDIS_URL") {
            return Some(Server(None, url));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .ok()?;
        let server = Server(Some(child), format!("redis://127.0.0.1:{port}"));
        for _ in 0..500 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// A quota no measurement reaches, so every check is the full path without a wait.
    fn pacing() -> Pacing {
        Pacing::none()
            .quota(1_000_000, Duration::from_secs(900))
            .quota(1_000_000, Duration::from_secs(86_400))
    }

    /// Checks `REQUESTS` requests through `budget` from `workers` tasks at once; returns the
    /// time they took.
    async fn run(budget: Arc<dyn RateBudget>, workers: usize) -> Duration {
        // The first request goes alone; its answer comes before the clock starts.
        budget
            .acquire(tokio::time::Instant::now() + Duration::from_secs(10))
            .await
            .expect("room");
        budget.answered(&RateLimits::default(), false);
        let started = Instant::now();
        let tasks: Vec<_> = (0..workers)
            .map(|_| {
                let budget = budget.clone();
                tokio::spawn(async move {
                    for _ in 0..REQUESTS / workers {
                        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
                        budget.acquire(deadline).await.expect("room");
                        budget.answered(&RateLimits::default(), false);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("a worker");
        }
        started.elapsed()
    }

    /// Waits until Redis has counted every answer (none of the budget's tickets is left), for
    /// ten seconds at most.
    async fn drained(url: &str) {
        let client = redis::Client::open(url).expect("a Redis URL");
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("Redis answers");
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg("bench:budget:*:taken")
                .query_async(&mut connection)
                .await
                .expect("keys");
            let mut left = 0;
            for key in keys {
                let count: usize = redis::cmd("ZCARD")
                    .arg(key)
                    .query_async(&mut connection)
                    .await
                    .expect("a count");
                left += count;
            }
            if left == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        eprintln!("fleet: answers were still on their way after ten seconds");
    }

    /// Redis's own CPU per script run, from `INFO commandstats`.
    async fn script_cpu(url: &str) -> f64 {
        let client = redis::Client::open(url).expect("a Redis URL");
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("Redis answers");
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut connection)
            .await
            .expect("stats");
        info.lines()
            .find(|line| line.starts_with("cmdstat_evalsha:"))
            .and_then(|line| line.split(',').find(|f| f.starts_with("usec_per_call=")))
            .and_then(|field| field["usec_per_call=".len()..].parse().ok())
            .unwrap_or(0.0)
    }

    pub(super) async fn figures() -> Result<Vec<Figure>> {
        let Some(server) = server() else {
            eprintln!(
                "fleet: no redis-server to measure against (install it, or set BUFFER_REDIS_URL)"
            );
            return Ok(Vec::new());
        };
        let url = server.1.clone();
        let mut figures = Vec::new();
        for workers in [1, WORKERS] {
            let fleet = Fleet::new(&url)?.prefix("bench")?;
            // A credential of its own each time, so each measurement starts from an empty count.
            let credential = Credential::new(format!("bench-{workers}-{}", std::process::id()));
            let shared = Arc::new(fleet.budget(&credential, &pacing()));
            let started = Instant::now();
            run(shared.clone(), workers).await;
            drained(&url).await;
            let redis = started.elapsed();
            let local = run(Arc::new(LocalBudget::new(&pacing())), workers).await;
            let per_request = |took: Duration| took.as_secs_f64() * 1e6 / REQUESTS as f64;
            figures.push(Figure::new(
                format!("fleet budget check, {workers} worker(s), per request"),
                per_request(redis),
                per_request(local),
                "µs",
            ));
            figures.push(Figure::new(
                format!("fleet budget checks, {workers} worker(s), per second"),
                REQUESTS as f64 / redis.as_secs_f64(),
                REQUESTS as f64 / local.as_secs_f64(),
                "requests/s",
            ));
        }
        // Two script runs per request (take and answer).
        let cpu = script_cpu(&url).await;
        figures.push(Figure::new(
            "Redis CPU per request (two scripts), against a second",
            2.0 * cpu,
            1e6,
            "µs",
        ));
        Ok(figures)
    }
}

#[cfg(not(feature = "redis"))]
mod fleet {
    use super::Figure;
    use buffer_bridge::Result;

    pub(super) async fn figures() -> Result<Vec<Figure>> {
        eprintln!(
            "fleet: built without the redis feature (cargo run --features redis --example bench -- fleet)"
        );
        Ok(Vec::new())
    }
}
