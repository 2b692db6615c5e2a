//! Comparing two backends' answers to one request: normalise what cannot match, diff the rest
//! as JSON, drop the differences known to be harmless, and give a [`Verdict`].

use super::known::{self, KnownDifference, Subject, Treatment};
use super::path::{JsonPath, PathPattern};
use super::summary::{Answer, Summary};
use crate::backend::{Operation, Response};
use crate::{Error, ErrorKind, Result};
use serde::Serialize;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// How one comparison ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// Matched: after normalising, both answers are the same.
    Match,
    /// Mismatched: the answers differ (or only one side failed, or both failed in different
    /// ways); see [`Outcome::differences`].
    Mismatch,
    /// The candidate (or the primary) does not support the operation
    /// ([`Error::Unsupported`]): there is nothing to compare.
    Unsupported,
    /// The candidate failed (error, timeout or panic) where the primary answered.
    Failed,
    /// Both failed, the same way: nothing was compared, so this is not a match (two backends
    /// that cannot be reached agree on nothing). [`Outcome::detail`] has both errors.
    BothFailed,
    /// Not compared at all: the shadow already had as many comparisons in flight as it
    /// allows, so this one was dropped rather than delay the caller. A sign that the candidate
    /// is slow or stuck; [`Shadow::dropped`](super::Shadow::dropped) counts them.
    Dropped,
}

impl Verdict {
    /// `match`, `mismatch`, `unsupported`, `failed`, `both_failed` or `dropped`, as in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Mismatch => "mismatch",
            Self::Unsupported => "unsupported",
            Self::Failed => "failed",
            Self::BothFailed => "both_failed",
            Self::Dropped => "dropped",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One place where the two answers differ. A side's value is `None` when the key or index is
/// absent there (which is not the same as `null`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Difference {
    /// Where, e.g. `$.data.items[0].status`.
    pub path: JsonPath,
    /// The primary's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<Value>,
    /// The candidate's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate: Option<Value>,
}

/// A difference left out of the verdict by an ignore rule, with the rule's reason.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Ignored {
    /// The difference.
    #[serde(flatten)]
    pub difference: Difference,
    /// Why it does not count.
    pub reason: String,
}

/// The result of comparing two answers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Outcome {
    /// How it ended.
    pub verdict: Verdict,
    /// The differences that count (only for [`Verdict::Mismatch`]).
    #[serde(rename = "diff")]
    pub differences: Vec<Difference>,
    /// The differences an ignore rule left out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<Ignored>,
    /// Why the candidate is unsupported or failed, what both sides failed with, why the
    /// comparison was dropped, or that the answers were too large to compare item by item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

type CustomFn = Arc<dyn Fn(&mut Value) + Send + Sync>;

#[derive(Clone)]
enum Action {
    Remove(PathPattern),
    Mask(PathPattern, Value),
    SortBy(PathPattern, String),
    TruncateTimes,
    Custom(CustomFn),
}

/// A rewrite applied to both answers before they are compared, for what cannot match by
/// construction: page tokens, fields only one API has, orderings an API does not promise.
///
/// ```
/// use buffer_bridge::Operation;
/// use buffer_bridge::shadow::Normaliser;
///
/// let drop_plan = Normaliser::remove("data.plan").for_operation(Operation::Account);
/// let channels_by_id = Normaliser::sort_by("data", "id").for_operation(Operation::Channels);
/// # let _ = (drop_plan, channels_by_id);
/// ```
#[derive(Clone)]
pub struct Normaliser {
    name: Cow<'static, str>,
    operations: Vec<Operation>,
    action: Action,
}

impl Normaliser {
    fn new(name: impl Into<Cow<'static, str>>, action: Action) -> Self {
        Self {
            name: name.into(),
            operations: Vec::new(),
            action,
        }
    }

    /// Removes the values at `pattern` from both answers.
    pub fn remove(pattern: &str) -> Self {
        Self::new(format!("remove {pattern}"), Action::Remove(pattern.into()))
    }

