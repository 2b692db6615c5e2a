//! Paths into a response's JSON, and the patterns that pick parts of it.
//!
//! Differences are reported at a [`JsonPath`] such as `$.data.items[3].status`. Normalisers and
//! ignore rules name the parts they touch with a [`PathPattern`] in the same notation, where `*`
//! stands for any key, `[*]` for any index and `**` for any number of steps.

use serde::{Serialize, Serializer};
use serde_json::Value;
use std::fmt;

/// One step into a JSON document.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// A key of an object.
    Key(String),
    /// An index into an array.
    Index(usize),
}

/// Where a value sits in a response's JSON, printed as `$.data.items[3].status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JsonPath(Vec<Step>);

impl JsonPath {
    /// The document itself.
    pub fn root() -> Self {
        Self::default()
    }

    /// The steps from the root.
    pub fn steps(&self) -> &[Step] {
        &self.0
    }

    pub(crate) fn key(&self, key: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Key(key.to_owned()));
        Self(steps)
    }

    pub(crate) fn index(&self, index: usize) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Index(index));
        Self(steps)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for step in &self.0 {
            match step {
                Step::Key(key) => write!(f, ".{key}")?,
                Step::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl Serialize for JsonPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Key(String),
    AnyKey,
    Index(usize),
    AnyIndex,
    AnyDepth,
}

/// A pattern over [`JsonPath`]s: `data.items[*].metrics`, `**.created_at`, `$.data[0]`.
///
/// Steps are separated by `.`; `*` matches any key, `[*]` any index, `[2]` one index, and
/// `**` any number of steps. The leading `$` is optional. Every string is a pattern: text that is
/// neither a number nor `*` inside brackets is read as a key.
///
/// ```
/// use buffer_bridge::shadow::PathPattern;
///
/// let pattern = PathPattern::new("data.items[*].metrics");
/// assert_eq!(pattern.to_string(), "data.items[*].metrics");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathPattern {
    text: String,
    segments: Vec<Segment>,
}

impl PathPattern {
    /// Reads a pattern.
    pub fn new(text: &str) -> Self {
        let body = text.trim();
        let body = body.strip_prefix('$').unwrap_or(body);
        let body = body.strip_prefix('.').unwrap_or(body);
        let mut segments = Vec::new();
        for part in body.split('.').filter(|part| !part.is_empty()) {
            parse_part(part, &mut segments);
        }
        Self {
            text: text.trim().to_owned(),
            segments,
        }
    }

    /// Whether a difference at `path` falls under this pattern: at the place it names or
    /// anywhere inside it.
    pub fn covers(&self, path: &JsonPath) -> bool {
        covers(&self.segments, path.steps())
    }

    /// Calls `f` on every value the pattern names.
    pub(crate) fn for_each_match(&self, value: &mut Value, f: &mut dyn FnMut(&mut Value)) {
        visit(value, &self.segments, f);
    }

