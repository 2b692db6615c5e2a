//! One error type for both APIs.
//!
//! The kinds follow GraphQL's `MutationError` family (invalid input, limit reached, not found,
//! unauthorized, unexpected), plus what a client meets on the way: rate limits, operations an
//! API lacks, transport failures, timeouts and bodies that cannot be read. Every kind keeps the
//! classic numeric code when there is one, so code written against `1025` (duplicate) or `1027`
//! (not movable) keeps matching after the move to GraphQL.

use crate::backend::{BackendKind, Operation};
use crate::journal::Conflict;
use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::sync::Arc;
use std::time::Duration;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, typed so callers can act on it.
///
/// ```
/// use buffer_bridge::Error;
///
/// let error = Error::from_legacy_code(1025, None);
/// assert!(matches!(error, Error::InvalidInput { .. }));
/// assert_eq!(error.legacy_code(), Some(1025));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request was refused as invalid: a bad parameter, a duplicate post, a time in the past.
    #[error("invalid input: {message}{}", code_note(*.legacy_code))]
    InvalidInput {
        /// What Buffer (or buffer-bridge) said.
        message: String,
        /// The classic error code, when there is one.
        legacy_code: Option<u16>,
    },
    /// A plan limit was reached: a full queue, too many channels or schedule slots.
    #[error("limit reached: {message}{}; free a slot (publish or delete posts) or raise the plan's limit", code_note(*.legacy_code))]
    LimitReached {
        /// What Buffer said.
        message: String,
        /// The classic error code, when there is one.
        legacy_code: Option<u16>,
    },
    /// The channel, post or endpoint does not exist, or is not visible to this token.
    #[error("not found: {message}{}", code_note(*.legacy_code))]
    NotFound {
        /// What Buffer said.
        message: String,
        /// The classic error code, when there is one.
        legacy_code: Option<u16>,
    },
    /// The token or key is missing, invalid, revoked, or lacks the permission.
    #[error("unauthorized: {message}{}; check the access token or API key and its scopes", code_note(*.legacy_code))]
    Unauthorized {
        /// What Buffer said.
        message: String,
        /// The classic error code, when there is one.
        legacy_code: Option<u16>,
    },
    /// Buffer failed on its side, or answered with an error buffer-bridge does not know.
    #[error("Buffer reported an unexpected error: {message}{}", code_note(*.legacy_code))]
    Unexpected {
        /// What Buffer said.
        message: String,
        /// The classic error code, when there is one.
        legacy_code: Option<u16>,
    },
    /// Buffer (or a proxy in front of it) answered with an HTTP 5xx status and no error code:
    /// a failure on its side that may pass. Its [`kind`](Error::kind) is
    /// [`ErrorKind::Unexpected`]; the variant exists so retries can see the status.
    #[error("Buffer failed on its side (HTTP {status}): {message}; try again later")]
    Server {
        /// The HTTP status, 500 to 599.
        status: u16,
        /// What came back.
        message: String,
    },
    /// Too many requests; wait before trying again.
    #[error("rate limited: {message}; {}", wait_note(*.retry_after))]
    RateLimited {
        /// How long to wait, when Buffer said.
        retry_after: Option<Duration>,
        /// What Buffer said.
        message: String,
    },
    /// The backend's API has no such operation; no request was sent.
    #[error("{operation} is not available on the {backend} backend: {hint}")]
    Unsupported {
        /// The operation asked for.
        operation: Operation,
        /// The backend that lacks it.
        backend: BackendKind,
        /// What to do instead.
        hint: String,
    },
    /// The request did not reach Buffer, or its answer did not come back.
    #[error("transport error: {message}")]
    Transport {
        /// What failed.
        message: String,
        /// The underlying error, with URLs removed.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    /// No answer within the configured timeout.
    #[error("no answer from Buffer within {}", duration_note(*.after))]
    Timeout {
        /// The timeout that ran out, when known.
        after: Option<Duration>,
    },
    /// Buffer answered with a body that could not be read as the API's format.
    #[error("unreadable response{}: {message}{}", status_note(*.status), snippet_note(.snippet))]
    Protocol {
        /// The HTTP status, when there was a response.
        status: Option<u16>,
        /// What was wrong with it.
        message: String,
        /// The start of the body, shortened and with secrets removed.
        snippet: String,
    },
    /// The outcome journal refused a record or could not be read or written. Nothing was sent
    /// to Buffer on account of this error. A refusal (the key is held by another writer, a
    /// lease has lapsed, a post is claimed) carries a [`Conflict`] as its source: see
    /// [`Error::journal_conflict`].
    #[error("the outcome journal could not be read or written: {message}")]
    Journal {
        /// What failed.
        message: String,
        /// The underlying error: a [`Conflict`], or the storage's own error.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
}

/// The kind of an [`Error`], without its data: for routing, retry and reporting decisions.
///
/// It reads back from the names it writes, so outcomes can be journaled; a name this version
/// does not know reads as [`ErrorKind::Unexpected`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::InvalidInput`].
    InvalidInput,
    /// [`Error::LimitReached`].
    LimitReached,
    /// [`Error::NotFound`].
    NotFound,
    /// [`Error::Unauthorized`].
    Unauthorized,
    /// [`Error::RateLimited`].
    RateLimited,
    /// [`Error::Unsupported`].
    Unsupported,
    /// [`Error::Transport`].
    Transport,
    /// [`Error::Timeout`].
    Timeout,
    /// [`Error::Protocol`].
    Protocol,
    /// [`Error::Journal`].
    Journal,
    /// [`Error::Unexpected`] and [`Error::Server`]; also what a kind this version does not
    /// know reads as (so it stays last).
    #[serde(other)]
    Unexpected,
}

