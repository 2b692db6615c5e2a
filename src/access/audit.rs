//! What each agent did, one record per call: as JSON for programs and as one sentence for
//! people.

use super::policy::Directory;
use crate::backend::{Operation, Request, Response};
use crate::model::{ChannelId, CreateOutcome};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// How much of a post's text a record keeps: enough to recognise it, not to carry it.
const PREVIEW_CHARS: usize = 24;

/// What the policy decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
#[non_exhaustive]
pub enum Decision {
    /// Allowed by a grant.
    Allowed,
    /// Allowed by a grant once an approver said yes.
    Approved,
    /// Refused; nothing was sent.
    Denied {
        /// Why, in words.
        why: String,
    },
}

/// How an allowed call ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
#[non_exhaustive]
pub enum Outcome {
    /// It succeeded; for a create, channel by channel.
    Succeeded {
        /// Ids of the posts a create made.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        created: Vec<String>,
        /// Channels where a create certainly made nothing, with why in a word (`duplicate`,
        /// `too_long`, or the error's kind).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        not_created: Vec<(ChannelId, String)>,
        /// Channels where a create's outcome is not known yet.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        unknown: Vec<ChannelId>,
    },
    /// It failed.
    Failed {
        /// The error's kind.
        kind: crate::ErrorKind,
        /// Its message (secrets were removed where the error was made).
        message: String,
    },
}

/// One call by one agent: a line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditRecord {
    /// When the call started.
    pub at: DateTime<Utc>,
    /// The agent.
    pub agent: String,
    /// The operation.
    pub operation: Operation,
    /// The channels it named (for a call by post id: the post's channel, once read).
    pub channels: Vec<ChannelId>,
    /// What the policy decided.
    #[serde(flatten)]
    pub decision: Decision,
    /// How it ended; `None` when it was denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// HTTP requests it sent to Buffer: 0 when denied from the request alone; a call by post
    /// id counts the read that learned the post's channel, even when that channel refused it.
    pub requests: u32,
    /// How long it took, in milliseconds.
    pub latency_ms: u64,
    /// The write's idempotency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The start of the post's text, for a person to recognise it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    /// The record in one sentence.
    pub sentence: String,
}

impl fmt::Display for AuditRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.at.format("%Y-%m-%d %H:%M:%S"),
            one_line(&self.sentence)
        )
    }
}

/// What a call was about, gathered before it runs, for its record.
#[derive(Clone, Debug)]
pub(crate) struct Subject {
    pub(crate) operation: Operation,
    pub(crate) channels: Vec<ChannelId>,
    pub(crate) key: Option<String>,
    pub(crate) preview: Option<String>,
    /// Post id, for calls by id.
    pub(crate) post: Option<String>,
    /// `for Tue 09:00`, `now`, or nothing (the queue).
    pub(crate) when: Option<String>,
}

impl Subject {
    pub(crate) fn of(request: &Request) -> Self {
        let (key, preview, when) = match request {
            Request::CreatePost { post } => (
                Some(post.key().as_str().to_owned()),
                post.text.as_deref().map(preview),
                when(post),
            ),
            Request::CreatePosts { posts } => (
                None,
                posts.first().and_then(|p| p.text.as_deref()).map(preview),
                posts.first().and_then(when),
            ),
            Request::Reconcile { key } => (Some(key.as_str().to_owned()), None, None),
            _ => (None, None, None),
        };
        let post = match request {
            Request::Post { id }
            | Request::EditPost { id, .. }
            | Request::SharePost { id }
            | Request::DeletePost { id }
            | Request::MovePostToTop { id } => Some(id.as_str().to_owned()),
            Request::Interactions { post_id, .. } => Some(post_id.as_str().to_owned()),
            _ => None,
        };
        Self {
            operation: request.operation(),
            channels: request.channels().into_iter().cloned().collect(),
            key,
            preview,
            post,
            when,
        }
    }

