//! [`Job`]: a plan run against a backend: checked first, then sent once, resumable.

use super::media::MediaCheck;
use super::plan::{Plan, PlanLine};
use super::report::{ChannelReport, ChannelState, LineProblem, LineReport, Report};
use super::time::Stagger;
use crate::backend::{Backend, BackendExt, BackendKind, Operation};
use crate::journal::{Entry, Journal, SlotState};
use crate::model::{Channel, ChannelResult, CreateOutcome, NewPost, When};
use crate::{Error, Result};
use std::sync::Arc;

/// Channels per create call: GraphQL sends up to 30 `createPost` aliases in one request, so a
/// call of 30 slots costs one request there, and progress is reported after each.
const SLOTS_PER_CALL: usize = 30;

/// Where a running job stands, handed to the progress callback after each create call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Lines this run sends or settles (lines an earlier run finished are not counted).
    pub total: usize,
    /// Of those, lines handled so far.
    pub done: usize,
    /// Channels created so far in this run.
    pub created: usize,
    /// Channels that failed so far in this run.
    pub failed: usize,
    /// Channels whose outcome is unknown so far in this run.
    pub unknown: usize,
}

/// The progress callback's type.
pub type ProgressFn = Box<dyn FnMut(&Progress) + Send>;

/// A plan run as a job: every line checked before anything is sent, each line created once
/// under its key, and a rerun that skips what is created, reconciles what is unknown and
/// sends only the rest.
///
/// `backend` must be the write path over `journal`: a [`Retrying`](crate::retry::Retrying)
/// with that journal (a client built from [`BackendConfig`](crate::config::BackendConfig)
/// with `journal.path` set is one), paced to stay inside Buffer's rate limits. The job reads
/// the journal to skip settled lines without a request, and leaves sending, retrying and
/// reconciling to that layer.
///
/// ```
/// use buffer_bridge::journal::MemoryJournal;
/// use buffer_bridge::publish::{Job, Plan};
/// use buffer_bridge::{graphql::GraphQl, retry::Retrying, pacing::Paced};
/// use std::sync::Arc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> buffer_bridge::Result<()> {
/// let sim = buffer_sim::Simulator::start().await;
/// let graphql = GraphQl::builder().api_key(sim.api_key()).base_url(sim.graphql_url()).build()?;
/// let journal = Arc::new(MemoryJournal::new()); // a SqliteJournal beside the plan in practice
/// let backend = Arc::new(Retrying::new(Paced::new(graphql)).journal(journal.clone()));
///
/// let plan = Plan::parse_jsonl("launch.jsonl", r#"{"channels": "twitter:buffer_sim", "text": "Launch day!"}"#);
/// let report = Job::new(plan, backend, journal)
///     .on_progress(|p| eprintln!("{}/{} lines", p.done, p.total))
///     .run()
///     .await?;
/// assert!(report.is_complete());
/// # Ok(()) }
/// ```
pub struct Job {
    plan: Plan,
    backend: Arc<dyn Backend>,
    journal: Arc<dyn Journal>,
    dry_run: bool,
    skip_invalid: bool,
    stagger: Option<Stagger>,
    drafts: bool,
    media: Option<MediaCheck>,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("plan", &self.plan.source())
            .field("backend", &self.backend.describe())
            .field("dry_run", &self.dry_run)
            .field("skip_invalid", &self.skip_invalid)
            .field("stagger", &self.stagger)
            .field("drafts", &self.drafts)
            .field("media", &self.media.is_some())
            .finish_non_exhaustive()
    }
}

/// One line ready to send, or settled by an earlier run.
enum Prepared {
    /// Every channel created by an earlier run: nothing to send.
    Settled(LineReport),
    /// To send (or to reconcile, when the journal has it unsettled).
    Send(NewPost),
    /// Refused by its resolution or preflight; the problem is in the report.
    Invalid,
}

impl Job {
    /// A job of `plan` over `backend`, whose creates are journaled in `journal`.
    pub fn new(plan: Plan, backend: Arc<dyn Backend>, journal: Arc<dyn Journal>) -> Self {
        Self {
            plan,
            backend,
            journal,
            dry_run: false,
            skip_invalid: false,
            stagger: None,
            drafts: false,
            media: None,
            progress: None,
        }
    }