fn code_note(code: Option<u16>) -> String {
    code.map(|c| format!(" (classic code {c})"))
        .unwrap_or_default()
}

fn wait_note(wait: Option<Duration>) -> String {
    match wait {
        Some(wait) => format!("retry after {}", duration_note(Some(wait))),
        None => "retry later".to_owned(),
    }
}

fn duration_note(after: Option<Duration>) -> String {
    match after {
        Some(d) if d.subsec_millis() == 0 => format!("{}s", d.as_secs()),
        Some(d) => format!("{}ms", d.as_millis()),
        None => "the configured timeout".to_owned(),
    }
}

fn status_note(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

/// Errors found while mapping an already-parsed body have no snippet worth showing.
fn snippet_note(snippet: &str) -> String {
    if snippet.is_empty() {
        String::new()
    } else {
        format!(" (body starts: {snippet:?})")
    }
}

/// One classic error code: its HTTP status, the kind it maps to, and Buffer's text for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegacyCode {
    /// The code in the `code` field of a classic error body.
    pub code: u16,
    /// The HTTP status Buffer sends it with.
    pub http_status: u16,
    /// The kind of [`Error`] it becomes.
    pub kind: ErrorKind,
    /// Buffer's documented message.
    pub message: &'static str,
}

macro_rules! legacy_codes {
    ($( $code:literal, $status:literal, $kind:ident, $message:literal; )+) => {
        /// Every classic error code Buffer documents, in code order.
        pub const LEGACY_CODES: &[LegacyCode] = &[
            $( LegacyCode { code: $code, http_status: $status, kind: ErrorKind::$kind, message: $message }, )+
        ];
    };
}

