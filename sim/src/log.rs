//! The request log tests read: what was asked, of which API, and what was answered.

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

/// A shared, append-only list of entries.
#[derive(Clone, Debug, Default)]
pub(crate) struct RequestLog {
    entries: Arc<Mutex<Vec<RequestEntry>>>,
}

impl RequestLog {
    pub(crate) fn push(&self, entry: RequestEntry) {
        self.lock().push(entry);
    }

    pub(crate) fn entries(&self) -> Vec<RequestEntry> {
        self.lock().clone()
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RequestEntry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
