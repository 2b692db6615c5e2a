//! A plan file run as a job: checked, paced, resumable and exactly once.
//!
//! Scheduling a batch (a content calendar, a pipeline's output, a migration) is where
//! hand-written loops lose or double posts: a crash halfway, a retry after a blip, a 429
//! storm. A [`Plan`] is one post a line (JSON Lines or CSV); a [`Job`] checks every line
//! before sending any, then creates each line once under its idempotency key through the
//! write path's journal, so running the same plan again skips what is created, reconciles
//! what is unknown and sends only the rest. [`status`] reads the journal without sending.
//!
//! # The plan format
//!
//! One JSON object a line (blank lines are skipped):
//!
//! | field | meaning |
//! |---|---|
//! | `channels` | a channel or a list: ids, or `service:name` (`twitter:buffer`), resolved once against the account |
//! | `text` | the text |
//! | `assets` | `[{"type": "image" \| "video" \| "document", "url": …, "alt": …, "title": …, "thumbnail": …}]` (type defaults to image) |
//! | `link` | a URL, or `{"url", "title", "description"}` |
//! | `when` | `queue` (default), `next`, `now`, an ISO 8601 time with offset, or a local time with an IANA zone (`2026-12-02 09:00 Europe/Berlin`) |
//! | `key` | the line's idempotency key; by default derived from the plan's path and the line's content |
//!
//! CSV takes the same with a header row: `channels` (separated by `;`), `text`, `when`,
//! `link`, `key`, and `asset`, `asset_type`, `asset_alt` (`asset2`, … for more). Per-network
//! metadata is refused with [`PlanErrorKind::Metadata`]: the model cannot carry it yet.
//!
//! [`MediaCheck`] (`--check-media`) fetches each asset URL's headers before sending and reports
//! unreachable URLs, wrong types, pictures over Buffer's limit, and signed URLs that expire
//! before the post is due.
//!
//! A local time the zone skips or repeats at a daylight-saving change is refused, not
//! guessed. A line edited after a run is a new post (its derived key changes); a line whose
//! key is journaled is settled as it was first sent.

mod error;
mod job;
mod media;
mod plan;
mod report;
mod status;
mod time;

pub use error::{PlanError, PlanErrorKind};
pub use job::{Job, Progress, ProgressFn};
pub use media::{MediaCheck, MediaProblem, MediaProblemKind};
pub use plan::{ChannelRef, Plan, PlanLine};
pub use report::{ChannelReport, ChannelState, LineProblem, LineReport, Report, Tally};
pub use status::status;
pub use time::{Stagger, Start};

/// A small plan in the JSON Lines format, to start from (`publish --example-plan`).
pub const EXAMPLE_PLAN: &str = include_str!("../../examples/plans/launch.jsonl");
