//! Quickstart: one short workflow through both of Buffer's APIs, side by side.
//!
//! ```text
//! cargo run --example quickstart                  # on an embedded simulator: no account needed
//! BUFFER_ACCESS_TOKEN=… BUFFER_API_KEY=… \
//!     cargo run --example quickstart              # on real Buffer, reading only
//! BUFFER_ACCESS_TOKEN=… BUFFER_API_KEY=… \
//!     cargo run --example quickstart -- --write   # on real Buffer, writing a test post too
//! ```
//!
//! The same calls go through [`ClassicRest`] (the classic API, retiring 2027-02-01) and
//! [`GraphQl`]: read the account and its channels, queue one post on two channels, page
//! through the queue with a page token, edit the post, move it to the top, try to post it
//! again, share it now, delete it, then ask each backend for something only the other API
//! has. Each row is one call; the columns say what each backend returned. The answers are the
//! same model types on both sides, so the rows show where the APIs agree, what only one of
//! them knows (GraphQL: organizations, no totals; classic: the plan), how many requests each
//! call cost, and errors as the typed [`Error`]s a program matches on (`Unsupported` where an
//! API lacks the call, with nothing sent).
//!
//! Without credentials it starts the simulator in-process: one fake Buffer account served as
//! both APIs, so a post written through one backend is read back through the other.
//!
//! With `BUFFER_ACCESS_TOKEN` (classic) and/or `BUFFER_API_KEY` (GraphQL) set, it runs against
//! Buffer itself, with only the backends whose credential is set (`BUFFER_REST_URL`,
//! `BUFFER_GRAPHQL_URL`, `BUFFER_ORGANIZATION_ID` are honoured too). There it only reads,
//! unless `--write` is given: then the test post is scheduled 30 days ahead (so it cannot
//! publish if the run stops half way) and deleted at the end, and "share now" is still skipped,
//! because it would publish to real followers.

use buffer_bridge::config::BackendConfig;
use buffer_bridge::graphql::GraphQl;
use buffer_bridge::model::{
    Account, Channel, ChannelResult, Configuration, Idea, NewPost, OrganizationId, Page,
    PageRequest, Post, PostEdit, PostList, PostQuery, Service, When,
};
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::{Backend, BackendExt, BackendKind, Error};
use buffer_sim::Simulator;
use chrono::{TimeDelta, Utc};
use std::process::ExitCode;
use std::sync::Arc;

/// Rows that a backend's column fills, in order.
const ROWS: &[&str] = &[
    "account",
    "channels",
    "schedule",
    "create",
    "queue: first 3",
    "queue: next 3",
    "edit text",
    "move to top",
    "same text again",
    "share now",
    "delete",
    "configuration",
    "ideas",
];

/// Networks that refuse a post without an image or a video; the test post is text only.
const NEED_MEDIA: [Service; 4] = [
    Service::Instagram,
    Service::Pinterest,
    Service::Tiktok,
    Service::Youtube,
];

