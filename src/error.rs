//! One error type for both APIs.
//!
//! The kinds follow GraphQL's `MutationError` family (invalid input, limit reached, not found,
//! unauthorized, unexpected), plus what a client meets on the way: rate limits, operations an
//! API lacks, transport failures, timeouts and bodies that cannot be read. Every kind keeps the
//! classic numeric code when there is one, so code written against `1025` (duplicate) or `1027`
//! (not movable) keeps matching after the move to GraphQL.

use crate::backend::{BackendKind, Operation};
use crate::journal::Conflict;
use crate::model::ChannelId;
use crate::preflight::ProblemKind;
use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, typed so callers can act on it.
///
/// Every variant is `#[non_exhaustive]`: match with `Error::X { field, .. }` and build errors
/// with the constructors ([`Error::invalid_input`], [`Error::from_legacy_code`],
/// [`Error::from_graphql`], [`Error::of_kind`], …).
///
/// ```
/// use buffer_bridge::error::{InvalidReason, Origin};
/// use buffer_bridge::Error;
///
/// let error = Error::from_legacy_code(1025, None);
/// assert!(matches!(error, Error::InvalidInput { reason: InvalidReason::Duplicate, .. }));
/// assert_eq!(error.origin(), Some(Origin::Buffer));
/// assert_eq!(error.legacy_code(), Some(1025));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input was refused as invalid: a duplicate post, a text too long, a time in the past,
    /// a bad parameter. [`origin`](Error::origin) says who refused: Buffer, or buffer-bridge
    /// before sending anything (configuration, arguments, what a backend cannot encode).
    #[error("invalid input ({}): {message}{}", origin.refused_by(), codes_note(*.legacy_code, .graphql_code))]
    #[non_exhaustive]
    InvalidInput {
        /// What Buffer (or buffer-bridge) said.
        message: String,
        /// Why, to match on: see [`InvalidReason`] for how it is read.
        reason: InvalidReason,
        /// Who refused.
        origin: Origin,
        /// The classic error code, when there is one.
        legacy_code: Option<u16>,
        /// GraphQL's name for the error, when it came from GraphQL (see
        /// [`Error::graphql_code`]).
        graphql_code: Option<String>,
    },
    /// A plan limit was reached: a full queue, too many channels or schedule slots.
    #[error("limit reached: {message}{}; free a slot (publish or delete posts) or raise the plan's limit", codes_note(*.legacy_code, .graphql_code))]
    #[non_exhaustive]
    LimitReached {
        /// What Buffer said.
        message: String,
        /// The classic error code, when there is one.
        legacy_code: Option<u16>,
        /// GraphQL's name for the error, when it came from GraphQL.
        graphql_code: Option<String>,
    },
    /// The channel, post or endpoint does not exist, or is not visible to this token.
    #[error("not found: {message}{}", codes_note(*.legacy_code, .graphql_code))]
    #[non_exhaustive]
    NotFound {
        /// What Buffer said.
        message: String,
        /// The classic error code, when there is one.
        legacy_code: Option<u16>,
        /// GraphQL's name for the error, when it came from GraphQL.
        graphql_code: Option<String>,
    },
    /// The token or key is missing, invalid, revoked, or lacks the permission.
    #[error("unauthorized: {message}{}; check the access token or API key and its scopes", codes_note(*.legacy_code, .graphql_code))]
    #[non_exhaustive]
    Unauthorized {
        /// What Buffer said.
        message: String,
        /// The classic error code, when there is one.
        legacy_code: Option<u16>,
        /// GraphQL's name for the error, when it came from GraphQL.
        graphql_code: Option<String>,
    },
    /// Buffer failed on its side, or answered with an error buffer-bridge does not know (its
    /// code is kept: [`legacy_code`](Error::legacy_code), [`graphql_code`](Error::graphql_code)).
    #[error("Buffer reported an unexpected error: {message}{}", codes_note(*.legacy_code, .graphql_code))]
    #[non_exhaustive]
    Unexpected {
        /// What Buffer said.
        message: String,
        /// The classic error code, when there is one.
        legacy_code: Option<u16>,
        /// GraphQL's name for the error, when it came from GraphQL.
        graphql_code: Option<String>,
    },
    /// Buffer (or a proxy in front of it) answered with an HTTP 5xx status and no error code:
    /// a failure on its side that may pass. Its [`kind`](Error::kind) is
    /// [`ErrorKind::Unexpected`]; the variant exists so retries can see the status.
    #[error("Buffer failed on its side (HTTP {status}): {message}; try again later")]
    #[non_exhaustive]
    Server {
        /// The HTTP status, 500 to 599.
        status: u16,
        /// What came back.
        message: String,
    },
    /// Too many requests; wait before trying again.
    #[error("rate limited: {message}; {}", wait_note(*.retry_after))]
    #[non_exhaustive]
    RateLimited {
        /// How long to wait, when Buffer said.
        retry_after: Option<Duration>,
        /// What Buffer said.
        message: String,
    },
    /// The backend's API has no such operation; no request was sent.
    #[error("{operation} is not available on the {backend} backend: {hint}")]
    #[non_exhaustive]
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
    #[non_exhaustive]
    Transport {
        /// What failed.
        message: String,
        /// The underlying error, with URLs removed.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    /// No answer within the configured timeout.
    #[error("no answer from Buffer within {}", duration_note(*.after))]
    #[non_exhaustive]
    Timeout {
        /// The timeout that ran out, when known.
        after: Option<Duration>,
    },
    /// Buffer answered with a body that could not be read as the API's format. There is no
    /// `source`: a decoder's error quotes the body, which may hold a secret Buffer echoed; the
    /// message says what was wrong and the snippet is redacted.
    #[error("unreadable response{}: {message}{}", status_note(*.status), snippet_note(.snippet))]
    #[non_exhaustive]
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
    #[non_exhaustive]
    Journal {
        /// What failed.
        message: String,
        /// The underlying error: a [`Conflict`], or the storage's own error.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    /// An access policy did not let this agent make the request; nothing was sent to Buffer.
    /// See [`access`](crate::access).
    #[error("{agent} may not {operation}{}: {why}", channel_note(.channel))]
    #[non_exhaustive]
    Forbidden {
        /// The agent that asked.
        agent: String,
        /// What it asked for.
        operation: Operation,
        /// The channel the refusal is about, when it is about one.
        channel: Option<ChannelId>,
        /// Why, in words: which grant is missing, or that an approver said no.
        why: String,
    },
    /// The authorization server refused a code, a refresh or a client: `code` is its OAuth
    /// error (`invalid_grant` for a code that expired, was used or whose PKCE verifier does not
    /// match; `access_denied` when the user said no; `invalid_client`, `invalid_scope`, …).
    #[error("authorization refused ({code}): {message}")]
    #[non_exhaustive]
    OAuth {
        /// The OAuth error code, as the server sent it.
        code: String,
        /// Its `error_description`, or what buffer-bridge knows about it.
        message: String,
    },
    /// The user's grant is gone: revoked by the user, or by Buffer after a refresh token was
    /// used twice (single-use tokens: a copy was replayed, or a new one was lost before it was
    /// stored). Nothing will work until the user authorizes the application again.
    #[error("the user's grant was revoked: {message}; send the user through authorization again")]
    #[non_exhaustive]
    GrantRevoked {
        /// What happened.
        message: String,
    },
    /// The user has not authorized the application on GraphQL yet (or no longer): send them to
    /// `authorize_url`.
    #[error("the user must authorize the application: {message}; open {authorize_url}")]
    #[non_exhaustive]
    NeedsConsent {
        /// Where the user consents (an authorization URL with PKCE and `state`).
        authorize_url: String,
        /// Why consent is needed.
        message: String,
    },
    /// The classic REST API has retired (2027-02-01); no request was sent.
    #[error("the classic API has retired: {message}")]
    #[non_exhaustive]
    Retired {
        /// What to do instead.
        message: String,
    },
    /// The token store could not be read or written. A refresh token that could not be stored
    /// was not used: see [`auth`](crate::auth).
    #[error("the token store failed: {message}")]
    #[non_exhaustive]
    TokenStore {
        /// What failed.
        message: String,
        /// The storage's own error.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
}

fn channel_note(channel: &Option<ChannelId>) -> String {
    channel
        .as_ref()
        .map(|c| format!(" on channel {c}"))
        .unwrap_or_default()
}

/// Who refused an input: buffer-bridge before sending, or Buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Origin {
    /// buffer-bridge refused before any request: its configuration, an argument, or a post the
    /// backend cannot encode. Nothing reached Buffer; fix the call (or the configuration).
    Local,
    /// Buffer refused the request it was sent.
    Buffer,
}

impl Origin {
    fn refused_by(self) -> &'static str {
        match self {
            Origin::Local => "refused by buffer-bridge, nothing was sent",
            Origin::Buffer => "refused by Buffer",
        }
    }
}

