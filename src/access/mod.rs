//! Per-agent access to Buffer: a [`Backend`] layer that lets one agent do what its grants
//! allow, and records every call in words a person reads.
//!
//! A Buffer credential reaches the whole account. An application that hands Buffer to AI
//! agents (through the [MCP server](https://modelcontextprotocol.io), or any code of its own)
//! wraps its backend once per agent in [`Access`]: each agent has grants of `read`, `write`
//! or `full` per channel and per family of operations, and everything else is refused
//! (**deny by default**) with [`Error::Forbidden`](crate::Error::Forbidden) before anything
//! is sent. Writes under a grant with `approval = true` wait, bounded, for an [`Approver`].
//!
//! A request that names its channels is checked before it is sent. One that names only a
//! post (edit, delete, publish now, move) is checked in two steps: the agent must hold the
//! needed grant on some channel, then the post is read to learn its channel, and the write is
//! sent only if that channel is granted. Reading a post by id is the same read, so a post on a
//! channel the agent may not see is refused after it was read and never returned. A
//! reconciliation names only its key: the outcome is returned only when the agent may write on
//! every channel of that write.
//!
//! ```
//! use buffer_bridge::access::{Access, MemoryAudit, Policy};
//! use buffer_bridge::rest::ClassicRest;
//! use buffer_bridge::BackendExt;
//! use std::sync::Arc;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> buffer_bridge::Result<()> {
//! let sim = buffer_sim::Simulator::start().await;
//! let buffer = ClassicRest::builder()
//!     .access_token(sim.access_token())
//!     .base_url(sim.rest_url())
//!     .build()?;
//! let policy = Policy::from_toml_str(r#"
//!     [[agents.reader.grant]]
//!     channels = ["*"]
//!     families = ["posts"]
//!     access = "read"
//! "#)?;
//! let (agents, problems) = policy.resolve(&buffer.channels().await?);
//! assert!(problems.is_empty());
//! let audit = MemoryAudit::new();
//! let reader = Access::new(buffer, agents.get("reader")?).audit(Arc::new(audit.clone()));
//!
//! let channels = reader.channels().await?;
//! let refused = reader
//!     .create_post(&buffer_bridge::model::NewPost::new("hi").channel(channels[0].id.clone()))
//!     .await
//!     .unwrap_err();
//! assert_eq!(refused.kind(), buffer_bridge::ErrorKind::Forbidden);
//! assert_eq!(audit.records().len(), 2);
//! println!("{}", audit.records()[1].sentence); // "reader tried to queue a post on X '…' — denied: read-only for posts on X '…'"
//! # Ok(()) }
//! ```

mod approval;
mod audit;
mod policy;

pub use approval::{ApprovalQueue, Parked};
pub use audit::{AuditRecord, AuditSink, Decision, JsonlAudit, MemoryAudit, Outcome};
pub use policy::{
    Agent, AgentSpec, Agents, ChannelSelector, Family, Grant, Level, Need, Policy, PolicyProblem,
    Verdict, key_digest,
};

use crate::backend::{Backend, BackendKind, Capabilities, Operation, Request, Response};
use crate::http::transport::count_requests;
use crate::model::{ChannelId, PostId, RecentPosts};
use crate::{Error, Result};
use audit::Subject;
use chrono::Utc;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A write waiting for a person: what an [`Approver`] is shown.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PendingWrite {
    /// The agent.
    pub agent: String,
    /// The operation.
    pub operation: Operation,
    /// The channels it writes to.
    pub channels: Vec<ChannelId>,
    /// The write in one sentence.
    pub sentence: String,
}

/// Says yes or no to a write held for approval. An approver that does not answer within the
/// layer's [approval timeout](Access::approval_timeout) counts as a no.
#[async_trait::async_trait]
pub trait Approver: Send + Sync + fmt::Debug {
    /// Whether `write` may go ahead.
    async fn approve(&self, write: &PendingWrite) -> bool;
}

/// One agent's view of a backend: every request checked against the agent's grants, and
/// recorded. See the [module documentation](self).
pub struct Access<B> {
    inner: B,
    agent: Agent,
    audit: Option<Arc<dyn AuditSink>>,
    approver: Option<Arc<dyn Approver>>,
    approval_timeout: Duration,
}

impl<B: fmt::Debug> fmt::Debug for Access<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Access")
            .field("inner", &self.inner)
            .field("agent", &self.agent)
            .finish_non_exhaustive()
    }
}