    /// The sentence of a call: who, what, where, and how it ended.
    pub(crate) fn sentence(
        &self,
        agent: &str,
        directory: &Directory,
        decision: &Decision,
        outcome: Option<&Outcome>,
    ) -> String {
        let denied = matches!(decision, Decision::Denied { .. });
        let what = self.what(denied);
        let place = match self.channels.as_slice() {
            [] => String::new(),
            channels => {
                let names: Vec<String> = channels.iter().map(|c| directory.name(c)).collect();
                format!(" on {}", names.join(", "))
            }
        };
        let when = self
            .when
            .as_ref()
            .map(|w| format!(" {w}"))
            .unwrap_or_default();
        let ending = match (decision, outcome) {
            (Decision::Denied { why }, _) => format!("denied: {why}"),
            (
                allowed,
                Some(Outcome::Succeeded {
                    created,
                    not_created,
                    unknown,
                }),
            ) => {
                let how = match allowed {
                    Decision::Approved => "approved",
                    _ => "allowed",
                };
                let mut said = Vec::new();
                if !created.is_empty() {
                    said.push(format!("created {}", created.join(", ")));
                }
                for (channel, why) in not_created {
                    said.push(format!(
                        "not created on {} ({why})",
                        directory.name(channel)
                    ));
                }
                if !unknown.is_empty() {
                    let names: Vec<String> = unknown.iter().map(|c| directory.name(c)).collect();
                    said.push(format!("outcome unknown on {}", names.join(", ")));
                }
                match said.is_empty() {
                    true => format!("{how}, done"),
                    false => format!("{how}, {}", said.join("; ")),
                }
            }
            (_, Some(Outcome::Failed { kind, .. })) => {
                format!("allowed, failed ({})", format!("{kind:?}").to_lowercase())
            }
            (_, None) => "allowed".to_owned(),
        };
        // Names come from Buffer and the policy: one of them must not start a line of its own.
        one_line(&format!("{agent} {what}{place}{when} — {ending}"))
    }

    fn what(&self, denied: bool) -> String {
        use Operation as O;
        let post = self
            .post
            .as_ref()
            .map(|id| format!("post {id}"))
            .unwrap_or_else(|| "a post".to_owned());
        let (done, tried) = match self.operation {
            O::CreatePost | O::CreatePosts if self.when.as_deref() == Some("now") => {
                ("published a post".to_owned(), "publish a post")
            }
            O::CreatePost | O::CreatePosts
                if self.when.as_deref().is_some_and(|w| w.starts_with("for")) =>
            {
                ("scheduled a post".to_owned(), "schedule a post")
            }
            O::CreatePost | O::CreatePosts => ("queued a post".to_owned(), "queue a post"),
            O::EditPost => (format!("edited {post}"), "edit a post"),
            O::DeletePost => (format!("deleted {post}"), "delete a post"),
            O::SharePost => (format!("published {post} now"), "publish a post now"),
            O::MovePostToTop => (format!("moved {post} to the top"), "reorder a queue"),
            O::Post => (format!("read {post}"), "read a post"),
            O::Posts => ("read the posts".to_owned(), "read posts"),
            O::Channels => ("listed the channels".to_owned(), "list channels"),
            O::Channel => ("read the channel".to_owned(), "read a channel"),
            O::ReorderQueue => ("reordered the queue".to_owned(), "reorder a queue"),
            O::ShuffleQueue => ("shuffled the queue".to_owned(), "shuffle a queue"),
            O::UpdateSchedules => ("changed the schedule".to_owned(), "change a schedule"),
            O::Deauthorize => (
                "disconnected the application".to_owned(),
                "disconnect the application",
            ),
            O::CreateIdea => ("saved an idea".to_owned(), "save an idea"),
            O::Reconcile => ("settled an earlier write".to_owned(), "settle a write"),
            other => (format!("read {}", other.as_str().replace('_', " ")), "read"),
        };
        if denied {
            match self.operation {
                O::Account
                | O::Configuration
                | O::LinkShares
                | O::Schedules
                | O::Interactions
                | O::Ideas
                | O::DailyPostingLimits
                | O::RecentPosts => format!("tried to read {}", self.operation.as_str()),
                _ => format!("tried to {tried}"),
            }
        } else {
            done
        }
    }
}