    /// Replaces every non-null value at `pattern` with `placeholder`, so that only presence is
    /// compared (page tokens: each backend writes its own, but both must have one or neither).
    pub fn mask(pattern: &str, placeholder: impl Into<Value>) -> Self {
        Self::new(
            format!("mask {pattern}"),
            Action::Mask(pattern.into(), placeholder.into()),
        )
    }

    /// Sorts the arrays at `pattern` by the field `key` of their items, for lists whose order
    /// an API does not promise.
    pub fn sort_by(pattern: &str, key: &str) -> Self {
        Self::new(
            format!("sort {pattern} by {key}"),
            Action::SortBy(pattern.into(), key.to_owned()),
        )
    }

    /// Cuts RFC 3339 times to whole seconds: the classic API keeps Unix seconds, GraphQL keeps
    /// milliseconds.
    pub fn truncate_times() -> Self {
        Self::new("truncate times to seconds", Action::TruncateTimes)
    }

    /// Any other rewrite.
    pub fn custom(
        name: impl Into<Cow<'static, str>>,
        rewrite: impl Fn(&mut Value) + Send + Sync + 'static,
    ) -> Self {
        Self::new(name, Action::Custom(Arc::new(rewrite)))
    }

    /// Applies only to this operation (call again to add more); by default a normaliser
    /// applies to every operation.
    pub fn for_operation(mut self, operation: Operation) -> Self {
        self.operations.push(operation);
        self
    }

    /// What the normaliser does, for logs.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn applies_to(&self, operation: Operation) -> bool {
        self.operations.is_empty() || self.operations.contains(&operation)
    }

    fn apply(&self, value: &mut Value) {
        match &self.action {
            Action::Remove(pattern) => pattern.remove_from(value),
            Action::Mask(pattern, placeholder) => pattern.for_each_match(value, &mut |v| {
                if !v.is_null() {
                    *v = placeholder.clone();
                }
            }),
            Action::SortBy(pattern, key) => pattern.for_each_match(value, &mut |v| {
                if let Value::Array(items) = v {
                    items.sort_by_cached_key(|item| sort_key(item.get(key)));
                }
            }),
            Action::TruncateTimes => truncate_times(value),
            Action::Custom(rewrite) => rewrite(value),
        }
    }
}

impl fmt::Debug for Normaliser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Normaliser")
            .field("name", &self.name)
            .field("operations", &self.operations)
            .finish()
    }
}