/// Why an input was refused, to match on instead of message text.
///
/// Read, in order, from Buffer's words, then from its classic code:
///
/// - **Words**: the earliest known phrase in the message. Known phrases are the messages of the
///   [classic codes](LEGACY_CODES) that name a reason (so a GraphQL message in the classic
///   wording, "Update was recently posted, can't post duplicate content.", is a
///   [`Duplicate`](InvalidReason::Duplicate)), and the refusals of the preflight's
///   [rules table](crate::preflight::table): the recorded "Text is required" and "Instagram posts
///   require at least one image or video.", each network's required-media and metadata
///   messages, the link-with-media and too-long messages. Buffer's GraphQL answers several
///   refusals in one message (`Invalid post: <first>, <second>`); the first one known is the
///   reason.
/// - **Code**: the classic code's column in [`LEGACY_CODES`] (1025 duplicate, 1034 past due
///   time, 1030 and 1031 media, 1026 and 1027 the post's state, 1004 and 1006 parameters),
///   also when GraphQL proxies it in a `RestProxyError`.
///
/// Buffer's GraphQL wording is recorded only for the messages above; other words give
/// [`Other`](InvalidReason::Other), and a new phrasing may turn a known reason into `Other`.
/// Refusals buffer-bridge makes before sending carry the reason it checked.
///
/// A full queue is not here: it is [`Error::LimitReached`] (classic 1023, GraphQL
/// `LimitReachedError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InvalidReason {
    /// The same text was posted on the channel recently (classic 1025).
    Duplicate,
    /// Neither text nor media nor a link ("Text is required").
    EmptyPost,
    /// The text is longer than the network takes.
    TooLong,
    /// The network requires an image or a video (Instagram, TikTok, Pinterest, YouTube).
    MediaRequired,
    /// Media of a type or size Buffer does not take (classic 1030, 1031).
    InvalidMedia,
    /// A link preview on a network that has none on this API.
    NoLinkPreview,
    /// A link preview beside media, which GraphQL refuses.
    LinkWithMedia,
    /// Metadata the network requires on GraphQL (Instagram's post type, Pinterest's board, …).
    MetadataMissing,
    /// A due time in the past (classic 1034).
    PastDueTime,
    /// The post's state does not allow it: not in the queue, custom-scheduled (classic 1027),
    /// not in error (1026), already published.
    WrongPostState,
    /// A required parameter is missing (classic 1004, when the message says nothing more).
    MissingParameter,
    /// A parameter is out of range (classic 1006, when the message says nothing more).
    OutOfBounds,
    /// Any other refusal, or words this version does not know: read the message.
    #[serde(other)]
    Other,
}