legacy_codes! {
    401, 401, Unauthorized, "Unauthorized.";
    403, 403, Unauthorized, "Permission denied.";
    404, 404, NotFound, "Endpoint not found.";
    405, 405, Unexpected, "Method not allowed.";
    429, 429, RateLimited, "Too Many Requests.";
    1000, 500, Unexpected, "An unknown error occurred.";
    1001, 403, Unauthorized, "Access token required.";
    1002, 403, Unauthorized, "Not within application scope.";
    1003, 400, InvalidInput, "Parameter not recognized.";
    1004, 400, InvalidInput, "Required parameter missing.";
    1005, 406, InvalidInput, "Unsupported response format.";
    1006, 400, InvalidInput, "Parameter value not within bounds.";
    1010, 404, NotFound, "Profile could not be found.";
    1011, 403, Unauthorized, "No authorization to access profile.";
    1012, 400, Unexpected, "Profile did not save successfully.";
    1013, 403, LimitReached, "Profile schedule limit reached.";
    1014, 403, LimitReached, "Profile limit for user has been reached.";
    1015, 403, Unexpected, "Profile could not be destroyed.";
    1016, 400, Unexpected, "Profile buffer could not be emptied.";
    1020, 404, NotFound, "Update could not be found.";
    1021, 403, Unauthorized, "No authorization to access update.";
    1022, 400, Unexpected, "Update did not save successfully.";
    1023, 403, LimitReached, "Update limit for profile has been reached.";
    1024, 403, LimitReached, "Update limit for team profile has been reached.";
    1025, 400, InvalidInput, "Update was recently posted, can't post duplicate content.";
    1026, 400, InvalidInput, "Update must be in error status to requeue.";
    1027, 400, InvalidInput, "Update must be in buffer and not custom scheduled in order to move to top.";
    1028, 403, LimitReached, "Update soft limit for profile reached.";
    1029, 400, InvalidInput, "Event type not supported.";
    1030, 400, InvalidInput, "Media filetype not supported.";
    1031, 400, InvalidInput, "Media filesize out of acceptable range.";
    1032, 400, InvalidInput, "Unable to post image to LinkedIn group(s).";
    1033, 400, InvalidInput, "Comments can only be posted to Facebook at this time.";
    1034, 400, InvalidInput, "Cannot schedule updates in the past.";
    1042, 400, Unexpected, "User did not save successfully.";
    1050, 404, NotFound, "Client could not be found.";
    1051, 403, Unauthorized, "No authorization to access client.";
}

impl LegacyCode {
    /// Looks up a documented code.
    pub fn find(code: u16) -> Option<&'static LegacyCode> {
        LEGACY_CODES.iter().find(|c| c.code == code)
    }
}