    /// Does everything but send: reads the journal and the channels, runs preflight, and
    /// reports what would be sent.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Sends the valid lines even when some are invalid (they are reported, not sent). By
    /// default one invalid line stops the job before anything is sent.
    pub fn skip_invalid(mut self, skip: bool) -> Self {
        self.skip_invalid = skip;
        self
    }

    /// Spreads the lines without a time instead of queueing them.
    pub fn stagger(mut self, stagger: Stagger) -> Self {
        self.stagger = Some(stagger);
        self
    }

    /// Creates drafts for a person to approve in Buffer (GraphQL `saveToDraft`). The classic
    /// API has no drafts: the job then refuses before sending anything.
    pub fn as_drafts(mut self, drafts: bool) -> Self {
        self.drafts = drafts;
        self
    }

    /// Checks every asset URL of the lines to send before sending (see [`MediaCheck`]): an
    /// unreachable URL, a wrong type or a picture too large makes the line invalid; a URL
    /// that expires before the post is due is a warning.
    pub fn check_media(mut self, check: MediaCheck) -> Self {
        self.media = Some(check);
        self
    }

    /// Calls `progress` after each create call.
    pub fn on_progress(mut self, progress: impl FnMut(&Progress) + Send + 'static) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// Runs the job. The report has every line's outcome per channel; a job stopped by
    /// invalid lines is [`refused`](Report::refused) with every problem listed. An error is
    /// returned only when the job could not start (the journal or the channel list could
    /// not be read, or drafts were asked of the classic API).
    pub async fn run(mut self) -> Result<Report> {
        if self.drafts && self.backend.kind() == BackendKind::ClassicRest {
            return Err(Error::Unsupported {
                operation: Operation::CreatePost,
                backend: BackendKind::ClassicRest,
                hint: "the classic API has no drafts; publish the plan through GraphQL to create \
                       drafts, or without --as-drafts and review the queue in Buffer"
                    .to_owned(),
            });
        }
        let mut progress = self.progress.take();
        let plan = &self.plan;
        let mut entries = Vec::with_capacity(plan.lines().len());
        for line in plan.lines() {
            entries.push(self.journal.entry(&line.key).await?);
        }
        let unsettled = entries.iter().any(|entry| !is_created(entry.as_ref()));
        // Channels are resolved once, and only when some line still needs sending.
        let channels = if unsettled {
            self.backend.channels().await?
        } else {
            Vec::new()
        };
        let mut problems: Vec<LineProblem> = plan
            .errors()
            .iter()
            .cloned()
            .map(LineProblem::Plan)
            .collect();
        let mut timeless = 0;
        let mut prepared = Vec::with_capacity(plan.lines().len());
        for (line, entry) in plan.lines().iter().zip(entries) {
            let stagger_slot = timeless;
            if line.when.is_none() {
                timeless += 1;
            }
            prepared.push(self.prepare(line, entry, &channels, stagger_slot, &mut problems));
        }
        if let Some(check) = &self.media {
            media_problems(check, plan.lines(), &mut prepared, &mut problems).await;
        }
        problems.sort_by_key(LineProblem::line);
        let invalid = problems.iter().any(LineProblem::is_error);
        let refused = invalid && !self.skip_invalid;
        let mut reports: Vec<Option<LineReport>> = plan
            .lines()
            .iter()
            .zip(&prepared)
            .map(|(line, prepared)| match prepared {
                Prepared::Settled(report) => Some(report.clone()),
                Prepared::Send(post) => Some(not_sent(line, post)),
                Prepared::Invalid => None,
            })
            .collect();
        if !refused && !self.dry_run {
            send(
                self.backend.as_ref(),
                plan.lines(),
                &prepared,
                &mut reports,
                &mut progress,
            )
            .await;
        }
        Ok(Report {
            dry_run: self.dry_run,
            refused,
            lines: reports.into_iter().flatten().collect(),
            problems,
            tally: Default::default(),
        }
        .counted())
    }

    /// Settles a line from the journal, or builds its post and runs preflight on it.
    fn prepare(
        &self,
        line: &PlanLine,
        entry: Option<Entry>,
        channels: &[Channel],
        stagger_slot: u32,
        problems: &mut Vec<LineProblem>,
    ) -> Prepared {
        if let Some(entry) = entry {
            if is_created(Some(&entry)) {
                return Prepared::Settled(journaled(line.line, &entry, true));
            }
            // What an earlier run journaled is what was (or may have been) sent: settle that,
            // whatever the stagger's start is now.
            if let Some(mut post) = entry.intent.post {
                post.idempotency_key = Some(line.key.clone());
                return Prepared::Send(post);
            }
        }
        let channel_ids = match line.resolve(channels) {
            Ok(ids) => ids,
            Err(error) => {
                problems.push(LineProblem::Plan(error));
                return Prepared::Invalid;
            }
        };
        let when = match (&line.when, &self.stagger) {
            (Some(when), _) => when.clone(),
            (None, Some(stagger)) => When::At(stagger.at(stagger_slot)),
            (None, None) => When::Queue,
        };
        let mut post = line.new_post(channel_ids, when);
        if self.drafts {
            post = post.as_draft();
        }
        let mut valid = true;
        // Buffer's clock decides what is past; this machine's only until Buffer has answered.
        let now = self.backend.server_time().unwrap_or_else(chrono::Utc::now);
        for problem in crate::preflight::check_new_post(&post, channels, self.backend.kind(), now) {
            valid &= !problem.is_error();
            problems.push(LineProblem::Preflight {
                line: line.line,
                problem,
            });
        }
        if valid {
            Prepared::Send(post)
        } else {
            Prepared::Invalid
        }
    }
}

/// Sends every line to send, in plan order, about [`SLOTS_PER_CALL`] channels a call.
async fn send(
    backend: &dyn Backend,
    lines: &[PlanLine],
    prepared: &[Prepared],
    reports: &mut [Option<LineReport>],
    callback: &mut Option<ProgressFn>,
) {
    let todo: Vec<(usize, &NewPost)> = prepared
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p {
            Prepared::Send(post) => Some((i, post)),
            _ => None,
        })
        .collect();
    let mut progress = Progress {
        total: todo.len(),
        ..Progress::default()
    };
    if let Some(callback) = callback {
        callback(&progress);
    }
    let mut rest = todo.as_slice();
    while !rest.is_empty() {
        let mut slots = 0;
        let take = rest
            .iter()
            .take_while(|(_, post)| {
                let fits = slots == 0 || slots + post.channel_ids.len() <= SLOTS_PER_CALL;
                slots += post.channel_ids.len();
                fits
            })
            .count();
        let (call, after) = rest.split_at(take);
        rest = after;
        let posts: Vec<NewPost> = call.iter().map(|(_, post)| (*post).clone()).collect();
        let outcomes = backend.create_posts(&posts).await;
        for (n, (i, post)) in call.iter().enumerate() {
            let report = match &outcomes {
                Ok(outcomes) => match outcomes.get(n) {
                    Some(outcome) => sent(lines[*i].line, post, outcome),
                    None => failed_whole(lines[*i].line, post, &missing_outcome()),
                },
                Err(error) => failed_whole(lines[*i].line, post, error),
            };
            for channel in &report.channels {
                match channel.state {
                    ChannelState::Created => progress.created += 1,
                    ChannelState::Failed => progress.failed += 1,
                    ChannelState::Unknown | ChannelState::NotSent => progress.unknown += 1,
                }
            }
            reports[*i] = Some(report);
        }
        progress.done += call.len();
        if let Some(callback) = callback {
            callback(&progress);
        }
    }
}

