//! Times in a plan, and the stagger that spreads lines without one.
//!
//! A plan says when a post publishes as `queue`, `next`, `now`, an ISO 8601 time with an
//! offset (`2026-12-02T09:00:00+01:00`), or a local time with an IANA zone
//! (`2026-12-02 09:00 Europe/Berlin`). A local time the zone skips (spring forward) or
//! passes twice (fall back) is refused rather than guessed: the author says which instant.

use super::error::PlanErrorKind;
use crate::model::When;
use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use std::time::Duration;

/// A time that failed to parse: its kind and why.
pub(crate) type TimeError = (PlanErrorKind, String);

/// The local-time layouts accepted before the zone name.
const LOCAL_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
];

/// Reads a plan's `when`.
pub(crate) fn parse_when(text: &str) -> Result<When, TimeError> {
    match text.trim() {
        "queue" => Ok(When::Queue),
        "next" => Ok(When::Next),
        "now" => Ok(When::Now),
        other => Ok(When::At(Start::parse_inner(other)?.resolve_exact()?)),
    }
}

/// A time zone: a named IANA zone, whose offset changes with daylight saving, or a fixed
/// offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Zone {
    Named(Tz),
    Fixed(FixedOffset),
}

/// A local time in a zone: where a stagger starts, or an explicit time of a line.
///
/// ```
/// use buffer_bridge::publish::Start;
///
/// let start = Start::parse("2026-12-02 09:00 Europe/Berlin")?;
/// assert_eq!(start.to_string(), "2026-12-02 09:00:00 Europe/Berlin");
/// # Ok::<(), buffer_bridge::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    local: NaiveDateTime,
    zone: Zone,
}

impl Start {
    /// Reads an ISO 8601 time with an offset or `Z`, or a local time (`YYYY-MM-DD HH:MM[:SS]`,
    /// or with a `T`) followed by an IANA zone name.
    pub fn parse(text: &str) -> crate::Result<Self> {
        Self::parse_inner(text).map_err(|(_, message)| crate::Error::invalid_input(message))
    }

    pub(crate) fn parse_inner(text: &str) -> Result<Self, TimeError> {
        let text = text.trim();
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Ok(Self {
                local: at.naive_local(),
                zone: Zone::Fixed(*at.offset()),
            });
        }
        let Some((local, zone)) = text.rsplit_once(' ') else {
            return Err(bad_time(text));
        };
        let Some(local) = LOCAL_FORMATS
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(local.trim(), format).ok())
        else {
            return Err(bad_time(text));
        };
        let zone: Tz = zone.parse().map_err(|_| {
            (
                PlanErrorKind::UnknownZone,
                format!(
                    "{zone:?} is not an IANA time zone (such as Europe/Berlin or America/New_York)"
                ),
            )
        })?;
        Ok(Self {
            local,
            zone: Zone::Named(zone),
        })
    }

    /// A start at an instant, in UTC.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self {
            local: at.naive_utc(),
            zone: Zone::Fixed(Utc.fix()),
        }
    }

    /// The instant, refusing a local time the zone skips or passes twice.
    fn resolve_exact(&self) -> Result<DateTime<Utc>, TimeError> {
        match self.mapped(self.local) {
            LocalResult::Single(at) => Ok(at.with_timezone(&Utc)),
            LocalResult::None => Err((
                PlanErrorKind::NonexistentLocalTime,
                format!(
                    "{self} does not exist: the clocks skip that hour; give a time after the \
                     change, or an ISO 8601 time with an offset"
                ),
            )),
            LocalResult::Ambiguous(first, second) => Err((
                PlanErrorKind::AmbiguousLocalTime,
                format!(
                    "{self} happens twice (at {} and at {}): the clocks repeat that hour; give \
                     an ISO 8601 time with the offset you mean",
                    first.to_rfc3339(),
                    second.to_rfc3339()
                ),
            )),
        }
    }

    /// The instant `steps` × `every` after the start, counted on the zone's wall clock: a
    /// stagger of a day stays at 09:00 across a daylight-saving change. A time the zone skips
    /// moves to just after the change; a time it passes twice takes the first.
    fn step(&self, every: Duration, steps: u32) -> DateTime<Utc> {
        let offset = chrono::TimeDelta::from_std(every.saturating_mul(steps))
            .unwrap_or(chrono::TimeDelta::MAX);
        let mut local = self
            .local
            .checked_add_signed(offset)
            .unwrap_or(NaiveDateTime::MAX);
        // No zone skips more than a few hours; a minute at a time finds the end of the gap.
        for _ in 0..24 * 60 {
            match self.mapped(local) {
                LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => {
                    return at.with_timezone(&Utc);
                }
                LocalResult::None => {
                    match local.checked_add_signed(chrono::TimeDelta::minutes(1)) {
                        Some(later) => local = later,
                        // The end of time, past what the offset can map: the wall clock as UTC.
                        None => break,
                    }
                }
            }
        }
        local.and_utc()
    }

    /// The instants `local` is in the zone, with the zone's offset at each.
    fn mapped(&self, local: NaiveDateTime) -> LocalResult<DateTime<FixedOffset>> {
        match self.zone {
            Zone::Named(zone) => zone.from_local_datetime(&local).map(|at| at.fixed_offset()),
            Zone::Fixed(offset) => offset.from_local_datetime(&local),
        }
    }
}

impl std::fmt::Display for Start {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.zone {
            Zone::Named(zone) => write!(f, "{} {}", self.local, zone.name()),
            Zone::Fixed(offset) => write!(f, "{}{offset}", self.local),
        }
    }
}

fn bad_time(text: &str) -> TimeError {
    (
        PlanErrorKind::BadTime,
        format!(
            "{text:?} is not a time: use queue, next, now, an ISO 8601 time with an offset \
             (2026-12-02T09:00:00+01:00) or a local time with an IANA zone (2026-12-02 09:00 \
             Europe/Berlin)"
        ),
    )
}

/// Spreads the lines that give no time: the first at `start`, each next one `every` later on
/// the start zone's wall clock.
///
/// ```
/// use buffer_bridge::publish::{Stagger, Start};
/// use std::time::Duration;
///
/// // Berlin moves to summer time on 2026-03-29: 09:00 stays 09:00, one hour earlier in UTC.
/// let daily = Stagger::new(Start::parse("2026-03-28 09:00 Europe/Berlin")?, Duration::from_secs(86_400));
/// assert_eq!(daily.at(0).to_rfc3339(), "2026-03-28T08:00:00+00:00");
/// assert_eq!(daily.at(1).to_rfc3339(), "2026-03-29T07:00:00+00:00");
/// # Ok::<(), buffer_bridge::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stagger {
    start: Start,
    every: Duration,
}

impl Stagger {
    /// A stagger from `start`, one line every `every`.
    pub fn new(start: Start, every: Duration) -> Self {
        Self { start, every }
    }

    /// When the `n`th line without a time (0-based, in plan order) publishes.
    pub fn at(&self, n: u32) -> DateTime<Utc> {
        self.start.step(self.every, n)
    }
}