fn sort_key(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn truncate_times(value: &mut Value) {
    match value {
        Value::String(text) => {
            if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text)
                && time.timestamp_subsec_nanos() != 0
            {
                let whole = time.with_timezone(&chrono::Utc).timestamp();
                if let Some(cut) = chrono::DateTime::from_timestamp(whole, 0) {
                    *text = cut.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(truncate_times),
        Value::Object(map) => map.values_mut().for_each(truncate_times),
        _ => {}
    }
}

/// Cuts the times at `pattern` to whole seconds.
fn times_to_seconds(pattern: &str) -> Normaliser {
    let at = PathPattern::new(pattern);
    Normaliser::custom(format!("truncate {pattern} to seconds"), move |value| {
        at.for_each_match(value, &mut truncate_times);
    })
}

/// Leaves out the items of the lists at `list` whose `flag` is `true`.
fn leave_out_flagged(list: &str, flag: &str) -> Normaliser {
    let (at, flag) = (PathPattern::new(list), PathPattern::new(flag));
    Normaliser::custom(format!("leave out {list}[*] with {flag}"), move |value| {
        at.for_each_match(value, &mut |items| {
            if let Value::Array(items) = items {
                items.retain_mut(|item| {
                    let mut flagged = false;
                    flag.for_each_match(item, &mut |v| flagged |= *v == Value::Bool(true));
                    !flagged
                });
            }
        });
    })
}

/// Keeps only the kind of the errors at `pattern`, as for a failed call.
fn errors_by_kind(pattern: &str) -> Normaliser {
    let at = PathPattern::new(pattern);
    Normaliser::custom(format!("compare {pattern} by kind"), move |value| {
        at.for_each_match(value, &mut |error| {
            if let Some(kind) = error.get("kind").cloned() {
                *error = json!({ "kind": kind });
            }
        });
    })
}

/// A difference that is known and accepted: for one operation (or all), at a path pattern,
/// when its two values are of the kind the rule accepts.
#[derive(Clone, Debug)]
struct IgnoreRule {
    operation: Option<Operation>,
    pattern: PathPattern,
    accept: Accept,
    reason: String,
}

/// Which differences under its pattern an ignore rule accepts.
#[derive(Clone, Copy, Debug)]
enum Accept {
    /// Any (rules added with [`Comparator::ignore`], and [`Treatment::Differs`]).
    Always,
    /// Those where one side is empty: a field only one API reports ([`Treatment::OnlyOn`]).
    OneSideEmpty,
    /// Two texts equal once a leading `@` is dropped ([`Treatment::WithoutAt`]).
    SameWithoutAt,
}

impl Accept {
    fn accepts(self, difference: &Difference) -> bool {
        let (primary, candidate) = (difference.primary.as_ref(), difference.candidate.as_ref());
        match self {
            Self::Always => true,
            Self::OneSideEmpty => is_empty(primary) || is_empty(candidate),
            Self::SameWithoutAt => match (
                primary.and_then(Value::as_str),
                candidate.and_then(Value::as_str),
            ) {
                (Some(p), Some(c)) => without_at(p) == without_at(c),
                _ => false,
            },
        }
    }
}

fn without_at(handle: &str) -> &str {
    handle.strip_prefix('@').unwrap_or(handle)
}

/// Absent, `null`, `false`, `""`, `[]` or `{}`: how an API leaves out a field it does not have.
fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null | Value::Bool(false)) => true,
        Some(Value::String(text)) => text.is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(fields)) => fields.is_empty(),
        Some(Value::Number(_) | Value::Bool(true)) => false,
    }
}

/// Where values of a [`Subject`] sit in an answer, as a path pattern.
#[derive(Clone, Copy)]
enum Place {
    /// The pattern names the values themselves.
    At(&'static str),
    /// The pattern names lists whose items are the values.
    ItemsOf(&'static str),
}

impl Place {
    /// The pattern of `field` inside each value.
    fn field(self, field: &str) -> String {
        match self {
            Self::At(at) => format!("{at}.{field}"),
            Self::ItemsOf(list) => format!("{list}[*].{field}"),
        }
    }
}

/// Where the answer to `operation` holds values of `subject`: the posts of a page, of a read,
/// of an edit or of each channel a create succeeded on, the days of a schedule, and so on.
fn places(subject: Subject, operation: Operation) -> &'static [Place] {
    use Operation as Op;
    use Place::{At, ItemsOf};
    match (subject, operation) {
        (Subject::Account, Op::Account) => &[At("data")],
        (Subject::Channel, Op::Channels) => &[ItemsOf("data")],
        (Subject::Channel, Op::Channel) => &[At("data")],
        (Subject::Schedule, Op::Schedules) => &[ItemsOf("data")],
        (Subject::Schedule, Op::Channels) => &[ItemsOf("data[*].schedules")],
        (Subject::Schedule, Op::Channel) => &[ItemsOf("data.schedules")],
        (Subject::Post, Op::Posts) => &[ItemsOf("data.items")],
        (Subject::Post, Op::Post | Op::EditPost | Op::MovePostToTop) => &[At("data")],
        (Subject::Post, Op::ReorderQueue | Op::ShuffleQueue) => &[ItemsOf("data")],
        (Subject::Post, Op::CreatePost) => &[At("data.channels[*].result.created")],
        (Subject::Post, Op::CreatePosts) => &[At("data[*].channels[*].result.created")],
        _ => &[],
    }
}

/// Normalises and diffs two backends' answers. [`Shadow`](super::Shadow) uses one for every
/// sampled call, the `compare` command for every read of an account.
///
/// [`Comparator::default`] knows what cannot match between the classic and the GraphQL
/// backend; [`Comparator::empty`] starts from nothing.
#[derive(Clone, Debug)]
pub struct Comparator {
    normalisers: Vec<Normaliser>,
    ignores: Vec<IgnoreRule>,
}

impl Default for Comparator {
    /// The normalisers for classic REST against GraphQL; see [`Comparator::rest_vs_graphql`].
    fn default() -> Self {
        Self::rest_vs_graphql()
    }
}

/// Operations whose answer is a [`Page`](crate::model::Page).
const PAGED: [Operation; 3] = [Operation::Posts, Operation::Interactions, Operation::Ideas];

impl Comparator {
    /// A comparator that compares everything as it is.
    pub fn empty() -> Self {
        Self {
            normalisers: Vec::new(),
            ignores: Vec::new(),
        }
    }