/// Widest a result may be before it is cut.
const CELL: usize = 45;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> buffer_bridge::Result<()> {
    let write = std::env::args().skip(1).any(|arg| arg == "--write");
    let config = BackendConfig::from_env()?;
    let real = config.rest.access_token.is_some() || config.graphql.api_key.is_some();

    // Either Buffer itself, or the simulator kept alive for the whole run.
    let (sim, backends, plan) = if real {
        let mut backends = Vec::new();
        if config.rest.access_token.is_some() {
            backends.push(config.backend_of(BackendKind::ClassicRest)?);
        }
        if config.graphql.api_key.is_some() {
            backends.push(config.backend_of(BackendKind::GraphQl)?);
        }
        let plan = Plan {
            writes: write,
            share: false,
            when: When::At(Utc::now() + TimeDelta::days(30)),
        };
        (None, backends, plan)
    } else {
        let sim = Simulator::start().await;
        let rest: Arc<dyn Backend> = Arc::new(
            ClassicRest::builder()
                .access_token(sim.access_token())
                .base_url(sim.rest_url())
                .build()?,
        );
        let graphql: Arc<dyn Backend> = Arc::new(
            GraphQl::builder()
                .api_key(sim.api_key())
                .base_url(sim.graphql_url())
                .build()?,
        );
        let plan = Plan {
            writes: true,
            share: true,
            when: When::Queue,
        };
        (Some(sim), vec![rest, graphql], plan)
    };

    println!("buffer-bridge quickstart: the same calls through both of Buffer's APIs\n");
    match &sim {
        Some(sim) => println!(
            "on:     the embedded simulator at {} (a fake Buffer account; nothing leaves this machine)\n\
             real:   set BUFFER_ACCESS_TOKEN and/or BUFFER_API_KEY to run it on your Buffer account",
            sim.addr()
        ),
        None => {
            let on: Vec<&str> = backends.iter().map(|b| name(b.kind())).collect();
            println!("on:     Buffer itself, through {}", on.join(" and "));
            for kind in BackendKind::ALL {
                if !backends.iter().any(|b| b.kind() == kind) {
                    let variable = match kind {
                        BackendKind::ClassicRest => "BUFFER_ACCESS_TOKEN",
                        BackendKind::GraphQl => "BUFFER_API_KEY",
                    };
                    println!("        not {}: {variable} is not set", name(kind));
                }
            }
            if !write {
                println!(
                    "writes: skipped, so nothing is posted to your channels; pass --write to queue a \
                     test post\n        (scheduled 30 days ahead, deleted at the end)"
                );
            } else {
                println!(
                    "writes: a test post scheduled 30 days ahead, deleted at the end; share now stays \
                     skipped (it would publish)"
                );
            }
        }
    }
    println!();

    // One backend after the other, each through the whole workflow.
    let requests = || sim.as_ref().map(|s| s.requests().len());
    let mut columns = Vec::new();
    for backend in &backends {
        let cells = workflow(backend.as_ref(), &plan, &requests).await;
        columns.push((backend.kind(), cells));
    }
    print_table(&columns);

    if let Some(graphql) = backends.iter().find(|b| b.kind() == BackendKind::GraphQl)
        && let Some(window) = graphql.rate_limits().and_then(|r| r.tightest().cloned())
        && let (Some(remaining), Some(limit)) = (window.remaining, window.limit)
    {
        println!(
            "\nGraphQL rate budget left: {remaining} of {limit} requests in its tightest window"
        );
    }
    println!(
        "\nNext: MIGRATION.md lists every classic call and what it becomes; \
         `cargo run --example side_by_side` compares the two APIs on every read."
    );
    Ok(())
}

/// What the workflow may do on this target.
struct Plan {
    /// Create, edit, move and delete a test post.
    writes: bool,
    /// Publish it at once (never on real Buffer: that posts to real followers).
    share: bool,
    /// When the test post is due.
    when: When,
}

/// One backend's answer to one row, with the requests it took (counted on the simulator).
enum Cell {
    /// What came back.
    Done(Summary, Option<usize>),
    /// The typed error the call returned.
    Failed(Error, Option<usize>),
    /// Not run, and why.
    Skipped(String),
}

/// An answer in one line, with the errors inside it (a create's refused channels).
struct Summary {
    text: String,
    errors: Vec<Error>,
}

impl From<String> for Summary {
    fn from(text: String) -> Self {
        Self {
            text,
            errors: Vec::new(),
        }
    }
}

