//! The request log tests read: what was asked, of which API, and what was answered.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

/// Which of Buffer's two APIs a request went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Api {
    /// The classic REST API under `/1/`.
    Rest,
    /// The GraphQL API at `/` and `/graphql`.
    GraphQl,
}

/// One answered (or dropped) request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestEntry {
    /// The API it went to.
    pub api: Api,
    /// HTTP method.
    pub method: String,
    /// URL path, without the query string.
    pub path: String,
    /// GraphQL: the operation name, or the first root field when the operation has no name.
    pub operation: Option<String>,
    /// GraphQL: every root field the operation selected (aliases resolved to field names).
    pub root_fields: Vec<String>,
    /// HTTP status; `None` when the connection was dropped before the request was handled
    /// (for a lost response, the status that never reached the client).
    pub status: Option<u16>,
    /// The fault injected into this request, if any (`latency`, `server_error`, …).
    pub fault: Option<&'static str>,
}

/// How many entries the log keeps: enough for any test's assertions, while a long-running
/// simulator (the binary, a benchmark's child process) does not grow without bound.
pub const REQUEST_LOG_CAPACITY: usize = 10_000;

/// Counts of every request since the simulator started (or its log was cleared), which the
/// log's window does not bound: a soak of a hundred thousand requests is still asserted on in
/// full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestTotals {
    /// Requests to the classic API.
    pub rest: u64,
    /// Requests to the GraphQL API.
    pub graphql: u64,
    /// Requests a fault was injected into.
    pub faulted: u64,
    /// 429s the simulator answered for its own rate limits (not injected ones).
    pub rate_limited: u64,
}

impl RequestTotals {
    /// Every request, to either API.
    pub fn requests(&self) -> u64 {
        self.rest + self.graphql
    }

    fn count(&mut self, entry: &RequestEntry) {
        match entry.api {
            Api::Rest => self.rest += 1,
            Api::GraphQl => self.graphql += 1,
        }
        if entry.fault.is_some() {
            self.faulted += 1;
        } else if entry.status == Some(429) {
            self.rate_limited += 1;
        }
    }
}

/// A shared list of the latest [`REQUEST_LOG_CAPACITY`] entries, oldest first, and the totals
/// of all of them.
#[derive(Clone, Debug, Default)]
pub(crate) struct RequestLog {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: VecDeque<RequestEntry>,
    totals: RequestTotals,
}

impl RequestLog {
    /// Appends `entry`, forgetting the oldest one when the log is full.
    pub(crate) fn push(&self, entry: RequestEntry) {
        let mut inner = self.lock();
        inner.totals.count(&entry);
        if inner.entries.len() >= REQUEST_LOG_CAPACITY {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    pub(crate) fn entries(&self) -> Vec<RequestEntry> {
        self.lock().entries.iter().cloned().collect()
    }

    pub(crate) fn totals(&self) -> RequestTotals {
        self.lock().totals
    }

    pub(crate) fn clear(&self) {
        *self.lock() = Inner::default();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: String) -> RequestEntry {
        RequestEntry {
            api: Api::Rest,
            method: "GET".to_owned(),
            path,
            operation: None,
            root_fields: Vec::new(),
            status: Some(200),
            fault: None,
        }
    }

    #[test]
    fn the_log_keeps_only_the_latest_entries() {
        let log = RequestLog::default();
        for n in 0..REQUEST_LOG_CAPACITY + 5 {
            log.push(entry(format!("/1/{n}.json")));
        }
        let entries = log.entries();
        assert_eq!(entries.len(), REQUEST_LOG_CAPACITY);
        assert_eq!(log.totals().rest, (REQUEST_LOG_CAPACITY + 5) as u64);
        assert_eq!(entries[0].path, "/1/5.json");
        assert_eq!(
            entries.last().map(|e| e.path.clone()),
            Some(format!("/1/{}.json", REQUEST_LOG_CAPACITY + 4))
        );
    }
}