    /// What cannot match between the two APIs, by construction, and the differences
    /// MIGRATION.md explains, and nothing else:
    ///
    /// - page tokens (`data.next`) name their backend: only whether there is a next page counts;
    /// - the classic API counts a listing's items (`data.total`), GraphQL does not;
    /// - GraphQL lists channels by organization, in no promised order: they are sorted by id;
    /// - a channel that failed in a create's outcome compares by its error's kind, as a failed
    ///   call does: the two APIs word their refusals differently;
    /// - every entry of the [known differences](super::known), wherever its subject appears
    ///   in an answer (the posts of a page, of a read, of an edit, of a create; a channel's
    ///   schedule): times compared to the second and paused days left out of both answers
    ///   silently, and the rest (fields only one API reports, a Twitter handle's `@`, post
    ///   metrics) accepted as ignored differences with their reason.
    pub fn rest_vs_graphql() -> Self {
        let mut total = Normaliser::remove("data.total");
        for operation in PAGED {
            total = total.for_operation(operation);
        }
        let mut comparator = Self::empty()
            .normalise(Normaliser::mask("data.next", "<page token>"))
            .normalise(total)
            .normalise(Normaliser::sort_by("data", "id").for_operation(Operation::Channels))
            .normalise(
                errors_by_kind("data.channels[*].result.failed")
                    .for_operation(Operation::CreatePost),
            )
            .normalise(
                errors_by_kind("data[*].channels[*].result.failed")
                    .for_operation(Operation::CreatePosts),
            );
        for known in known::ALL.into_iter().flatten() {
            comparator = comparator.known_difference(known);
        }
        comparator
    }

    /// Normalises or accepts `known` wherever its subject appears, in every operation.
    fn known_difference(mut self, known: &KnownDifference) -> Self {
        for &operation in Operation::ALL {
            for &place in places(known.subject, operation) {
                let field = place.field(known.field);
                let accept = match (known.treatment, place) {
                    (Treatment::Seconds, _) => {
                        let cut = times_to_seconds(&field).for_operation(operation);
                        self = self.normalise(cut);
                        continue;
                    }
                    (Treatment::ListedOnlyOn(_), Place::ItemsOf(list)) => {
                        let leave_out = leave_out_flagged(list, known.field);
                        self = self.normalise(leave_out.for_operation(operation));
                        continue;
                    }
                    // A single value cannot be left out of a list.
                    (Treatment::ListedOnlyOn(_), Place::At(_)) => continue,
                    (Treatment::OnlyOn(_), _) => Accept::OneSideEmpty,
                    (Treatment::WithoutAt, _) => Accept::SameWithoutAt,
                    (Treatment::Differs, _) => Accept::Always,
                };
                self = self.accept(Some(operation), &field, accept, known.reason.to_owned());
            }
        }
        self
    }