/// Runs every row on one backend, in order; a row that needs an earlier one's result is
/// skipped when that failed.
async fn workflow(
    backend: &dyn Backend,
    plan: &Plan,
    requests: &dyn Fn() -> Option<usize>,
) -> Vec<Cell> {
    let kind = backend.kind();
    let mut cells = Vec::with_capacity(ROWS.len());
    let mut record = |cell: Cell| cells.push(cell);
    // Runs one call and records its summary or its error.
    macro_rules! step {
        ($call:expr, $summary:expr) => {{
            let before = requests();
            let result = $call;
            let cost = before.zip(requests()).map(|(b, a)| a - b);
            match result {
                Ok(value) => {
                    record(Cell::Done(Summary::from($summary(&value)), cost));
                    Some(value)
                }
                Err(error) => {
                    record(Cell::Failed(error, cost));
                    None
                }
            }
        }};
    }
    let skip = |why: &str| Cell::Skipped(why.to_owned());
    let no_writes = "skipped: reads only (pass --write)";

    let account = step!(backend.account().await, account_summary);
    let channels = step!(backend.channels().await, channels_summary);
    let targets: Vec<Channel> = channels.map(|c| text_channels(&c)).unwrap_or_default();
    let first = targets.first();
    match first {
        Some(channel) => {
            step!(backend.schedules(&channel.id).await, |s| schedule_summary(
                channel, s
            ));
        }
        None => record(skip("no channel to read")),
    }

    // Write: one post on (up to) two channels.
    let created: Vec<Post> = if !plan.writes {
        record(skip(no_writes));
        Vec::new()
    } else if targets.is_empty() {
        record(skip("no channel that takes a text-only post"));
        Vec::new()
    } else {
        let post = NewPost::new(format!("Quickstart post via {kind}"))
            .channels(targets.iter().map(|c| c.id.clone()))
            .when(plan.when.clone());
        step!(backend.create_post(&post).await, created_summary)
            .map(|outcome| outcome.posts().cloned().collect())
            .unwrap_or_default()
    };

    // Read: the first channel's queue, three at a time, then the next page by its token.
    let query = first.map(|c| PostQuery::new(c.id.clone(), PostList::Queue));
    let page = match &query {
        Some(query) => step!(
            backend
                .posts(&query.clone().page(PageRequest::first(3)))
                .await,
            page_summary
        ),
        None => {
            record(skip("no channel to read"));
            None
        }
    };
    match (query, page.and_then(|p| p.next)) {
        (Some(query), Some(token)) => {
            step!(
                backend
                    .posts(&query.page(PageRequest::after(token, 3)))
                    .await,
                page_summary
            );
        }
        _ => record(skip("no further page")),
    }

    // Write: change the post, move it, post it again, share and delete it.
    let post = created.first();
    let needs_post = if plan.writes {
        "skipped: no post was created"
    } else {
        no_writes
    };
    match post {
        Some(post) => {
            let text = format!("{}, edited", post.text);
            step!(
                backend
                    .edit_post(&post.id, &PostEdit::default().text(&text))
                    .await,
                |p: &Post| format!("now \"{}\"", p.text)
            );
            if let When::At(_) = plan.when {
                record(skip("skipped: a timed post does not move"));
            } else {
                step!(backend.move_post_to_top(&post.id).await, |p: &Post| {
                    format!("first in the queue, due {}", due(p))
                });
            }
            let again = NewPost::new(&text)
                .channel(post.channel_id.clone())
                .when(plan.when.clone());
            // Buffer refuses the same text on a channel twice; if it did not, tidy up.
            if let Some(outcome) = step!(backend.create_post(&again).await, created_summary) {
                for duplicate in outcome.posts() {
                    let _ = backend.delete_post(&duplicate.id).await;
                }
            }
        }
        None => {
            for _ in 0..3 {
                record(skip(needs_post));
            }
        }
    }
    match created.get(1).or(post) {
        Some(shared) if plan.share => {
            step!(backend.share_post(&shared.id).await, |_: &()| {
                "published (status sent)".to_owned()
            });
        }
        Some(_) => record(skip("skipped: it would publish to followers")),
        None => record(skip(needs_post)),
    }
    if created.is_empty() {
        record(skip(needs_post));
    } else {
        step!(delete_all(backend, &created).await, |gone: &String| gone
            .clone());
    }

    // What only one API has: each backend refuses the other's, before sending anything.
    step!(backend.configuration().await, configuration_summary);
    // The classic account has no organizations; the classic backend refuses ideas before
    // sending anything, whatever the id.
    let organization = account
        .and_then(|a| a.organizations.first().map(|o| o.id.clone()))
        .unwrap_or_else(|| OrganizationId::new("none"));
    step!(
        backend.ideas(&organization, PageRequest::first(10)).await,
        ideas_summary
    );
    debug_assert_eq!(cells.len(), ROWS.len(), "one cell per row");
    cells
}