impl<B: Backend> Access<B> {
    /// `inner` as `agent` may use it. Without an [audit sink](Self::audit), calls are still
    /// checked but not recorded; without an [approver](Self::approver), writes that need
    /// approval are refused.
    pub fn new(inner: B, agent: Agent) -> Self {
        Self {
            inner,
            agent,
            audit: None,
            approver: None,
            approval_timeout: Duration::from_secs(300),
        }
    }

    /// Where each call's record goes.
    pub fn audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(sink);
        self
    }

    /// Who approves writes under grants with `approval = true`.
    pub fn approver(mut self, approver: Arc<dyn Approver>) -> Self {
        self.approver = Some(approver);
        self
    }

    /// How long a write waits for its approver (default five minutes) before it is refused.
    pub fn approval_timeout(mut self, timeout: Duration) -> Self {
        self.approval_timeout = timeout;
        self
    }

    /// The agent.
    pub fn agent(&self) -> &Agent {
        &self.agent
    }

    /// The backend below.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// Checks, runs and answers one request; returns the decision and, when allowed, the
    /// answer and its subject as finally known (a call by id learns its channel).
    /// `decided` holds the decision once the request is on its way, for the record of a call
    /// dropped (or panicking) before it ends.
    async fn run(
        &self,
        request: Request,
        subject: &mut Subject,
        decided: &mut Option<Decision>,
    ) -> (Decision, Result<Response>) {
        let operation = request.operation();
        let need = Need::of_request(&request);
        let denied = |error: Error| {
            let why = match &error {
                Error::Forbidden { why, .. } => why.clone(),
                other => other.message(),
            };
            (Decision::Denied { why }, Err(error))
        };
        // First, what can be decided from the request alone.
        let mut verdicts = Vec::new();
        if subject.channels.is_empty() || need.is_account_wide() {
            match self.agent.check(operation, need, None) {
                Ok(verdict) => verdicts.push(verdict),
                Err(error) => return denied(error),
            }
        }
        for channel in &subject.channels {
            match self.agent.check(operation, need, Some(channel)) {
                Ok(verdict) => verdicts.push(verdict),
                Err(error) => return denied(error),
            }
        }
        // A call by post id: its channel decides, read before anything is changed.
        if let Some(id) = subject.post.clone().filter(|_| subject.channels.is_empty()) {
            match self.channel_of(&id).await {
                Ok(channel) => {
                    match self.agent.check(operation, need, Some(&channel)) {
                        Ok(verdict) => verdicts.push(verdict),
                        Err(error) => {
                            subject.channels = vec![channel];
                            return denied(error);
                        }
                    }
                    subject.channels = vec![channel];
                }
                Err(error) => return (Decision::Allowed, Err(error)),
            }
        }
        let mut decision = Decision::Allowed;
        if verdicts.contains(&Verdict::NeedsApproval) {
            match self.ask(subject).await {
                Ok(()) => decision = Decision::Approved,
                Err(error) => return denied(error),
            }
        }
        *decided = Some(decision.clone());
        // An answer shows only what the agent may see, whatever the request's filter (an empty
        // one may mean every channel to the API) made Buffer send.
        let readable =
            |channel: &ChannelId| self.agent.check(operation, need, Some(channel)).is_ok();
        let answer = match self.inner.execute(request).await {
            Ok(Response::Channels(channels)) => Ok(Response::Channels(
                channels
                    .into_iter()
                    .filter(|c| self.agent.sees(&c.id))
                    .collect(),
            )),
            Ok(Response::DailyPostingLimits(limits)) => Ok(Response::DailyPostingLimits(
                limits
                    .into_iter()
                    .filter(|l| readable(&l.channel_id))
                    .collect(),
            )),
            Ok(Response::RecentPosts(recent)) => Ok(Response::RecentPosts(RecentPosts::new(
                recent
                    .posts
                    .into_iter()
                    .filter(|p| readable(&p.channel_id))
                    .collect(),
                recent.complete,
            ))),
            // A reconciliation names only its key: the write's channels decide, once known,
            // and the outcome of a write on a channel the agent may not write is not its own.
            Ok(Response::Reconciled(outcomes)) => {
                subject.channels = outcomes
                    .iter()
                    .flat_map(|o| o.channels.iter().map(|c| c.channel_id.clone()))
                    .collect();
                for channel in &subject.channels {
                    if let Err(error) = self.agent.check(operation, need, Some(channel)) {
                        return denied(error);
                    }
                }
                Ok(Response::Reconciled(outcomes))
            }
            other => other,
        };
        (decision, answer)
    }

    /// The channel of post `id`, read from Buffer.
    async fn channel_of(&self, id: &str) -> Result<ChannelId> {
        match self
            .inner
            .execute(Request::Post {
                id: PostId::new(id),
            })
            .await?
        {
            Response::Post(post) => Ok(post.channel_id),
            _ => Err(Error::unexpected("a post lookup answered something else")),
        }
    }

    /// Waits for the approver's yes, within the approval timeout.
    async fn ask(&self, subject: &Subject) -> Result<()> {
        let refuse = |why: &str| {
            Err(Error::forbidden(
                self.agent.name(),
                subject.operation,
                subject.channels.first().cloned(),
                why,
            ))
        };
        let Some(approver) = &self.approver else {
            return refuse("this write needs approval and no approver is set");
        };
        let write = PendingWrite {
            agent: self.agent.name().to_owned(),
            operation: subject.operation,
            channels: subject.channels.clone(),
            sentence: subject.sentence(
                self.agent.name(),
                self.agent.directory(),
                &Decision::Allowed,
                None,
            ),
        };
        match tokio::time::timeout(self.approval_timeout, approver.approve(&write)).await {
            Ok(true) => Ok(()),
            Ok(false) => refuse("the approver said no"),
            Err(_) => refuse(&format!(
                "no approval within {}s",
                self.approval_timeout.as_secs()
            )),
        }
    }
}

