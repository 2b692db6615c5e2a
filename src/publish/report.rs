//! What a job did (or would do), line by line and channel by channel, for a table or JSON.

use super::error::PlanError;
use super::media::MediaProblem;
use crate::preflight::Problem;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where one channel of one line stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChannelState {
    /// Buffer has the post (made by this run or an earlier one; see
    /// [`ChannelReport::earlier`]).
    Created,
    /// Buffer certainly did not create it; a rerun sends it again.
    Failed,
    /// Nobody knows yet; a rerun looks it up before sending anything.
    Unknown,
    /// Not sent: a dry run, a job stopped by invalid lines, or a line the journal has not seen.
    NotSent,
}

impl ChannelState {
    /// The state's name, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
            Self::NotSent => "not_sent",
        }
    }
}

/// One channel of one line.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ChannelReport {
    /// The channel: its id once resolved, else as the plan names it.
    pub channel: String,
    /// Where it stands.
    pub state: ChannelState,
    /// Whether an earlier run had already settled it (nothing was sent for it now).
    pub earlier: bool,
    /// The post Buffer created.
    pub post_id: Option<String>,
    /// When it publishes, when known.
    pub due_at: Option<DateTime<Utc>>,
    /// Why it failed or is unknown.
    pub error: Option<String>,
}

impl ChannelReport {
    /// A channel in `state`, with nothing else known.
    pub fn new(channel: impl Into<String>, state: ChannelState) -> Self {
        Self {
            channel: channel.into(),
            state,
            earlier: false,
            post_id: None,
            due_at: None,
            error: None,
        }
    }
}

/// One line of the plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LineReport {
    /// The line in the plan file.
    pub line: usize,
    /// Its idempotency key.
    pub key: String,
    /// One per channel, in the line's order.
    pub channels: Vec<ChannelReport>,
}

impl LineReport {
    /// Whether every channel of the line is created.
    pub fn is_done(&self) -> bool {
        self.channels
            .iter()
            .all(|c| c.state == ChannelState::Created)
    }
}

/// A problem found before anything was sent: a bad line, or what preflight says a channel
/// would refuse.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LineProblem {
    /// The line could not be read or resolved.
    Plan(PlanError),
    /// Preflight: the line's post on one channel.
    Preflight {
        /// The line.
        line: usize,
        /// What preflight found.
        problem: Problem,
    },
    /// A media check (`--check-media`): one asset URL of the line.
    Media {
        /// The line.
        line: usize,
        /// What the check found.
        problem: MediaProblem,
    },
}

impl LineProblem {
    /// Whether the line cannot be sent: a bad line, or a channel that would refuse the post.
    /// Other problems are warnings.
    pub fn is_error(&self) -> bool {
        match self {
            Self::Plan(_) => true,
            Self::Preflight { problem, .. } => problem.is_error(),
            Self::Media { problem, .. } => problem.severity == crate::preflight::Severity::Error,
        }
    }

    /// The line the problem is on.
    pub fn line(&self) -> usize {
        match self {
            Self::Plan(error) => error.line,
            Self::Preflight { line, .. } | Self::Media { line, .. } => *line,
        }
    }
}

impl std::fmt::Display for LineProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Plan(error) => write!(f, "{error}"),
            Self::Preflight { line, problem } => write!(f, "line {line}: {problem}"),
            Self::Media { line, problem } => write!(f, "line {line}: {problem}"),
        }
    }
}

/// Counts of channel states over a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Tally {
    /// Channels created (now or earlier).
    pub created: usize,
    /// Of those, created by an earlier run.
    pub earlier: usize,
    /// Channels that failed.
    pub failed: usize,
    /// Channels whose outcome is unknown.
    pub unknown: usize,
    /// Channels not sent.
    pub not_sent: usize,
}

/// What a job did, or what [`status`](super::status) found in the journal.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// Whether this was a dry run (or a status read): nothing was sent.
    pub dry_run: bool,
    /// Whether the job stopped before sending because of [`problems`](Self::problems).
    pub refused: bool,
    /// Every line checked, in plan order (skipped invalid lines are absent).
    pub lines: Vec<LineReport>,
    /// Every problem found before sending, error or warning.
    pub problems: Vec<LineProblem>,
    /// The channel states counted.
    pub tally: Tally,
}

impl Report {
    /// Counts the lines' channel states into [`tally`](Self::tally).
    pub(crate) fn counted(mut self) -> Self {
        let mut tally = Tally::default();
        for channel in self.lines.iter().flat_map(|l| &l.channels) {
            match channel.state {
                ChannelState::Created => {
                    tally.created += 1;
                    tally.earlier += usize::from(channel.earlier);
                }
                ChannelState::Failed => tally.failed += 1,
                ChannelState::Unknown => tally.unknown += 1,
                ChannelState::NotSent => tally.not_sent += 1,
            }
        }
        self.tally = tally;
        self
    }

    /// Whether every line's every channel is created.
    pub fn is_complete(&self) -> bool {
        !self.refused && self.lines.iter().all(LineReport::is_done)
    }
}