/// Deletes the posts (every one, even after a failure, so no test post is left behind), then
/// reads one back to show what a deleted post answers.
async fn delete_all(backend: &dyn Backend, posts: &[Post]) -> buffer_bridge::Result<String> {
    let mut failed = None;
    for post in posts {
        if let Err(error) = backend.delete_post(&post.id).await {
            failed.get_or_insert(error);
        }
    }
    if let Some(error) = failed {
        return Err(error);
    }
    let after = match backend.post(&posts[0].id).await {
        Err(error) => format!("{:?}", error.kind()),
        Ok(_) => "still there".to_owned(),
    };
    Ok(format!(
        "{} deleted; reading one again: {after}",
        posts.len()
    ))
}

/// Up to two channels a text-only post can go to, in id order so both backends pick the same.
fn text_channels(channels: &[Channel]) -> Vec<Channel> {
    let mut usable: Vec<Channel> = channels
        .iter()
        .filter(|c| !c.is_disconnected && !NEED_MEDIA.contains(&c.service))
        .cloned()
        .collect();
    usable.sort_by(|a, b| a.id.cmp(&b.id));
    usable.truncate(2);
    usable
}

fn name(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::ClassicRest => "ClassicRest",
        BackendKind::GraphQl => "GraphQl",
    }
}

// Summaries: one line per answer.

fn account_summary(account: &Account) -> String {
    let mut parts = vec![format!("…{}", tail(account.id.as_str()))];
    if let Some(plan) = &account.plan {
        parts.push(format!("plan {plan}"));
    }
    parts.push(match account.organizations.len() {
        1 => "1 org".to_owned(),
        n => format!("{n} orgs"),
    });
    parts.extend(account.email.clone());
    parts.join(", ")
}

fn channels_summary(channels: &[Channel]) -> String {
    let mut services: Vec<&str> = channels.iter().map(|c| c.service.as_str()).collect();
    services.sort_unstable();
    if services.len() > 4 {
        let more = format!("+{}", services.len() - 3);
        services.truncate(3);
        return format!("{}: {} {more}", channels.len(), services.join(" "));
    }
    format!("{}: {}", channels.len(), services.join(" "))
}

fn schedule_summary(channel: &Channel, days: &[buffer_bridge::model::Schedule]) -> String {
    let times: usize = days.iter().map(|d| d.times.len()).sum();
    format!(
        "{} {}: {times} times a week",
        channel.service,
        channel.timezone.as_deref().unwrap_or("(no timezone)")
    )
}

fn created_summary(outcome: &buffer_bridge::model::CreateOutcome) -> Summary {
    let each: Vec<String> = outcome
        .channels
        .iter()
        .map(|c| match &c.result {
            ChannelResult::Created(post) => {
                format!("✓ {} …{}", post.service, tail(post.id.as_str()))
            }
            ChannelResult::Failed(error) => format!("✗ {:?}{}", error.kind(), code(error)),
            ChannelResult::Unknown(error) => format!("? {:?}{}", error.kind(), code(error)),
        })
        .collect();
    Summary {
        text: each.join(", "),
        errors: outcome.failures().map(|(_, e)| e.clone()).collect(),
    }
}