    /// Accepts the differences `accept` allows at `pattern`, for `operation` or every one.
    fn accept(
        mut self,
        operation: Option<Operation>,
        pattern: &str,
        accept: Accept,
        reason: String,
    ) -> Self {
        self.ignores.push(IgnoreRule {
            operation,
            pattern: pattern.into(),
            accept,
            reason,
        });
        self
    }

    /// Adds a normaliser, applied after the ones already there.
    pub fn normalise(mut self, normaliser: Normaliser) -> Self {
        self.normalisers.push(normaliser);
        self
    }

    /// Accepts differences at `pattern` (and inside it) for `operation`, or for every operation
    /// with `None`. They are reported as ignored, with `reason`, and do not make a mismatch.
    pub fn ignore(
        self,
        operation: impl Into<Option<Operation>>,
        pattern: &str,
        reason: impl Into<String>,
    ) -> Self {
        self.accept(operation.into(), pattern, Accept::Always, reason.into())
    }

    /// An answer as JSON, after the normalisers that apply to `operation`.
    pub fn normalised(&self, operation: Operation, response: &Response) -> Value {
        let mut value = serde_json::to_value(response)
            .unwrap_or_else(|error| json!({ "unserializable": error.to_string() }));
        for normaliser in self.normalisers.iter().filter(|n| n.applies_to(operation)) {
            normaliser.apply(&mut value);
        }
        value
    }

    /// Compares the primary's and the candidate's answers to one request of `operation`.
    pub fn compare(
        &self,
        operation: Operation,
        primary: &Result<Response>,
        candidate: &Result<Response>,
    ) -> Outcome {
        let (primary, candidate) = (primary.as_ref(), candidate.as_ref());
        self.compare_shown(
            operation,
            primary.map(Shown::Whole),
            candidate.map(Shown::Whole),
        )
    }

    /// Compares two answers as a shadow holds them, either possibly summarised.
    pub(super) fn compare_answers(
        &self,
        operation: Operation,
        primary: &Result<Answer>,
        candidate: &Result<Answer>,
    ) -> Outcome {
        let (primary, candidate) = (primary.as_ref(), candidate.as_ref());
        self.compare_shown(operation, primary.map(Shown::of), candidate.map(Shown::of))
    }

    fn compare_shown(
        &self,
        operation: Operation,
        primary: std::result::Result<Shown<'_>, &Error>,
        candidate: std::result::Result<Shown<'_>, &Error>,
    ) -> Outcome {
        // Once either answer is summarised, both are: a summary only compares with a summary.
        let summarised = [&primary, &candidate].iter().find_map(|side| match side {
            Ok(Shown::Summarised(summary)) => Some(summary.items()),
            _ => None,
        });
        let value = |shown: &Shown<'_>| match (summarised, shown) {
            (None, Shown::Whole(response)) => self.normalised(operation, response),
            (Some(_), Shown::Whole(response)) => Summary::of(response).to_value(),
            (_, Shown::Summarised(summary)) => summary.to_value(),
        };
        // `whole`: one side failed and the other answered, so the answers differ as a whole.
        let (primary, candidate, whole) = match (primary, candidate) {
            (Err(error @ Error::Unsupported { .. }), _)
            | (_, Err(error @ Error::Unsupported { .. })) => {
                return Outcome::without_diff(Verdict::Unsupported, Some(error.to_string()));
            }
            (Ok(_), Err(error)) => {
                return Outcome::without_diff(Verdict::Failed, Some(error.to_string()));
            }
            (Err(p), Err(c)) if p.kind() == c.kind() => {
                let detail = format!("primary: {p}; candidate: {c}");
                return Outcome::without_diff(Verdict::BothFailed, Some(detail));
            }
            (Ok(p), Ok(c)) => (value(&p), value(&c), false),
            (Err(p), Err(c)) => (error_value(p.kind()), error_value(c.kind()), false),
            (Err(p), Ok(c)) => (error_value(p.kind()), value(&c), true),
        };
        let mut differences = Vec::new();
        if whole {
            differences.push(Difference {
                path: JsonPath::root(),
                primary: Some(primary),
                candidate: Some(candidate),
            });
        } else {
            diff(&JsonPath::root(), &primary, &candidate, &mut differences);
        }
        let (ignored, counted): (Vec<_>, Vec<_>) = differences
            .into_iter()
            .map(|difference| {
                let rule = self.ignores.iter().find(|rule| {
                    rule.operation.is_none_or(|op| op == operation)
                        && rule.pattern.covers(&difference.path)
                        && rule.accept.accepts(&difference)
                });
                (difference, rule.map(|rule| rule.reason.clone()))
            })
            .partition(|(_, reason)| reason.is_some());
        Outcome {
            verdict: if counted.is_empty() {
                Verdict::Match
            } else {
                Verdict::Mismatch
            },
            differences: counted.into_iter().map(|(d, _)| d).collect(),
            ignored: ignored
                .into_iter()
                .map(|(difference, reason)| Ignored {
                    difference,
                    reason: reason.unwrap_or_default(),
                })
                .collect(),
            detail: summarised.map(|items| {
                format!(
                    "an answer of {items} items was too large to compare item by item; \
                     compared by item count and ids"
                )
            }),
        }
    }
}