    /// Removes every value the pattern names from its object or array.
    pub(crate) fn remove_from(&self, value: &mut Value) {
        let Some((last, parent)) = self.segments.split_last() else {
            return;
        };
        visit(value, parent, &mut |parent| match (last, parent) {
            (Segment::Key(key), Value::Object(map)) => {
                map.remove(key);
            }
            (Segment::AnyKey, Value::Object(map)) => map.clear(),
            (Segment::Index(index), Value::Array(items)) if *index < items.len() => {
                items.remove(*index);
            }
            (Segment::AnyIndex, Value::Array(items)) => items.clear(),
            _ => {}
        });
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<&str> for PathPattern {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl Serialize for PathPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// Reads `name[1][*]`: a key (maybe empty, `*` or `**`) followed by bracketed indexes.
fn parse_part(part: &str, segments: &mut Vec<Segment>) {
    let (name, mut rest) = match part.find('[') {
        Some(at) => part.split_at(at),
        None => (part, ""),
    };
    match name {
        "" => {}
        "*" => segments.push(Segment::AnyKey),
        "**" => segments.push(Segment::AnyDepth),
        _ => segments.push(Segment::Key(name.to_owned())),
    }
    while let Some(inner) = rest.strip_prefix('[') {
        let (content, after) = match inner.find(']') {
            Some(end) => (&inner[..end], &inner[end + 1..]),
            None => (inner, ""),
        };
        segments.push(match content {
            "*" => Segment::AnyIndex,
            _ => match content.parse() {
                Ok(index) => Segment::Index(index),
                Err(_) => Segment::Key(content.trim_matches(['"', '\'']).to_owned()),
            },
        });
        rest = after;
    }
}

fn step_matches(segment: &Segment, step: &Step) -> bool {
    match (segment, step) {
        (Segment::Key(want), Step::Key(key)) => want == key,
        (Segment::AnyKey, Step::Key(_)) => true,
        (Segment::Index(want), Step::Index(index)) => want == index,
        (Segment::AnyIndex, Step::Index(_)) => true,
        _ => false,
    }
}

fn covers(segments: &[Segment], steps: &[Step]) -> bool {
    match segments.split_first() {
        None => true,
        Some((Segment::AnyDepth, rest)) => {
            covers(rest, steps) || (!steps.is_empty() && covers(segments, &steps[1..]))
        }
        Some((segment, rest)) => match steps.split_first() {
            Some((step, deeper)) => step_matches(segment, step) && covers(rest, deeper),
            None => false,
        },
    }
}

fn visit(value: &mut Value, segments: &[Segment], f: &mut dyn FnMut(&mut Value)) {
    let Some((segment, rest)) = segments.split_first() else {
        f(value);
        return;
    };
    match (segment, value) {
        (Segment::AnyDepth, value) => {
            match value {
                Value::Object(map) => map.values_mut().for_each(|v| visit(v, segments, f)),
                Value::Array(items) => items.iter_mut().for_each(|v| visit(v, segments, f)),
                _ => {}
            }
            visit(value, rest, f);
        }
        (Segment::Key(key), Value::Object(map)) => {
            if let Some(child) = map.get_mut(key) {
                visit(child, rest, f);
            }
        }
        (Segment::AnyKey, Value::Object(map)) => {
            map.values_mut().for_each(|child| visit(child, rest, f));
        }
        (Segment::Index(index), Value::Array(items)) => {
            if let Some(child) = items.get_mut(*index) {
                visit(child, rest, f);
            }
        }
        (Segment::AnyIndex, Value::Array(items)) => {
            items.iter_mut().for_each(|child| visit(child, rest, f));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(steps: &[Step]) -> JsonPath {
        JsonPath(steps.to_vec())
    }

    #[test]
    fn patterns_cover_the_place_they_name_and_everything_inside() {
        let metrics = path(&[
            Step::Key("data".into()),
            Step::Key("items".into()),
            Step::Index(2),
            Step::Key("metrics".into()),
            Step::Key("likes".into()),
        ]);
        assert_eq!(metrics.to_string(), "$.data.items[2].metrics.likes");
        assert!(PathPattern::new("data.items[*].metrics").covers(&metrics));
        assert!(PathPattern::new("$.data.items[2]").covers(&metrics));
        assert!(PathPattern::new("**.likes").covers(&metrics));
        assert!(PathPattern::new("data.*[*].metrics").covers(&metrics));
        assert!(!PathPattern::new("data.items[1]").covers(&metrics));
        assert!(!PathPattern::new("data.items[*].text").covers(&metrics));
        assert!(!PathPattern::new("**.text").covers(&metrics));
    }

    #[test]
    fn removal_reaches_every_match() {
        let mut value = json!({"data": [{"id": "a", "org": 1}, {"id": "b", "org": 2}], "org": 3});
        PathPattern::new("data[*].org").remove_from(&mut value);
        assert_eq!(value, json!({"data": [{"id": "a"}, {"id": "b"}], "org": 3}));
        PathPattern::new("**.id").remove_from(&mut value);
        assert_eq!(value, json!({"data": [{}, {}], "org": 3}));
    }
}