impl Error {
    /// An [`Error::InvalidInput`] raised by buffer-bridge itself, before any request.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput {
            message: message.into(),
            legacy_code: None,
        }
    }

    /// The error for a classic error code, with Buffer's message when it sent one (it may be
    /// more specific than the documented text). Undocumented codes become
    /// [`Error::Unexpected`], keeping the code.
    pub fn from_legacy_code(code: u16, message: Option<String>) -> Self {
        match LegacyCode::find(code) {
            Some(known) => Self::of_kind(
                known.kind,
                message.unwrap_or_else(|| known.message.to_owned()),
                Some(code),
            ),
            None => Self::Unexpected {
                message: message.unwrap_or_else(|| format!("undocumented error code {code}")),
                legacy_code: Some(code),
            },
        }
    }

    /// The error for an HTTP status when the body says nothing usable (the classic 401 has an
    /// empty body).
    pub fn from_status(status: u16, message: Option<String>) -> Self {
        let kind = match status {
            400 | 406 | 409 | 413 | 422 => ErrorKind::InvalidInput,
            401 | 403 => ErrorKind::Unauthorized,
            404 | 410 => ErrorKind::NotFound,
            429 => ErrorKind::RateLimited,
            500..=599 => {
                return Self::Server {
                    status,
                    message: message.unwrap_or_else(|| format!("HTTP {status}")),
                };
            }
            _ => ErrorKind::Unexpected,
        };
        Self::of_kind(
            kind,
            message.unwrap_or_else(|| format!("HTTP {status}")),
            None,
        )
    }

    /// An error of `kind` with a message and maybe a classic code. Kinds that carry other data
    /// (unsupported, timeout, protocol) get it empty.
    pub fn of_kind(kind: ErrorKind, message: String, legacy_code: Option<u16>) -> Self {
        match kind {
            ErrorKind::InvalidInput => Self::InvalidInput {
                message,
                legacy_code,
            },
            ErrorKind::LimitReached => Self::LimitReached {
                message,
                legacy_code,
            },
            ErrorKind::NotFound => Self::NotFound {
                message,
                legacy_code,
            },
            ErrorKind::Unauthorized => Self::Unauthorized {
                message,
                legacy_code,
            },
            ErrorKind::RateLimited => Self::RateLimited {
                retry_after: None,
                message,
            },
            ErrorKind::Transport => Self::Transport {
                message,
                source: None,
            },
            ErrorKind::Timeout => Self::Timeout { after: None },
            ErrorKind::Protocol => Self::Protocol {
                status: None,
                message,
                snippet: String::new(),
            },
            ErrorKind::Journal => Self::Journal {
                message,
                source: None,
            },
            ErrorKind::Unexpected | ErrorKind::Unsupported => Self::Unexpected {
                message,
                legacy_code,
            },
        }
    }

    /// An [`Error::Journal`]: the outcome journal failed, with the storage's error when there
    /// is one. For [`Journal`](crate::journal::Journal) implementations.
    pub fn journal(
        message: impl Into<String>,
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Journal {
            message: message.into(),
            source,
        }
    }

    /// Why the journal refused, when it did: the key is held by another writer (wait until
    /// [`Conflict::Held::until`](Conflict::Held)), the lease lapsed, or the post is claimed.
    ///
    /// ```
    /// use buffer_bridge::journal::{Conflict, IdempotencyKey};
    /// use buffer_bridge::Error;
    ///
    /// let key = IdempotencyKey::new("order-1234")?;
    /// let error = Error::from(Conflict::LeaseLost { key });
    /// assert!(matches!(error.journal_conflict(), Some(Conflict::LeaseLost { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn journal_conflict(&self) -> Option<&Conflict> {
        match self {
            Self::Journal {
                source: Some(source),
                ..
            } => source.downcast_ref::<Conflict>(),
            _ => None,
        }
    }

    /// A body that could not be read; `snippet` should come from [`crate::http::snippet`].
    pub fn protocol(
        status: Option<u16>,
        message: impl Into<String>,
        snippet: impl Into<String>,
    ) -> Self {
        Self::Protocol {
            status,
            message: message.into(),
            snippet: snippet.into(),
        }
    }

    /// The same error with every text that came from a server passed through `scrub`: how a
    /// backend removes a secret that Buffer echoed back before the error leaves it.
    pub(crate) fn scrub(self, scrub: impl Fn(&str) -> String) -> Self {
        match self {
            Self::InvalidInput {
                message,
                legacy_code,
            } => Self::InvalidInput {
                message: scrub(&message),
                legacy_code,
            },
            Self::LimitReached {
                message,
                legacy_code,
            } => Self::LimitReached {
                message: scrub(&message),
                legacy_code,
            },
            Self::NotFound {
                message,
                legacy_code,
            } => Self::NotFound {
                message: scrub(&message),
                legacy_code,
            },
            Self::Unauthorized {
                message,
                legacy_code,
            } => Self::Unauthorized {
                message: scrub(&message),
                legacy_code,
            },
            Self::Unexpected {
                message,
                legacy_code,
            } => Self::Unexpected {
                message: scrub(&message),
                legacy_code,
            },
            Self::Server { status, message } => Self::Server {
                status,
                message: scrub(&message),
            },
            Self::RateLimited {
                retry_after,
                message,
            } => Self::RateLimited {
                retry_after,
                message: scrub(&message),
            },
            Self::Transport { message, source } => Self::Transport {
                message: scrub(&message),
                source,
            },
            Self::Protocol {
                status,
                message,
                snippet,
            } => Self::Protocol {
                status,
                message: scrub(&message),
                snippet: scrub(&snippet),
            },
            // Written by buffer-bridge, never by a server.
            Self::Unsupported { .. } | Self::Timeout { .. } | Self::Journal { .. } => self,
        }
    }

    /// The kind of error, without its data.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidInput { .. } => ErrorKind::InvalidInput,
            Self::LimitReached { .. } => ErrorKind::LimitReached,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Unauthorized { .. } => ErrorKind::Unauthorized,
            Self::Unexpected { .. } | Self::Server { .. } => ErrorKind::Unexpected,
            Self::RateLimited { .. } => ErrorKind::RateLimited,
            Self::Unsupported { .. } => ErrorKind::Unsupported,
            Self::Transport { .. } => ErrorKind::Transport,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Protocol { .. } => ErrorKind::Protocol,
            Self::Journal { .. } => ErrorKind::Journal,
        }
    }

    /// The classic numeric code: from a classic error body, or from a GraphQL
    /// `RestProxyError.code`. A `429` rate limit reports `429`.
    pub fn legacy_code(&self) -> Option<u16> {
        match self {
            Self::InvalidInput { legacy_code, .. }
            | Self::LimitReached { legacy_code, .. }
            | Self::NotFound { legacy_code, .. }
            | Self::Unauthorized { legacy_code, .. }
            | Self::Unexpected { legacy_code, .. } => *legacy_code,
            Self::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// Whether this is the "already posted recently" refusal (classic code 1025).
    pub fn is_duplicate(&self) -> bool {
        self.legacy_code() == Some(1025)
    }

    /// The HTTP status of the answer behind the error, when one came and the error kept it
    /// (server failures and unreadable bodies).
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Server { status, .. } => Some(*status),
            Self::Protocol { status, .. } => *status,
            _ => None,
        }
    }

    /// How long Buffer asked to wait, for a rate limit that said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the same request may succeed later: rate limits, server failures (HTTP 5xx,
    /// classic code 1000), timeouts, dropped connections and bodies that broke off. For a
    /// write, all but the rate limit also mean Buffer may have done it: see
    /// [`retry`](crate::retry).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::RateLimited { .. }
            | Self::Server { .. }
            | Self::Transport { .. }
            | Self::Timeout { .. } => true,
            Self::Unexpected { legacy_code, .. } => *legacy_code == Some(1000),
            // A body that could not be read came on a success or a server failure; a 4xx
            // with an unreadable body is a refusal and stays one.
            Self::Protocol { status, .. } => !matches!(status, Some(400..=499)),
            // A journal that cannot record would let a retry send without a record of it.
            Self::Journal { .. } => false,
            _ => false,
        }
    }

    /// Whether a write that failed with this error may still have been done by Buffer: the
    /// request may have reached it and only the answer was lost or unreadable (timeouts,
    /// dropped connections, server failures, unreadable success bodies). Such a write is
    /// [`Unknown`](crate::model::ChannelResult::Unknown), never a failure: resending it blindly
    /// could post twice. A rate limit, a refusal or a local check proves nothing was done.
    pub fn may_have_run(&self) -> bool {
        !matches!(self, Self::RateLimited { .. }) && self.is_transient()
    }

    /// The message without the kind's prefix.
    pub fn message(&self) -> String {
        match self {
            Self::InvalidInput { message, .. }
            | Self::LimitReached { message, .. }
            | Self::NotFound { message, .. }
            | Self::Unauthorized { message, .. }
            | Self::Unexpected { message, .. }
            | Self::Server { message, .. }
            | Self::RateLimited { message, .. }
            | Self::Transport { message, .. }
            | Self::Protocol { message, .. }
            | Self::Journal { message, .. } => message.clone(),
            Self::Unsupported { hint, .. } => hint.clone(),
            Self::Timeout { .. } => self.to_string(),
        }
    }
}