/// An answer as the comparator reads it.
enum Shown<'a> {
    Whole(&'a Response),
    Summarised(Summary),
}

impl<'a> Shown<'a> {
    fn of(answer: &'a Answer) -> Self {
        match answer {
            Answer::Whole(response) => Self::Whole(response),
            Answer::Summarised(summary) => Self::Summarised(*summary),
        }
    }
}

impl Outcome {
    fn without_diff(verdict: Verdict, detail: Option<String>) -> Self {
        Self {
            verdict,
            differences: Vec::new(),
            ignored: Vec::new(),
            detail,
        }
    }

    /// An outcome for a candidate that failed before answering (timed out or panicked).
    pub(crate) fn failed(detail: String) -> Self {
        Self::without_diff(Verdict::Failed, Some(detail))
    }

    /// An outcome for a comparison the shadow had no room for.
    pub(crate) fn dropped(detail: String) -> Self {
        Self::without_diff(Verdict::Dropped, Some(detail))
    }
}

/// Errors compare by kind: the two APIs word their messages differently.
fn error_value(kind: ErrorKind) -> Value {
    json!({ "error": kind })
}

fn diff(path: &JsonPath, primary: &Value, candidate: &Value, out: &mut Vec<Difference>) {
    match (primary, candidate) {
        (Value::Object(p), Value::Object(c)) => {
            let mut keys: Vec<&String> = p.keys().chain(c.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let at = path.key(key);
                match (p.get(key), c.get(key)) {
                    (Some(pv), Some(cv)) => diff(&at, pv, cv, out),
                    (pv, cv) => out.push(Difference {
                        path: at,
                        primary: pv.cloned(),
                        candidate: cv.cloned(),
                    }),
                }
            }
        }
        (Value::Array(p), Value::Array(c)) => {
            for index in 0..p.len().max(c.len()) {
                let at = path.index(index);
                match (p.get(index), c.get(index)) {
                    (Some(pv), Some(cv)) => diff(&at, pv, cv, out),
                    (pv, cv) => out.push(Difference {
                        path: at,
                        primary: pv.cloned(),
                        candidate: cv.cloned(),
                    }),
                }
            }
        }
        // 3 and 3.0 are the same figure, whichever API counted it.
        (Value::Number(p), Value::Number(c)) if p.as_f64() == c.as_f64() => {}
        (p, c) if p == c => {}
        (p, c) => out.push(Difference {
            path: path.clone(),
            primary: Some(p.clone()),
            candidate: Some(c.clone()),
        }),
    }
}