fn page_summary(page: &Page<Post>) -> String {
    let ids: Vec<String> = page
        .items
        .iter()
        .map(|p| format!("…{}", tail(p.id.as_str())))
        .collect();
    let total = page
        .total
        .map_or_else(|| " (no total)".to_owned(), |t| format!(" of {t}"));
    let more = if page.next.is_some() {
        ", more"
    } else {
        ", last"
    };
    format!("{}{total}: {}{more}", page.items.len(), ids.join(" "))
}

fn configuration_summary(configuration: &Configuration) -> String {
    format!("limits of {} networks", configuration.services.len())
}

fn ideas_summary(page: &Page<Idea>) -> String {
    let titles: Vec<&str> = page
        .items
        .iter()
        .filter_map(|i| i.title.as_deref())
        .collect();
    format!("{}: {}", page.items.len(), titles.join(", "))
}

fn due(post: &Post) -> String {
    post.due_at.map_or_else(
        || "unscheduled".to_owned(),
        |t| t.format("%a %H:%M UTC").to_string(),
    )
}

/// The last four characters of an id: enough to see that both backends mean the same post.
fn tail(id: &str) -> &str {
    let start = id.char_indices().rev().nth(3).map_or(0, |(i, _)| i);
    &id[start..]
}

fn code(error: &Error) -> String {
    error
        .legacy_code()
        .map(|c| format!(" {c}"))
        .unwrap_or_default()
}

// The table.

/// Prints one row per operation: its result on each backend and, on the simulator, how many
/// requests it took; then the typed errors in full.
fn print_table(columns: &[(BackendKind, Vec<Cell>)]) {
    let counted = columns
        .iter()
        .any(|(_, cells)| cells.iter().any(|c| matches!(c, Cell::Done(_, Some(_)))));
    let mut notes: Vec<String> = Vec::new();
    let mut note = |kind: BackendKind, label: &str, error: &Error| {
        notes.push(format!("{} {label}: {error}", name(kind)));
        format!(" [{}]", notes.len())
    };
    let mut header = vec!["operation".to_owned()];
    for (kind, _) in columns {
        header.push(match kind {
            BackendKind::ClassicRest => "ClassicRest (classic REST API)".to_owned(),
            BackendKind::GraphQl => "GraphQl (GraphQL API)".to_owned(),
        });
        if counted {
            header.push("req".to_owned());
        }
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (row, label) in ROWS.iter().enumerate() {
        let mut line = vec![(*label).to_owned()];
        for (kind, cells) in columns {
            let (shown, cost) = match cells.get(row) {
                Some(Cell::Done(summary, cost)) => {
                    let refs: String = summary
                        .errors
                        .iter()
                        .map(|e| note(*kind, label, e))
                        .collect();
                    (format!("{}{refs}", summary.text), *cost)
                }
                Some(Cell::Failed(error, cost)) => {
                    let at = note(*kind, label, error);
                    (format!("{:?}{}{at}", error.kind(), code(error)), *cost)
                }
                Some(Cell::Skipped(why)) => (format!("– {why}"), None),
                None => (String::new(), None),
            };
            line.push(shown);
            if counted {
                line.push(cost.map(|n| format!("{n:>3}")).unwrap_or_default());
            }
        }
        rows.push(line);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .chain([&header])
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .min(CELL)
        })
        .collect();
    let print = |cells: &[String]| {
        let shown: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{:width$}", fit(cell, *width)))
            .collect();
        println!("{}", shown.join(" │ ").trim_end());
    };
    print(&header);
    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
    println!("{}", rule.join("─┼─"));
    for row in &rows {
        print(row);
    }
    if counted {
        println!("(req: the requests each call sent, as the simulator counted them)");
    }
    if !notes.is_empty() {
        println!("\nErrors, as the typed buffer_bridge::Error each call returned:");
        for (i, note) in notes.iter().enumerate() {
            println!("  [{}] {note}", i + 1);
        }
    }
}

/// `text` cut to `width` characters, with an ellipsis when cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