/// Checks each distinct asset of the lines to send (a URL used by many lines is asked once,
/// whenever each is due), eight at a time, and makes a line with a media error invalid.
async fn media_problems(
    check: &MediaCheck,
    lines: &[PlanLine],
    prepared: &mut [Prepared],
    problems: &mut Vec<LineProblem>,
) {
    use futures::StreamExt;
    use std::collections::BTreeMap;
    let now = chrono::Utc::now();
    /// When a line's post is due (`None`: in the queue).
    type Due = Option<chrono::DateTime<chrono::Utc>>;
    // Per distinct asset (URL and kind): the lines that use it, and when each is due.
    let mut asked: BTreeMap<(String, String), Vec<(usize, Due)>> = BTreeMap::new();
    for (i, prepared) in prepared.iter().enumerate() {
        if let Prepared::Send(post) = prepared {
            let due = match post.when {
                When::At(at) => Some(at),
                When::Now => Some(now),
                When::Queue | When::Next => None,
            };
            for asset in &post.assets {
                let key = (asset.url.clone(), asset.kind.as_str().to_owned());
                asked.entry(key).or_default().push((i, due));
            }
        }
    }
    // Owned items: a closure over borrowed ones makes the job's future not `Send`, so an
    // application could not spawn it.
    let mut found = futures::stream::iter(asked)
        .map(|((url, kind), users)| async move {
            let kind = crate::model::AssetKind::parse(&kind);
            let fetched = check.fetched(&url, &kind).await;
            (url, users, fetched)
        })
        .buffered(8);
    let mut invalid = Vec::new();
    while let Some((url, users, fetched)) = found.next().await {
        for (i, due) in users {
            for problem in super::media::expiry(&url, due).iter().chain(&fetched) {
                let line = LineProblem::Media {
                    line: lines[i].line,
                    problem: problem.clone(),
                };
                if line.is_error() {
                    invalid.push(i);
                }
                problems.push(line);
            }
        }
    }
    for i in invalid {
        prepared[i] = Prepared::Invalid;
    }
}

