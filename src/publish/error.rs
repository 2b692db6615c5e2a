//! What is wrong with one line of a plan, typed so an application can act on each kind.

use serde::Serialize;
use std::fmt;

/// One bad line of a plan: where it is, what kind of problem, and what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("line {line}: {message}")]
#[non_exhaustive]
pub struct PlanError {
    /// The line (1-based) in the plan file; for CSV, the line where the record starts.
    pub line: usize,
    /// What kind of problem, to match on.
    pub kind: PlanErrorKind,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl PlanError {
    /// A problem of `kind` on `line`.
    pub fn new(line: usize, kind: PlanErrorKind, message: impl Into<String>) -> Self {
        Self {
            line,
            kind,
            message: message.into(),
        }
    }
}

/// The kinds of bad line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PlanErrorKind {
    /// Not valid JSON (JSON Lines) or not a valid record (CSV).
    Syntax,
    /// A field (JSON) or column (CSV) the plan format does not have: a typo would otherwise
    /// drop what the author meant.
    UnknownField,
    /// No channel given.
    NoChannels,
    /// A channel id or `service:name` that is not among the account's channels.
    UnknownChannel,
    /// A `service:name` that names more than one of the account's channels.
    AmbiguousChannel,
    /// Neither text nor media.
    NoContent,
    /// A `when` that is none of `queue`, `next`, `now`, an ISO 8601 time with offset, or a
    /// local time with an IANA zone.
    BadTime,
    /// A time zone name that is not in the IANA database.
    UnknownZone,
    /// A local time the zone skips (the hour clocks jump over in spring).
    NonexistentLocalTime,
    /// A local time the zone passes twice (the hour clocks repeat in autumn).
    AmbiguousLocalTime,
    /// An asset without a usable URL, or of a kind Buffer does not take.
    BadAsset,
    /// A link that is not an absolute URL.
    BadLink,
    /// A key Buffer-bridge cannot use as an idempotency key.
    BadKey,
    /// A line with the same key as an earlier one (the same given key, or the same content
    /// without a key): both would be one write.
    RepeatedKey,
    /// Per-network metadata, which the model cannot carry yet.
    Metadata,
}

impl PlanErrorKind {
    /// The kind's name, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Syntax => "syntax",
            Self::UnknownField => "unknown_field",
            Self::NoChannels => "no_channels",
            Self::UnknownChannel => "unknown_channel",
            Self::AmbiguousChannel => "ambiguous_channel",
            Self::NoContent => "no_content",
            Self::BadTime => "bad_time",
            Self::UnknownZone => "unknown_zone",
            Self::NonexistentLocalTime => "nonexistent_local_time",
            Self::AmbiguousLocalTime => "ambiguous_local_time",
            Self::BadAsset => "bad_asset",
            Self::BadLink => "bad_link",
            Self::BadKey => "bad_key",
            Self::RepeatedKey => "repeated_key",
            Self::Metadata => "metadata",
        }
    }
}

impl fmt::Display for PlanErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
