//! What may differ between the two backends' answers, field by field, and why: the library's
//! table of known differences (`buffer_bridge::shadow::known`), each entry naming the section
//! of MIGRATION.md that tells users about it. The shadow comparator accepts the same table, so
//! the two checks cannot drift apart. Everything else must be equal.

use buffer_bridge::BackendKind;
use buffer_bridge::model::Post;
use buffer_bridge::shadow::known::{KnownDifference as Allowed, Treatment};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::ids;
use BackendKind::{ClassicRest as Rest, GraphQl};

pub(crate) use buffer_bridge::shadow::known::{ACCOUNT, CHANNEL, POST};

/// Serializes an answer of `kind` and applies the rules: checks that fields only one API has
/// are empty on the other side, then blanks what is not compared.
fn normalised(kind: BackendKind, value: &impl Serialize, rules: &[Allowed]) -> Value {
    let mut value = serde_json::to_value(value).expect("model values serialize");
    for rule in rules {
        let path = rule.field.replace("[*]", ".*");
        let segments: Vec<&str> = path.split('.').collect();
        visit(
            &mut value,
            &segments,
            "",
            &mut |node, at| match rule.treatment {
                // Items are compared one by one here: a scenario with items listed on one side only
                // leaves them out itself, so none may be flagged on the other side.
                Treatment::OnlyOn(only) | Treatment::ListedOnlyOn(only) => {
                    assert!(
                        only == kind || is_empty(node),
                        "{at}: the {kind} backend answered {node}, but only {only} should \
                     ({reason})",
                        reason = rule.reason
                    );
                    *node = Value::Null;
                }
                Treatment::Seconds => {
                    if let Some(time) = node.as_str().and_then(|t| t.parse::<DateTime<Utc>>().ok())
                    {
                        let whole = DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time);
                        *node = Value::String(whole.to_rfc3339_opts(SecondsFormat::Secs, true));
                    }
                }
                Treatment::WithoutAt => {
                    if let Some(handle) = node.as_str().and_then(|h| h.strip_prefix('@')) {
                        *node = Value::String(handle.to_owned());
                    }
                }
                Treatment::Differs => *node = Value::Null,
            },
        );
    }
    value
}

/// Calls `f` on every node at `path` below `value`.
fn visit(value: &mut Value, path: &[&str], at: &str, f: &mut dyn FnMut(&mut Value, &str)) {
    let Some((first, rest)) = path.split_first() else {
        return f(value, at);
    };
    match (*first, value) {
        ("*", Value::Array(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                visit(item, rest, &format!("{at}[{i}]"), f);
            }
        }
        (key, Value::Object(fields)) => {
            if let Some(field) = fields.get_mut(key) {
                visit(field, rest, &format!("{at}.{key}"), f);
            }
        }
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
        Value::String(text) => text.is_empty(),
        Value::Number(_) | Value::Bool(true) => false,
    }
}

/// Every path where two values differ, with both sides.
fn differences(rest: &Value, graphql: &Value, at: &str, out: &mut Vec<String>) {
    match (rest, graphql) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let (x, y) = (
                    a.get(key).unwrap_or(&Value::Null),
                    b.get(key).unwrap_or(&Value::Null),
                );
                differences(x, y, &format!("{at}.{key}"), out);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(x, y, &format!("{at}[{i}]"), out);
            }
        }
        (a, b) if a != b => out.push(format!("{at}: rest {a} | graphql {b}")),
        _ => {}
    }
}

/// Asserts that the classic and the GraphQL answer are equal once `rules` are applied.
#[track_caller]
pub(crate) fn assert_parity<T: Serialize>(what: &str, rest: &T, graphql: &T, rules: &[Allowed]) {
    let (a, b) = (
        normalised(Rest, rest, rules),
        normalised(GraphQl, graphql, rules),
    );
    let mut found = Vec::new();
    differences(&a, &b, what, &mut found);
    assert!(
        found.is_empty(),
        "{what} differs between the backends in ways MIGRATION.md does not explain:\n  {}",
        found.join("\n  ")
    );
}

/// [`assert_parity`] for lists, item by item, once both have the same length.
#[track_caller]
pub(crate) fn assert_each_parity<T: Serialize>(
    what: &str,
    rest: &[T],
    graphql: &[T],
    rules: &[Allowed],
) {
    assert_eq!(rest.len(), graphql.len(), "{what}: as many on both");
    for (i, (a, b)) in rest.iter().zip(graphql).enumerate() {
        assert_parity(&format!("{what}[{i}]"), a, b, rules);
    }
}

/// [`assert_each_parity`] for posts, which must also come in the same order.
#[track_caller]
pub(crate) fn assert_posts_parity(what: &str, rest: &[Post], graphql: &[Post]) {
    assert_eq!(
        ids(rest),
        ids(graphql),
        "{what}: the same posts in the same order"
    );
    assert_each_parity(what, rest, graphql, POST);
}