impl InvalidReason {
    /// The reason for a preflight rule's refusal, when the rule is one Buffer can refuse.
    pub(crate) fn of_problem(kind: &ProblemKind) -> Option<Self> {
        Some(match kind {
            ProblemKind::EmptyPost => Self::EmptyPost,
            ProblemKind::TooLong => Self::TooLong,
            ProblemKind::MediaRequired => Self::MediaRequired,
            ProblemKind::NoLinkPreview => Self::NoLinkPreview,
            ProblemKind::LinkWithMedia => Self::LinkWithMedia,
            ProblemKind::MetadataMissing => Self::MetadataMissing,
            ProblemKind::PastDueTime => Self::PastDueTime,
            ProblemKind::NotEditable => Self::WrongPostState,
            _ => return None,
        })
    }

    /// The reason in Buffer's words: the earliest known phrase in `message`.
    fn of_message(message: &str) -> Option<Self> {
        PHRASES
            .iter()
            .filter_map(|(phrase, reason)| message.find(phrase.as_str()).map(|at| (at, *reason)))
            .min_by_key(|(at, _)| *at)
            .map(|(_, reason)| reason)
    }

    /// The reason of an input Buffer refused: its words first, then its classic code.
    fn of_refusal(message: &str, legacy_code: Option<u16>) -> Self {
        Self::of_message(message)
            .or_else(|| {
                legacy_code
                    .and_then(LegacyCode::find)
                    .and_then(|c| c.reason)
            })
            .unwrap_or(Self::Other)
    }
}