/// Errors serialize as `{kind, message, legacy_code, …}` so comparison reports and JSON logs can
/// carry them.
impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Error", 4)?;
        state.serialize_field("kind", &self.kind())?;
        state.serialize_field("message", &self.message())?;
        state.serialize_field("legacy_code", &self.legacy_code())?;
        match self {
            Self::RateLimited { retry_after, .. } => state
                .serialize_field("retry_after_ms", &retry_after.map(|d| d.as_millis() as u64))?,
            Self::Unsupported {
                operation, backend, ..
            } => {
                state.serialize_field("unsupported", &(operation, backend))?;
            }
            Self::Protocol { status, .. } => state.serialize_field("status", status)?,
            Self::Server { status, .. } => state.serialize_field("status", &Some(*status))?,
            _ => state.skip_field("detail")?,
        }
        state.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_thirty_seven_documented_codes_each_once() {
        assert_eq!(LEGACY_CODES.len(), 37);
        let mut codes: Vec<_> = LEGACY_CODES.iter().map(|c| c.code).collect();
        codes.dedup();
        assert_eq!(codes.len(), 37, "codes are sorted and unique");
    }

    #[test]
    fn display_says_what_happened_and_keeps_the_code() {
        let error = Error::from_legacy_code(1023, None);
        let text = error.to_string();
        assert!(
            text.contains("Update limit for profile has been reached."),
            "{text}"
        );
        assert!(text.contains("1023"), "{text}");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["kind"], "limit_reached");
        assert_eq!(json["legacy_code"], 1023);
    }

    #[test]
    fn server_failures_keep_their_status_and_are_transient() {
        let error = Error::from_status(503, Some("HTTP 503 with an HTML page".into()));
        assert_eq!(error.kind(), ErrorKind::Unexpected);
        assert_eq!(error.status(), Some(503));
        assert!(error.is_transient());
        assert!(error.to_string().contains("HTTP 503"), "{error}");
        assert_eq!(serde_json::to_value(&error).unwrap()["status"], 503);
        assert!(Error::from_legacy_code(1000, None).is_transient());
        assert!(!Error::from_legacy_code(1025, None).is_transient());
        assert!(!Error::from_status(404, None).is_transient());
        assert!(Error::protocol(Some(200), "cut short", "{").is_transient());
        assert!(!Error::protocol(Some(400), "html", "<html>").is_transient());
    }

    #[test]
    fn protocol_errors_show_a_snippet_only_when_there_is_one() {
        let bare = Error::protocol(None, "an update without an id", "");
        assert_eq!(
            bare.to_string(),
            "unreadable response: an update without an id"
        );
        let with_body = Error::protocol(Some(200), "not JSON", "<html>");
        assert_eq!(
            with_body.to_string(),
            "unreadable response (HTTP 200): not JSON (body starts: \"<html>\")"
        );
    }

    #[test]
    fn undocumented_codes_keep_their_number() {
        let error = Error::from_legacy_code(1099, Some("new".into()));
        assert_eq!(error.kind(), ErrorKind::Unexpected);
        assert_eq!(error.legacy_code(), Some(1099));
    }

    #[test]
    fn journal_failures_say_so_and_are_never_transient() {
        let error = Error::journal("disk full", None);
        assert_eq!(error.kind(), ErrorKind::Journal);
        assert_eq!(error.message(), "disk full");
        assert_eq!(
            error.to_string(),
            "the outcome journal could not be read or written: disk full"
        );
        assert!(!error.is_transient());
        assert!(error.journal_conflict().is_none());
        let again = Error::of_kind(ErrorKind::Journal, "disk full".into(), None);
        assert_eq!(again.kind(), ErrorKind::Journal);
    }

    #[test]
    fn kinds_read_back_and_unknown_ones_read_as_unexpected() {
        for kind in [
            ErrorKind::Journal,
            ErrorKind::LimitReached,
            ErrorKind::Unexpected,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(serde_json::from_str::<ErrorKind>(&json).unwrap(), kind);
        }
        assert_eq!(
            serde_json::from_str::<ErrorKind>("\"quota_exceeded\"").unwrap(),
            ErrorKind::Unexpected
        );
    }
}
