//! `compare`: every read operation over every channel of the account, on both APIs, one after
//! the other, each pair of answers compared by the library's [`Comparator`].
//!
//! The two sides run one after the other, not at once, so that the requests and time each one
//! took are its own (requests are counted from the simulator's log under `--sim`; Buffer itself
//! does not tell).

use crate::Api;
use crate::connection::Connection;
use crate::look::print_json;
use crate::table::{Table, shorten};
use buffer_bridge::model::{ChannelId, OrganizationId, PageRequest, PostId, PostList, PostQuery};
use buffer_bridge::shadow::{Comparator, Outcome, Verdict};
use buffer_bridge::{Backend, BackendKind, Error, Operation, Request, Response, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of `compare`.
#[derive(clap::Args)]
pub struct CompareArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// Exit with status 1 when any answer mismatches, the candidate fails, or both fail.
    #[arg(long)]
    pub(crate) strict: bool,
    /// The API whose answers are the reference; the other one is the candidate.
    #[arg(long, value_enum, default_value = "rest")]
    primary: Api,
    /// Posts per page when listing a channel's posts (1 to 100).
    #[arg(long, default_value_t = 20)]
    page_size: u32,
    /// Pages of each channel's queue and sent list to compare.
    #[arg(long, default_value_t = 3)]
    max_pages: u32,
    /// Posts of each list to read one by one, per channel.
    #[arg(long, default_value_t = 3)]
    posts: usize,
    /// Also list the differences that MIGRATION.md explains and the comparison ignores.
    #[arg(long)]
    verbose: bool,
}

/// How long to pause after a rate limit that announced no wait.
const CLASSIC_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(10);

/// The most one request waits for rate limits before its answer is taken as it is.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(300);

/// One side of one comparison.
#[derive(Clone, Copy, Serialize)]
struct SideStat {
    backend: BackendKind,
    /// HTTP requests it took (with any repeated after a rate limit); `None` where nothing
    /// counts them.
    requests: Option<usize>,
    /// How long its answer took, without the waits for rate limits.
    ms: u64,
}

/// One compared request.
#[derive(Serialize)]
struct Row {
    operation: Operation,
    /// `null` for account-wide operations: every row has the key, so consumers need no guess.
    channel: Option<ChannelId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    primary: SideStat,
    candidate: SideStat,
    #[serde(flatten)]
    outcome: Outcome,
}

/// Totals of one side.
#[derive(Serialize)]
struct SideTotal {
    backend: BackendKind,
    requests: Option<usize>,
    ms: u64,
}

#[derive(Serialize)]
struct Summary {
    compared: usize,
    #[serde(rename = "match")]
    matched: usize,
    mismatch: usize,
    unsupported: usize,
    failed: usize,
    /// Both sides failed the same way: nothing was compared, so it is not a match.
    both_failed: usize,
    primary: SideTotal,
    candidate: SideTotal,
}

#[derive(Serialize)]
struct Report<'a> {
    operations: &'a [Row],
    summary: Summary,
}

/// Both sides' answers to one request.
struct Answers {
    primary: Result<Response>,
    candidate: Result<Response>,
}

impl Answers {
    fn both(&self) -> [&Result<Response>; 2] {
        [&self.primary, &self.candidate]
    }
}

struct Runner<'a> {
    connection: &'a Connection,
    primary: Arc<dyn Backend>,
    candidate: Arc<dyn Backend>,
    comparator: Comparator,
    rows: Vec<Row>,
    progress: ProgressBar,
}