fn missing_outcome() -> Error {
    Error::unexpected("a create returned fewer outcomes than posts".to_owned())
}

/// Whether the journal has every channel of the line created.
fn is_created(entry: Option<&Entry>) -> bool {
    entry.is_some_and(|entry| {
        entry
            .states
            .iter()
            .all(|state| matches!(state, SlotState::Created(_)))
    })
}

/// A line as the journal has it.
pub(super) fn journaled(line: usize, entry: &Entry, earlier: bool) -> LineReport {
    let due = match entry.intent.post.as_ref().map(|post| &post.when) {
        Some(When::At(at)) => Some(*at),
        _ => None,
    };
    let channels = entry
        .intent
        .slots
        .iter()
        .zip(&entry.states)
        .map(|(slot, state)| {
            let mut report = ChannelReport::new(slot.channel_id.as_str(), ChannelState::Unknown);
            report.due_at = due;
            match state {
                SlotState::Created(post) => {
                    report.state = ChannelState::Created;
                    report.earlier = earlier;
                    report.post_id = Some(post.id.to_string());
                    report.due_at = post.due_at.or(due);
                }
                SlotState::Failed(failed) => {
                    report.state = ChannelState::Failed;
                    report.error = Some(failed.message.clone());
                }
                SlotState::Pending => {
                    report.error = Some("sent, never answered".to_owned());
                }
                SlotState::Unknown => {
                    report.error = Some("the answer was lost".to_owned());
                }
            }
            report
        })
        .collect();
    LineReport {
        line,
        key: entry.intent.key.to_string(),
        channels,
    }
}

fn due(post: &NewPost) -> Option<chrono::DateTime<chrono::Utc>> {
    match post.when {
        When::At(at) => Some(at),
        _ => None,
    }
}

/// A line about to be sent (or that a dry run would send).
fn not_sent(line: &PlanLine, post: &NewPost) -> LineReport {
    LineReport {
        line: line.line,
        key: line.key.to_string(),
        channels: post
            .channel_ids
            .iter()
            .map(|id| {
                let mut report = ChannelReport::new(id.as_str(), ChannelState::NotSent);
                report.due_at = due(post);
                report
            })
            .collect(),
    }
}

/// A line as the create call answered it.
fn sent(line: usize, post: &NewPost, outcome: &CreateOutcome) -> LineReport {
    LineReport {
        line,
        key: post.key().to_string(),
        channels: outcome
            .channels
            .iter()
            .map(|channel| {
                let mut report =
                    ChannelReport::new(channel.channel_id.as_str(), ChannelState::Unknown);
                report.due_at = due(post);
                match &channel.result {
                    ChannelResult::Created(created) => {
                        report.state = ChannelState::Created;
                        report.post_id = Some(created.id.to_string());
                        report.due_at = created.due_at.or(report.due_at);
                    }
                    ChannelResult::Failed(error) => {
                        report.state = ChannelState::Failed;
                        report.error = Some(error.to_string());
                    }
                    ChannelResult::Unknown(error) => report.error = Some(error.to_string()),
                }
                report
            })
            .collect(),
    }
}

/// A line whose create call failed as a whole: unknown if the request may have gone out.
fn failed_whole(line: usize, post: &NewPost, error: &Error) -> LineReport {
    let state = if error.may_have_run() {
        ChannelState::Unknown
    } else {
        ChannelState::Failed
    };
    LineReport {
        line,
        key: post.key().to_string(),
        channels: post
            .channel_ids
            .iter()
            .map(|id| {
                let mut report = ChannelReport::new(id.as_str(), state);
                report.due_at = due(post);
                report.error = Some(error.to_string());
                report
            })
            .collect(),
    }
}