/// One call on its way: recorded exactly once when it is dropped, whether it ended, was
/// cancelled (its future dropped) or panicked below.
struct Call<'a, B> {
    layer: &'a Access<B>,
    at: chrono::DateTime<Utc>,
    started: Instant,
    subject: Subject,
    /// The policy's decision, once made.
    decided: Option<Decision>,
    sent: Arc<AtomicU32>,
    /// How it ended (`Some(None)`: denied); `None` while it has not.
    outcome: Option<Option<Outcome>>,
}

impl<B> Drop for Call<'_, B> {
    fn drop(&mut self) {
        let Some(sink) = &self.layer.audit else {
            return;
        };
        let how = if std::thread::panicking() {
            "panicked"
        } else {
            "was cancelled"
        };
        let (decision, outcome) = match (self.decided.take(), self.outcome.take()) {
            (Some(decision), Some(outcome)) => (decision, outcome),
            (Some(decision), None) => (
                decision,
                Some(Outcome::Failed {
                    kind: crate::ErrorKind::Unexpected,
                    message: format!("the call {how} before it ended"),
                }),
            ),
            (None, _) => (
                Decision::Denied {
                    why: format!("the call {how} before it was decided"),
                },
                None,
            ),
        };
        let agent = &self.layer.agent;
        let sentence =
            self.subject
                .sentence(agent.name(), agent.directory(), &decision, outcome.as_ref());
        sink.record(&AuditRecord {
            at: self.at,
            agent: agent.name().to_owned(),
            operation: self.subject.operation,
            channels: std::mem::take(&mut self.subject.channels),
            decision,
            outcome,
            requests: self.sent.load(Ordering::Relaxed),
            latency_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            key: self.subject.key.take(),
            preview: self.subject.preview.take(),
            sentence,
        });
    }
}

#[async_trait::async_trait]
impl<B: Backend> Backend for Access<B> {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }

    /// What the backend can do and the agent may do somewhere: an agent is not offered what
    /// it would be refused everywhere.
    fn capabilities(&self) -> Capabilities {
        let inner = self.inner.capabilities();
        let allowed: Vec<Operation> = inner
            .operations()
            .filter(|op| self.agent.may_ever(*op))
            .collect();
        inner.only(allowed)
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        let mut call = Call {
            layer: self,
            at: Utc::now(),
            started: Instant::now(),
            subject: Subject::of(&request),
            decided: None,
            sent: Arc::new(AtomicU32::new(0)),
            outcome: None,
        };
        let (decision, answer) = count_requests(
            call.sent.clone(),
            self.run(request, &mut call.subject, &mut call.decided),
        )
        .await;
        call.outcome = Some(match (&decision, &answer) {
            (Decision::Denied { .. }, _) => None,
            (_, Ok(response)) => Some(audit::succeeded(response)),
            (_, Err(error)) => Some(Outcome::Failed {
                kind: error.kind(),
                message: error.message(),
            }),
        });
        call.decided = Some(decision);
        answer
    }

    fn rate_limits(&self) -> Option<crate::http::rate_limit::RateLimits> {
        self.inner.rate_limits()
    }

    fn server_time(&self) -> Option<chrono::DateTime<Utc>> {
        self.inner.server_time()
    }

    fn describe(&self) -> String {
        format!(
            "access for {} over {}",
            self.agent.name(),
            self.inner.describe()
        )
    }
}