/// Known phrases of refusals, each with its reason; see [`InvalidReason`].
static PHRASES: LazyLock<Vec<(String, InvalidReason)>> = LazyLock::new(|| {
    let table = crate::preflight::table();
    let codes = LEGACY_CODES
        .iter()
        .filter_map(|code| Some((code.message, code.reason?)));
    let rules = table.rules.iter().filter_map(|rule| {
        Some((
            rule.message.as_deref()?,
            InvalidReason::of_problem(&rule.kind)?,
        ))
    });
    let networks = table.networks.iter().flat_map(|network| {
        let media = network
            .media
            .iter()
            .map(|m| (m.message.as_str(), InvalidReason::MediaRequired));
        let metadata = network
            .metadata
            .iter()
            .map(|m| (m.message.as_str(), InvalidReason::MetadataMissing));
        media.chain(metadata)
    });
    codes
        .chain(rules)
        .chain(networks)
        // A message is a sentence or a template: its words up to the first `{placeholder}`,
        // without the full stop some answers drop.
        .map(|(message, reason)| {
            let words = message.split('{').next().unwrap_or_default();
            (words.trim().trim_end_matches('.').to_owned(), reason)
        })
        .filter(|(words, _)| !words.is_empty())
        .collect()
});

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
    /// [`Error::Forbidden`].
    Forbidden,
    /// [`Error::TokenStore`].
    TokenStore,
    /// [`Error::Unexpected`] and [`Error::Server`]; also what a kind this version does not
    /// know reads as (so it stays last).
    #[serde(other)]
    Unexpected,
}

fn codes_note(legacy_code: Option<u16>, graphql_code: &Option<String>) -> String {
    let notes: Vec<String> = legacy_code
        .map(|c| format!("classic code {c}"))
        .into_iter()
        .chain(graphql_code.as_ref().map(|c| format!("GraphQL {c}")))
        .collect();
    match notes.is_empty() {
        true => String::new(),
        false => format!(" ({})", notes.join(", ")),
    }
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

/// One classic error code: its HTTP status, the kind it maps to, the reason it names, and
/// Buffer's text for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LegacyCode {
    /// The code in the `code` field of a classic error body.
    pub code: u16,
    /// The HTTP status Buffer sends it with.
    pub http_status: u16,
    /// The kind of [`Error`] it becomes.
    pub kind: ErrorKind,
    /// The [`InvalidReason`] it names, for the codes that name one.
    pub reason: Option<InvalidReason>,
    /// Buffer's documented message.
    pub message: &'static str,
}

macro_rules! legacy_codes {
    ($( $code:literal, $status:literal, $kind:ident, $reason:tt, $message:literal; )+) => {
        /// Every classic error code Buffer documents, in code order.
        pub const LEGACY_CODES: &[LegacyCode] = &[
            $( LegacyCode {
                code: $code,
                http_status: $status,
                kind: ErrorKind::$kind,
                reason: legacy_codes!(@reason $reason),
                message: $message,
            }, )+
        ];
    };
    (@reason -) => { None };
    (@reason $reason:ident) => { Some(InvalidReason::$reason) };
}

legacy_codes! {
    401, 401, Unauthorized, -, "Unauthorized.";
    403, 403, Unauthorized, -, "Permission denied.";
    404, 404, NotFound, -, "Endpoint not found.";
    405, 405, Unexpected, -, "Method not allowed.";
    429, 429, RateLimited, -, "Too Many Requests.";
    1000, 500, Unexpected, -, "An unknown error occurred.";
    1001, 403, Unauthorized, -, "Access token required.";
    1002, 403, Unauthorized, -, "Not within application scope.";
    1003, 400, InvalidInput, -, "Parameter not recognized.";
    1004, 400, InvalidInput, MissingParameter, "Required parameter missing.";
    1005, 406, InvalidInput, -, "Unsupported response format.";
    1006, 400, InvalidInput, OutOfBounds, "Parameter value not within bounds.";
    1010, 404, NotFound, -, "Profile could not be found.";
    1011, 403, Unauthorized, -, "No authorization to access profile.";
    1012, 400, Unexpected, -, "Profile did not save successfully.";
    1013, 403, LimitReached, -, "Profile schedule limit reached.";
    1014, 403, LimitReached, -, "Profile limit for user has been reached.";
    1015, 403, Unexpected, -, "Profile could not be destroyed.";
    1016, 400, Unexpected, -, "Profile buffer could not be emptied.";
    1020, 404, NotFound, -, "Update could not be found.";
    1021, 403, Unauthorized, -, "No authorization to access update.";
    1022, 400, Unexpected, -, "Update did not save successfully.";
    1023, 403, LimitReached, -, "Update limit for profile has been reached.";
    1024, 403, LimitReached, -, "Update limit for team profile has been reached.";
    1025, 400, InvalidInput, Duplicate, "Update was recently posted, can't post duplicate content.";
    1026, 400, InvalidInput, WrongPostState, "Update must be in error status to requeue.";
    1027, 400, InvalidInput, WrongPostState, "Update must be in buffer and not custom scheduled in order to move to top.";
    1028, 403, LimitReached, -, "Update soft limit for profile reached.";
    1029, 400, InvalidInput, -, "Event type not supported.";
    1030, 400, InvalidInput, InvalidMedia, "Media filetype not supported.";
    1031, 400, InvalidInput, InvalidMedia, "Media filesize out of acceptable range.";
    1032, 400, InvalidInput, -, "Unable to post image to LinkedIn group(s).";
    1033, 400, InvalidInput, -, "Comments can only be posted to Facebook at this time.";
    1034, 400, InvalidInput, PastDueTime, "Cannot schedule updates in the past.";
    1042, 400, Unexpected, -, "User did not save successfully.";
    1050, 404, NotFound, -, "Client could not be found.";
    1051, 403, Unauthorized, -, "No authorization to access client.";
}