/// Runs the comparison and prints the report.
pub async fn run(connection: &Connection, args: &CompareArgs) -> Result<ExitCode, String> {
    let primary_kind = BackendKind::from(args.primary);
    let (primary, candidate) = match (
        connection.backend(primary_kind),
        connection.backend(primary_kind.other()),
    ) {
        (Ok(p), Ok(c)) => (p, c),
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => return Err(e),
        (Err(p), Err(c)) => return Err(format!("{}\n{c}", p.lines().next().unwrap_or(""))),
    };
    if !(1..=100).contains(&args.page_size) {
        return Err(format!(
            "--page-size must be from 1 to 100, not {}",
            args.page_size
        ));
    }
    let progress = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{spinner} comparing {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut runner = Runner {
        connection,
        primary,
        candidate,
        // The default comparator accepts the differences MIGRATION.md explains (shadow::known);
        // `--verbose` lists them.
        comparator: Comparator::default(),
        rows: Vec::new(),
        progress,
    };
    runner.whole_account(args).await;
    runner.progress.finish_and_clear();

    let summary = runner.summary();
    let failing = summary.mismatch + summary.failed + summary.both_failed;
    if args.json {
        print_json(&Report {
            operations: &runner.rows,
            summary,
        })?;
    } else {
        runner.print(&summary, args.verbose);
    }
    Ok(if args.strict && failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

impl Runner<'_> {
    /// Every read operation: the account-wide ones, then each channel's.
    async fn whole_account(&mut self, args: &CompareArgs) {
        self.progress.inc_length(4);
        let account = self.probe(Request::Account, None, None).await;
        let channels = self.probe(Request::Channels, None, None).await;
        self.probe(Request::Configuration, None, None).await;
        let url = "http://google.com".to_owned();
        self.probe(Request::LinkShares { url: url.clone() }, None, Some(url))
            .await;

        let organization = organization(&account);
        if let Some(organization_id) = organization {
            self.progress.inc_length(1);
            let request = Request::Ideas {
                organization_id: organization_id.clone(),
                page: PageRequest::first(args.page_size),
            };
            self.probe(
                request,
                None,
                Some(format!("organization {organization_id}")),
            )
            .await;
        }

        let channel_ids = channel_ids(&channels);
        for channel_id in channel_ids {
            self.one_channel(&channel_id, args).await;
        }
    }

    async fn one_channel(&mut self, id: &ChannelId, args: &CompareArgs) {
        self.progress.inc_length(3);
        let on = Some(id.clone());
        self.probe(Request::Channel { id: id.clone() }, on.clone(), None)
            .await;
        self.probe(
            Request::Schedules {
                channel_id: id.clone(),
            },
            on.clone(),
            None,
        )
        .await;
        self.probe(
            Request::DailyPostingLimits {
                channel_ids: vec![id.clone()],
            },
            on.clone(),
            None,
        )
        .await;
        for list in [PostList::Queue, PostList::Sent] {
            let name = match list {
                PostList::Sent => "sent",
                _ => "queue",
            };
            let mut post_ids: Vec<PostId> = Vec::new();
            for page in 1..=args.max_pages {
                self.progress.inc_length(1);
                let query = PostQuery::new(id.clone(), list)
                    .page(PageRequest::offset(page, args.page_size));
                let answers = self
                    .probe(
                        Request::Posts { query },
                        on.clone(),
                        Some(format!("{name} page {page}")),
                    )
                    .await;
                let (more, ids) = page_of(&answers);
                post_ids.extend(ids);
                if !more {
                    break;
                }
            }
            for post_id in post_ids.iter().take(args.posts) {
                self.progress.inc_length(1);
                self.probe(
                    Request::Post {
                        id: post_id.clone(),
                    },
                    on.clone(),
                    Some(format!("{name} post {post_id}")),
                )
                .await;
            }
            if let (PostList::Sent, Some(post_id)) = (list, post_ids.first()) {
                self.progress.inc_length(1);
                let request = Request::Interactions {
                    post_id: post_id.clone(),
                    event: "like".to_owned(),
                    page: PageRequest::first(args.page_size),
                };
                self.probe(request, on.clone(), Some(format!("likes of {post_id}")))
                    .await;
            }
        }
    }

    /// Sends one request to both sides, one after the other, and records the comparison.
    async fn probe(
        &mut self,
        request: Request,
        channel: Option<ChannelId>,
        target: Option<String>,
    ) -> Answers {
        let operation = request.operation();
        self.progress.set_message(match &target {
            Some(target) => format!("{operation} {target}"),
            None => operation.to_string(),
        });
        let primary = Arc::clone(&self.primary);
        let candidate = Arc::clone(&self.candidate);
        let (primary_answer, primary_stat) = self.side(&primary, request.clone()).await;
        let (candidate_answer, candidate_stat) = self.side(&candidate, request).await;
        let outcome = self
            .comparator
            .compare(operation, &primary_answer, &candidate_answer);
        self.rows.push(Row {
            operation,
            channel,
            target,
            primary: primary_stat,
            candidate: candidate_stat,
            outcome,
        });
        self.progress.inc(1);
        Answers {
            primary: primary_answer,
            candidate: candidate_answer,
        }
    }

    async fn side(
        &self,
        backend: &Arc<dyn Backend>,
        request: Request,
    ) -> (Result<Response>, SideStat) {
        let before = self.connection.requests_served();
        let mut waited = Duration::ZERO;
        let (answer, elapsed) = loop {
            let started = Instant::now();
            let answer = backend.execute(request.clone()).await;
            let elapsed = started.elapsed();
            // A read is safe to repeat: wait out a rate limit rather than report it as a
            // difference. The classic API announces no wait; its window is a minute.
            match &answer {
                Err(Error::RateLimited { retry_after, .. }) if waited < MAX_RATE_LIMIT_WAIT => {
                    let wait = retry_after.unwrap_or(CLASSIC_RATE_LIMIT_PAUSE);
                    self.progress.set_message(format!(
                        "rate limited by {}; waiting {} s",
                        backend.kind(),
                        wait.as_secs()
                    ));
                    tokio::time::sleep(wait).await;
                    waited += wait;
                }
                _ => break (answer, elapsed),
            }
        };
        let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        let after = self.connection.requests_served();
        let requests = before.zip(after).map(|(b, a)| a.saturating_sub(b));
        let stat = SideStat {
            backend: backend.kind(),
            requests,
            ms,
        };
        (answer, stat)
    }

    fn summary(&self) -> Summary {
        let count = |verdict| {
            self.rows
                .iter()
                .filter(|r| r.outcome.verdict == verdict)
                .count()
        };
        let total = |side: fn(&Row) -> SideStat, backend: BackendKind| SideTotal {
            backend,
            requests: self.rows.iter().map(|r| side(r).requests).sum(),
            ms: self.rows.iter().map(|r| side(r).ms).sum(),
        };
        Summary {
            compared: self.rows.len(),
            matched: count(Verdict::Match),
            mismatch: count(Verdict::Mismatch),
            unsupported: count(Verdict::Unsupported),
            failed: count(Verdict::Failed),
            both_failed: count(Verdict::BothFailed),
            primary: total(|r| r.primary, self.primary.kind()),
            candidate: total(|r| r.candidate, self.candidate.kind()),
        }
    }

    fn print(&self, summary: &Summary, verbose: bool) {
        let primary = self.primary.kind().as_str();
        let candidate = self.candidate.kind().as_str();
        let mut table = Table::new([
            "operation",
            "channel",
            "target",
            "verdict",
            primary,
            candidate,
            "note",
        ]);
        for row in &self.rows {
            table.row([
                row.operation.to_string(),
                row.channel.as_ref().map(short_id).unwrap_or_default(),
                row.target.clone().unwrap_or_default(),
                row.outcome.verdict.to_string(),
                cost(&row.primary),
                cost(&row.candidate),
                note(&row.outcome),
            ]);
        }
        print!("{table}");

        let mismatches: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| {
                r.outcome.verdict == Verdict::Mismatch || (verbose && !r.outcome.ignored.is_empty())
            })
            .collect();
        if !mismatches.is_empty() {
            println!("\nDifferences ({primary} | {candidate}):");
        }
        for row in mismatches {
            let place = [
                Some(row.operation.to_string()),
                row.channel.as_ref().map(ToString::to_string),
                row.target.clone(),
            ];
            println!(
                "  {}",
                place.into_iter().flatten().collect::<Vec<_>>().join(" ")
            );
            const SHOWN: usize = 12;
            for difference in row.outcome.differences.iter().take(SHOWN) {
                println!(
                    "    {}: {} | {}",
                    difference.path,
                    shown(difference.primary.as_ref()),
                    shown(difference.candidate.as_ref())
                );
            }
            if row.outcome.differences.len() > SHOWN {
                println!("    … and {} more", row.outcome.differences.len() - SHOWN);
            }
            if verbose {
                for ignored in &row.outcome.ignored {
                    println!(
                        "    (known) {}: {} | {} — {}",
                        ignored.difference.path,
                        shown(ignored.difference.primary.as_ref()),
                        shown(ignored.difference.candidate.as_ref()),
                        ignored.reason
                    );
                }
            }
        }
        println!(
            "\n{} compared: {} match, {} mismatch, {} unsupported, {} failed, {} both failed",
            summary.compared,
            summary.matched,
            summary.mismatch,
            summary.unsupported,
            summary.failed,
            summary.both_failed
        );
        for side in [&summary.primary, &summary.candidate] {
            let requests = side
                .requests
                .map(|n| format!("{n} requests"))
                .unwrap_or_else(|| "requests not counted".to_owned());
            println!("{}: {requests}, {} ms", side.backend, side.ms);
        }
    }
}

/// The organization to list ideas of: the first one either side reports (only GraphQL has
/// organizations).
fn organization(answers: &Answers) -> Option<OrganizationId> {
    answers.both().into_iter().find_map(|answer| match answer {
        Ok(Response::Account(account)) => account.organizations.first().map(|o| o.id.clone()),
        _ => None,
    })
}

/// Every channel either side lists, primary's order first: a channel only one side knows is
/// compared too, and shows up as a difference.
fn channel_ids(answers: &Answers) -> Vec<ChannelId> {
    let mut ids: Vec<ChannelId> = Vec::new();
    for answer in answers.both() {
        if let Ok(Response::Channels(channels)) = answer {
            for channel in channels {
                if !ids.contains(&channel.id) {
                    ids.push(channel.id.clone());
                }
            }
        }
    }
    ids
}

/// Whether either side has a next page, and the post ids of the page (primary's first).
fn page_of(answers: &Answers) -> (bool, Vec<PostId>) {
    let mut more = false;
    let mut ids: Vec<PostId> = Vec::new();
    for answer in answers.both() {
        if let Ok(Response::Posts(page)) = answer {
            more |= page.next.is_some();
            for post in &page.items {
                if !ids.contains(&post.id) {
                    ids.push(post.id.clone());
                }
            }
        }
    }
    (more, ids)
}

fn short_id(id: &ChannelId) -> String {
    let text = id.as_str();
    match text.char_indices().nth(8) {
        Some((at, _)) if text.len() > 10 => format!("{}…", &text[..at]),
        _ => text.to_owned(),
    }
}

fn cost(side: &SideStat) -> String {
    match side.requests {
        Some(n) => format!("{n} req {} ms", side.ms),
        None => format!("{} ms", side.ms),
    }
}

fn note(outcome: &Outcome) -> String {
    match outcome.verdict {
        Verdict::Mismatch => {
            let first = outcome
                .differences
                .first()
                .map(|d| d.path.to_string())
                .unwrap_or_default();
            match outcome.differences.len() {
                1 => first,
                n => format!("{first} (+{} more)", n - 1),
            }
        }
        Verdict::Match if !outcome.ignored.is_empty() => {
            format!("{} known differences", outcome.ignored.len())
        }
        Verdict::Match => String::new(),
        // Unsupported, failed, both failed: the detail says why.
        _ => shorten(outcome.detail.as_deref().unwrap_or_default(), 70),
    }
}

fn shown(value: Option<&serde_json::Value>) -> String {
    match value {
        None => "(absent)".to_owned(),
        Some(value) => shorten(&value.to_string(), 80),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan must cover every read operation there is: a new one added to the library has
    /// to be added here too.
    #[test]
    fn every_read_operation_is_compared() {
        let source = include_str!("compare.rs");
        // Reconcile is answered by the retry layer's journal, and recent_posts lists what
        // posts already compares; neither is a separate read of the account.
        let layered = [Operation::Reconcile, Operation::RecentPosts];
        for operation in Operation::ALL
            .iter()
            .filter(|op| !op.writes() && !layered.contains(op))
        {
            let variant = format!("Request::{operation:?}");
            let sent = source.match_indices(&variant).any(|(at, _)| {
                let next = source[at + variant.len()..].chars().next();
                !next.is_some_and(char::is_alphanumeric)
            });
            assert!(sent, "compare never sends {variant}");
        }
    }
}