/// `text` with every control character (line breaks, escapes) made a space.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The first characters of a text, on one line.
fn preview(text: &str) -> String {
    let flat = one_line(&text.chars().take(PREVIEW_CHARS).collect::<String>());
    if text.chars().count() > PREVIEW_CHARS {
        format!("{flat}…")
    } else {
        flat
    }
}

/// `for Tue 09:00 UTC`, `now`, or nothing when the post goes to the queue.
fn when(post: &crate::model::NewPost) -> Option<String> {
    use crate::model::When;
    match post.when {
        When::Queue => None,
        When::Next => Some("at the top of the queue".to_owned()),
        When::Now => Some("now".to_owned()),
        When::At(at) => Some(format!("for {}", at.format("%a %d %b %H:%M UTC"))),
    }
}

/// Why a channel got no post, in a word: the refusal's reason, else the error's kind.
fn in_a_word(error: &Error) -> String {
    let word = match error.reason() {
        Some(reason) => serde_json::to_value(reason).ok(),
        None => serde_json::to_value(error.kind()).ok(),
    };
    word.and_then(|w| w.as_str().map(str::to_owned))
        .unwrap_or_else(|| "failed".to_owned())
}

/// A successful response as its record tells it: for creates, what each channel got.
pub(crate) fn succeeded(response: &Response) -> Outcome {
    let outcomes: &[CreateOutcome] = match response {
        Response::Created(outcome) => std::slice::from_ref(outcome),
        Response::CreatedMany(outcomes) => outcomes,
        _ => &[],
    };
    Outcome::Succeeded {
        created: outcomes
            .iter()
            .flat_map(|o| o.posts().map(|p| p.id.to_string()))
            .collect(),
        not_created: outcomes
            .iter()
            .flat_map(|o| o.failures().map(|(c, e)| (c.clone(), in_a_word(e))))
            .collect(),
        unknown: outcomes
            .iter()
            .flat_map(|o| o.unknowns().map(|(c, _)| c.clone()))
            .collect(),
    }
}

/// Where audit records go. Writing a record must not fail the call it describes, so sinks
/// report their own failures (a log line) and carry on.
pub trait AuditSink: Send + Sync + fmt::Debug {
    /// Keeps one record.
    fn record(&self, record: &AuditRecord);
}

/// Records kept in memory, for tests and for showing an agent's last calls.
#[derive(Clone, Debug, Default)]
pub struct MemoryAudit(Arc<Mutex<Vec<AuditRecord>>>);

impl MemoryAudit {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every record so far.
    pub fn records(&self) -> Vec<AuditRecord> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl AuditSink for MemoryAudit {
    fn record(&self, record: &AuditRecord) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(record.clone());
    }
}

/// Records appended to a JSON Lines file, one line a call, flushed as written so a crash
/// loses no record of a call that returned.
#[derive(Debug)]
pub struct JsonlAudit {
    path: PathBuf,
    file: Mutex<std::fs::File>,
}

impl JsonlAudit {
    /// Opens (or creates) `path` for appending.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| {
                Error::invalid_input(format!(
                    "could not open the audit log {}: {e}",
                    path.display()
                ))
            })?;
        Ok(Self {
            path,
            file: Mutex::new(file),
        })
    }

    /// Reads every record of an audit log file; lines that are not records are skipped.
    pub fn read(path: impl AsRef<Path>) -> Result<Vec<AuditRecord>> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::invalid_input(format!(
                "could not read the audit log {}: {e}",
                path.display()
            ))
        })?;
        Ok(text
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect())
    }
}

impl AuditSink for JsonlAudit {
    fn record(&self, record: &AuditRecord) {
        let Ok(mut line) = serde_json::to_vec(record) else {
            return;
        };
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = file.write_all(&line).and_then(|()| file.flush()) {
            tracing::error!(path = %self.path.display(), error = %e, "could not write an audit record");
        }
    }
}
