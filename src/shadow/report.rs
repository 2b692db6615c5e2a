//! Where comparisons go: a [`Reporter`], with three kinds ready to use.

use super::compare::{Outcome, Verdict};
use crate::backend::{BackendKind, Operation, Request};
use serde::{Serialize, Serializer};
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// One backend's side of a comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Side {
    /// Which API it speaks.
    pub backend: BackendKind,
    /// How long it took to answer (for the candidate: until it answered, failed or timed out).
    #[serde(rename = "ms", serialize_with = "millis")]
    pub elapsed: Duration,
}

impl Side {
    /// A side of a comparison.
    pub fn new(backend: BackendKind, elapsed: Duration) -> Self {
        Self { backend, elapsed }
    }
}

fn millis<S: Serializer>(elapsed: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
}

/// One call compared: what was asked, how long each side took, and how they compared.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Comparison {
    /// The operation.
    pub operation: Operation,
    /// The request both sides answered.
    pub request: Request,
    /// The primary, whose answer the caller got.
    pub primary: Side,
    /// The candidate.
    pub candidate: Side,
    /// The verdict and differences.
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl Comparison {
    /// The verdict.
    pub fn verdict(&self) -> Verdict {
        self.outcome.verdict
    }
}

/// Receives every comparison a [`Shadow`](super::Shadow) makes.
///
/// Called on the shadow's own thread, after the caller already has the primary's answer: a
/// slow reporter delays nothing but later comparisons (which are dropped once
/// [`max_in_flight`](super::ShadowBuilder::max_in_flight) are waiting for it).
pub trait Reporter: Send + Sync {
    /// Records one comparison.
    fn report(&self, comparison: &Comparison);
}

/// Reports through `tracing` (target `buffer_bridge::shadow`): mismatches, failures and drops
/// as warnings, matches, unsupported operations and calls both sides failed at debug level.
/// The default reporter.
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingReporter;

impl Reporter for TracingReporter {
    fn report(&self, c: &Comparison) {
        let operation = c.operation.as_str();
        let primary_ms = c.primary.elapsed.as_millis() as u64;
        let candidate_ms = c.candidate.elapsed.as_millis() as u64;
        match c.outcome.verdict {
            Verdict::Match => tracing::debug!(
                target: "buffer_bridge::shadow",
                operation, primary_ms, candidate_ms, ignored = c.outcome.ignored.len(),
                "candidate matched the primary"
            ),
            Verdict::Mismatch => {
                let first = c
                    .outcome
                    .differences
                    .first()
                    .map(|d| d.path.to_string())
                    .unwrap_or_default();
                tracing::warn!(
                    target: "buffer_bridge::shadow",
                    operation, primary_ms, candidate_ms,
                    differences = c.outcome.differences.len(), first = %first,
                    "candidate differs from the primary"
                );
            }
            Verdict::Unsupported => tracing::debug!(
                target: "buffer_bridge::shadow",
                operation, candidate = %c.candidate.backend,
                "candidate does not support the operation"
            ),
            Verdict::Failed => tracing::warn!(
                target: "buffer_bridge::shadow",
                operation, candidate_ms, error = c.outcome.detail.as_deref().unwrap_or(""),
                "candidate failed"
            ),
            // The caller got the primary's error already.
            Verdict::BothFailed => tracing::debug!(
                target: "buffer_bridge::shadow",
                operation, errors = c.outcome.detail.as_deref().unwrap_or(""),
                "both backends failed"
            ),
            Verdict::Dropped => tracing::warn!(
                target: "buffer_bridge::shadow",
                operation, detail = c.outcome.detail.as_deref().unwrap_or(""),
                "comparison dropped"
            ),
        }
    }
}

/// Writes each comparison as one line of JSON to any writer (a file, stderr, a socket).
///
/// A write error is logged and the comparison dropped: reporting never fails a call.
#[derive(Debug)]
pub struct JsonLinesReporter<W> {
    writer: Mutex<W>,
}

impl<W: Write + Send> JsonLinesReporter<W> {
    /// Writes to `writer`.
    pub fn new(writer: W) -> Self {
        Self {
            writer: Mutex::new(writer),
        }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.writer
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<W: Write + Send> Reporter for JsonLinesReporter<W> {
    fn report(&self, comparison: &Comparison) {
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let written = serde_json::to_writer(&mut *writer, comparison)
            .map_err(std::io::Error::from)
            .and_then(|()| writer.write_all(b"\n"))
            .and_then(|()| writer.flush());
        if let Err(error) = written {
            tracing::warn!(target: "buffer_bridge::shadow", %error, "could not write a comparison");
        }
    }
}

/// Keeps comparisons in memory, for tests and for programs that print a summary at the end.
/// Clones share one list.
#[derive(Clone, Debug, Default)]
pub struct MemoryReporter {
    comparisons: Arc<Mutex<Vec<Comparison>>>,
}

impl MemoryReporter {
    /// An empty reporter.
    pub fn new() -> Self {
        Self::default()
    }

    /// The comparisons so far, oldest first.
    pub fn comparisons(&self) -> Vec<Comparison> {
        self.lock().clone()
    }

    /// Takes the comparisons so far, leaving none.
    pub fn take(&self) -> Vec<Comparison> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Comparison>> {
        self.comparisons
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Reporter for MemoryReporter {
    fn report(&self, comparison: &Comparison) {
        self.lock().push(comparison.clone());
    }
}

impl<R: Reporter + ?Sized> Reporter for Arc<R> {
    fn report(&self, comparison: &Comparison) {
        (**self).report(comparison);
    }
}