impl LegacyCode {
    /// Looks up a documented code.
    pub fn find(code: u16) -> Option<&'static LegacyCode> {
        LEGACY_CODES.iter().find(|c| c.code == code)
    }
}

impl Error {
    /// An [`Error::InvalidInput`] raised by buffer-bridge itself, before any request
    /// ([`Origin::Local`]); its reason is [`InvalidReason::Other`] until
    /// [`with_reason`](Error::with_reason) names one.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput {
            message: message.into(),
            reason: InvalidReason::Other,
            origin: Origin::Local,
            legacy_code: None,
            graphql_code: None,
        }
    }

    /// The same error with `reason` as its [`reason`](Error::reason), for an invalid input;
    /// other errors are returned as they are.
    pub fn with_reason(mut self, new: InvalidReason) -> Self {
        if let Self::InvalidInput { reason, .. } = &mut self {
            *reason = new;
        }
        self
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
                graphql_code: None,
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

    /// The error for a refusal GraphQL reported: `code` is the `__typename` of a typed mutation
    /// error (`InvalidInputError`, …) or the `extensions.code` of an `errors[]` entry
    /// (`UNAUTHORIZED`, …), kept as [`graphql_code`](Error::graphql_code). An invalid input's
    /// reason is read from the message (see [`InvalidReason`]).
    pub fn from_graphql(kind: ErrorKind, code: impl Into<String>, message: String) -> Self {
        Self::of_kind(kind, message, None).with_graphql_code(code.into())
    }

    /// The same error with GraphQL's name for it, for the kinds that keep one.
    pub(crate) fn with_graphql_code(mut self, code: String) -> Self {
        match &mut self {
            Self::InvalidInput { graphql_code, .. }
            | Self::LimitReached { graphql_code, .. }
            | Self::NotFound { graphql_code, .. }
            | Self::Unauthorized { graphql_code, .. }
            | Self::Unexpected { graphql_code, .. } => *graphql_code = Some(code),
            _ => {}
        }
        self
    }

    /// An error of `kind` answered by Buffer, with a message and maybe a classic code. An
    /// invalid input's reason is read from the message and code (see [`InvalidReason`]).
    /// Kinds that carry other data (unsupported, timeout, protocol) get it empty.
    pub fn of_kind(kind: ErrorKind, message: String, legacy_code: Option<u16>) -> Self {
        match kind {
            ErrorKind::InvalidInput => Self::InvalidInput {
                reason: InvalidReason::of_refusal(&message, legacy_code),
                message,
                origin: Origin::Buffer,
                legacy_code,
                graphql_code: None,
            },
            ErrorKind::LimitReached => Self::LimitReached {
                message,
                legacy_code,
                graphql_code: None,
            },
            ErrorKind::NotFound => Self::NotFound {
                message,
                legacy_code,
                graphql_code: None,
            },
            ErrorKind::Unauthorized => Self::Unauthorized {
                message,
                legacy_code,
                graphql_code: None,
            },
            ErrorKind::RateLimited => Self::rate_limited(None, message),
            ErrorKind::Transport => Self::transport(message, None),
            ErrorKind::Timeout => Self::timeout(None),
            ErrorKind::Protocol => Self::protocol(None, message, String::new()),
            ErrorKind::Journal => Self::journal(message, None),
            ErrorKind::TokenStore => Self::token_store(message, None),
            ErrorKind::Unexpected | ErrorKind::Unsupported | ErrorKind::Forbidden => {
                Self::Unexpected {
                    message,
                    legacy_code,
                    graphql_code: None,
                }
            }
        }
    }

    /// An [`Error::Unexpected`] without a code: an answer that makes no sense.
    pub(crate) fn unexpected(message: impl Into<String>) -> Self {
        Self::of_kind(ErrorKind::Unexpected, message.into(), None)
    }

    /// An [`Error::NotFound`] without a code.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::of_kind(ErrorKind::NotFound, message.into(), None)
    }

    /// An [`Error::RateLimited`], waiting `retry_after` when known.
    pub fn rate_limited(retry_after: Option<Duration>, message: impl Into<String>) -> Self {
        Self::RateLimited {
            retry_after,
            message: message.into(),
        }
    }

    /// An [`Error::Unsupported`]: `backend` has no `operation`; `hint` says what to do instead.
    pub fn unsupported(
        operation: Operation,
        backend: BackendKind,
        hint: impl Into<String>,
    ) -> Self {
        Self::Unsupported {
            operation,
            backend,
            hint: hint.into(),
        }
    }

    /// An [`Error::Forbidden`]: `agent` may not make the request, for the reason `why`.
    pub fn forbidden(
        agent: impl Into<String>,
        operation: Operation,
        channel: Option<ChannelId>,
        why: impl Into<String>,
    ) -> Self {
        Self::Forbidden {
            agent: agent.into(),
            operation,
            channel,
            why: why.into(),
        }
    }

    /// An [`Error::Transport`], with the underlying error when there is one (its text must
    /// hold no URL or secret).
    pub fn transport(
        message: impl Into<String>,
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Transport {
            message: message.into(),
            source,
        }
    }

    /// An [`Error::Timeout`] after `after`, when known.
    pub fn timeout(after: Option<Duration>) -> Self {
        Self::Timeout { after }
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

    /// An [`Error::TokenStore`], with the storage's error when there is one (its text must hold
    /// no secret). For [`TokenStore`](crate::auth::TokenStore) implementations.
    pub fn token_store(
        message: impl Into<String>,
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::TokenStore {
            message: message.into(),
            source,
        }
    }

    /// An [`Error::OAuth`]: the authorization server's error `code` and its description.
    pub fn oauth(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::OAuth {
            code: code.into(),
            message: message.into(),
        }
    }

    /// An [`Error::GrantRevoked`].
    pub fn grant_revoked(message: impl Into<String>) -> Self {
        Self::GrantRevoked {
            message: message.into(),
        }
    }

    /// An [`Error::NeedsConsent`]: the user must open `authorize_url`.
    pub fn needs_consent(authorize_url: impl Into<String>, message: impl Into<String>) -> Self {
        Self::NeedsConsent {
            authorize_url: authorize_url.into(),
            message: message.into(),
        }
    }

    /// An [`Error::Retired`].
    pub fn retired(message: impl Into<String>) -> Self {
        Self::Retired {
            message: message.into(),
        }
    }

    /// The OAuth error code of an [`Error::OAuth`] (`invalid_grant`, `access_denied`, …).
    pub fn oauth_code(&self) -> Option<&str> {
        match self {
            Self::OAuth { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether GraphQL refused the call because the token lacks a scope (`FORBIDDEN`): the
    /// user must authorize again with the scope added.
    pub fn is_missing_scope(&self) -> bool {
        self.graphql_code() == Some("FORBIDDEN")
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
    pub(crate) fn scrub(mut self, scrub: impl Fn(&str) -> String) -> Self {
        match &mut self {
            Self::InvalidInput {
                message,
                graphql_code,
                ..
            }
            | Self::LimitReached {
                message,
                graphql_code,
                ..
            }
            | Self::NotFound {
                message,
                graphql_code,
                ..
            }
            | Self::Unauthorized {
                message,
                graphql_code,
                ..
            }
            | Self::Unexpected {
                message,
                graphql_code,
                ..
            } => {
                *message = scrub(message);
                if let Some(code) = graphql_code {
                    *code = scrub(code);
                }
            }
            Self::Server { message, .. }
            | Self::RateLimited { message, .. }
            | Self::Transport { message, .. } => *message = scrub(message),
            Self::Protocol {
                message, snippet, ..
            } => {
                *message = scrub(message);
                *snippet = scrub(snippet);
            }
            Self::OAuth { code, message } => {
                *code = scrub(code);
                *message = scrub(message);
            }
            Self::GrantRevoked { message } | Self::NeedsConsent { message, .. } => {
                *message = scrub(message)
            }
            // Written by buffer-bridge, never by a server.
            Self::Unsupported { .. }
            | Self::Timeout { .. }
            | Self::Journal { .. }
            | Self::Forbidden { .. }
            | Self::Retired { .. }
            | Self::TokenStore { .. } => {}
        }
        self
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
            Self::Forbidden { .. } => ErrorKind::Forbidden,
            Self::OAuth { .. } | Self::GrantRevoked { .. } | Self::NeedsConsent { .. } => {
                ErrorKind::Unauthorized
            }
            Self::Retired { .. } => ErrorKind::Unsupported,
            Self::TokenStore { .. } => ErrorKind::TokenStore,
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

    /// GraphQL's name for the error, when it came from GraphQL: the `__typename` of a typed
    /// mutation error (`InvalidInputError`, `VoidMutationError`, or a type this version does
    /// not know) or the `extensions.code` of an `errors[]` entry (`UNAUTHORIZED`,
    /// `GRAPHQL_VALIDATION_FAILED`, or a code this version does not know). Kept as Buffer sent
    /// it, so a program can match a code buffer-bridge does not map yet.
    pub fn graphql_code(&self) -> Option<&str> {
        match self {
            Self::InvalidInput { graphql_code, .. }
            | Self::LimitReached { graphql_code, .. }
            | Self::NotFound { graphql_code, .. }
            | Self::Unauthorized { graphql_code, .. }
            | Self::Unexpected { graphql_code, .. } => graphql_code.as_deref(),
            _ => None,
        }
    }

    /// Why an input was refused, for [`Error::InvalidInput`]: the same reason on both
    /// backends, read as [`InvalidReason`] describes. `None` for other errors.
    pub fn reason(&self) -> Option<InvalidReason> {
        match self {
            Self::InvalidInput { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    /// Who refused: [`Origin::Local`] when buffer-bridge refused before sending anything (a
    /// local [`InvalidInput`](Error::InvalidInput), an [`Unsupported`](Error::Unsupported)
    /// operation), [`Origin::Buffer`] when Buffer refused the input. `None` for the other
    /// errors, which say who failed by their kind.
    pub fn origin(&self) -> Option<Origin> {
        match self {
            Self::InvalidInput { origin, .. } => Some(*origin),
            Self::Unsupported { .. } | Self::Forbidden { .. } | Self::Retired { .. } => {
                Some(Origin::Local)
            }
            _ => None,
        }
    }

    /// Whether this is the "already posted recently" refusal: classic code 1025, or its
    /// GraphQL counterpart ([`InvalidReason::Duplicate`]).
    pub fn is_duplicate(&self) -> bool {
        self.reason() == Some(InvalidReason::Duplicate)
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
            | Self::Journal { message, .. }
            | Self::OAuth { message, .. }
            | Self::GrantRevoked { message }
            | Self::NeedsConsent { message, .. }
            | Self::Retired { message }
            | Self::TokenStore { message, .. } => message.clone(),
            Self::Unsupported { hint, .. } => hint.clone(),
            Self::Forbidden { why, .. } => why.clone(),
            Self::Timeout { .. } => self.to_string(),
        }
    }
}

/// Errors serialize as `{kind, message, legacy_code, graphql_code, …}` (an invalid input adds
/// `reason` and `origin`) so comparison reports and JSON logs can
/// carry them.
impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Error", 7)?;
        state.serialize_field("kind", &self.kind())?;
        state.serialize_field("message", &self.message())?;
        state.serialize_field("legacy_code", &self.legacy_code())?;
        match self.graphql_code() {
            Some(code) => state.serialize_field("graphql_code", code)?,
            None => state.skip_field("graphql_code")?,
        }
        match self {
            Self::InvalidInput { reason, origin, .. } => {
                state.serialize_field("reason", reason)?;
                state.serialize_field("origin", origin)?;
            }
            Self::RateLimited { retry_after, .. } => state
                .serialize_field("retry_after_ms", &retry_after.map(|d| d.as_millis() as u64))?,
            Self::Unsupported {
                operation, backend, ..
            } => {
                state.serialize_field("unsupported", &(operation, backend))?;
            }
            Self::Protocol { status, .. } => state.serialize_field("status", status)?,
            Self::Forbidden {
                agent,
                operation,
                channel,
                ..
            } => state.serialize_field("forbidden", &(agent, operation, channel))?,
            Self::Server { status, .. } => state.serialize_field("status", &Some(*status))?,
            Self::OAuth { code, .. } => state.serialize_field("oauth_code", code)?,
            Self::NeedsConsent { authorize_url, .. } => {
                state.serialize_field("authorize_url", authorize_url)?
            }
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
    fn classic_codes_name_their_reason_and_buffers_words_name_theirs() {
        let reason = |code, message: Option<&str>| {
            Error::from_legacy_code(code, message.map(str::to_owned)).reason()
        };
        assert_eq!(reason(1025, None), Some(InvalidReason::Duplicate));
        assert_eq!(reason(1034, None), Some(InvalidReason::PastDueTime));
        assert_eq!(reason(1030, None), Some(InvalidReason::InvalidMedia));
        assert_eq!(reason(1027, None), Some(InvalidReason::WrongPostState));
        assert_eq!(reason(1004, None), Some(InvalidReason::MissingParameter));
        assert_eq!(reason(1006, None), Some(InvalidReason::OutOfBounds));
        assert_eq!(reason(1029, None), Some(InvalidReason::Other));
        assert_eq!(reason(1023, None), None, "a full queue is a limit");
        // 1004 names the missing image in its words (rest-v1.md §1.2).
        assert_eq!(
            reason(
                1004,
                Some("Instagram posts require at least one image or video.")
            ),
            Some(InvalidReason::MediaRequired)
        );
        assert_eq!(
            reason(
                1006,
                Some("Text is longer than 280 characters, the limit of Twitter")
            ),
            Some(InvalidReason::TooLong)
        );
    }

    #[test]
    fn the_first_known_refusal_in_a_message_is_its_reason() {
        let graphql = |message: &str| {
            Error::from_graphql(ErrorKind::InvalidInput, "InvalidInputError", message.into())
        };
        // Recorded (graphql.md §4.1): two refusals in one message.
        let recorded = graphql(
            "Invalid post: Instagram posts require at least one image or video., Instagram \
             posts require a type (post, story, or reel).",
        );
        assert_eq!(recorded.reason(), Some(InvalidReason::MediaRequired));
        let metadata =
            graphql("Invalid post: Instagram posts require a type (post, story, or reel).");
        assert_eq!(metadata.reason(), Some(InvalidReason::MetadataMissing));
        assert_eq!(
            graphql("Update was recently posted, can't post duplicate content").reason(),
            Some(InvalidReason::Duplicate),
            "the classic wording, without its full stop"
        );
        assert!(
            graphql("Update was recently posted, can't post duplicate content.").is_duplicate()
        );
        assert_eq!(
            graphql("A link attachment and assets cannot be used together").reason(),
            Some(InvalidReason::LinkWithMedia)
        );
        assert_eq!(
            graphql("Something new").reason(),
            Some(InvalidReason::Other)
        );
        assert!(!graphql("Something new").is_duplicate());
    }

    #[test]
    fn local_refusals_say_so_and_buffers_say_theirs() {
        let local = Error::invalid_input("no access token").with_reason(InvalidReason::Other);
        assert_eq!(local.origin(), Some(Origin::Local));
        assert!(local.to_string().contains("nothing was sent"), "{local}");
        let buffer = Error::from_legacy_code(1025, None);
        assert_eq!(buffer.origin(), Some(Origin::Buffer));
        assert!(buffer.to_string().contains("refused by Buffer"), "{buffer}");
        let unsupported = Error::unsupported(Operation::LinkShares, BackendKind::GraphQl, "none");
        assert_eq!(unsupported.origin(), Some(Origin::Local));
        assert_eq!(Error::timeout(None).origin(), None);
        let json = serde_json::to_value(&buffer).unwrap();
        assert_eq!(json["reason"], "duplicate");
        assert_eq!(json["origin"], "buffer");
        assert_eq!(
            serde_json::from_str::<InvalidReason>("\"too_cute\"").unwrap(),
            InvalidReason::Other
        );
    }

    #[test]
    fn graphql_codes_are_kept_as_data_and_scrubbed() {
        let error = Error::from_graphql(ErrorKind::Unexpected, "QUOTA_SECRET", "over".into());
        assert_eq!(error.graphql_code(), Some("QUOTA_SECRET"));
        assert_eq!(error.message(), "over");
        let scrubbed = error.scrub(|text| text.replace("SECRET", "[redacted]"));
        assert_eq!(scrubbed.graphql_code(), Some("QUOTA_[redacted]"));
        assert!(!scrubbed.to_string().contains("SECRET"), "{scrubbed}");
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
