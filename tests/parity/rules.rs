//! What may differ between the two backends' answers, field by field, and why: each entry
//! names the section of MIGRATION.md that tells users about it. Everything else must be equal.

use buffer_bridge::BackendKind;
use buffer_bridge::model::Post;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::ids;
use BackendKind::{ClassicRest as Rest, GraphQl};

/// How a field is allowed to differ between the two backends.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rule {
    /// Only this API reports the field: the other side must leave it empty (null, `[]`, `{}`,
    /// `false`); then the field is not compared.
    OnlyOn(BackendKind),
    /// A time both report, classic in whole seconds and GraphQL in milliseconds: compared to
    /// the second.
    Seconds,
    /// Both report it, but each API words or counts it its own way: not compared.
    Differs,
}

/// One field that may differ, with the reason users find in MIGRATION.md.
pub(crate) struct Allowed {
    /// Dotted path inside the value; `*` is every element of a list.
    path: &'static str,
    rule: Rule,
    reason: &'static str,
}

const fn allowed(path: &'static str, rule: Rule, reason: &'static str) -> Allowed {
    Allowed { path, rule, reason }
}

/// `Account`: GET /user.json against `account`.
pub(crate) const ACCOUNT: &[Allowed] = &[
    allowed(
        "plan",
        Rule::OnlyOn(Rest),
        "GraphQL has no plan field (MIGRATION.md, GET /user.json: Lost)",
    ),
    allowed(
        "email",
        Rule::OnlyOn(GraphQl),
        "only GraphQL reports the email (MIGRATION.md, GET /user.json: Gained)",
    ),
    allowed(
        "name",
        Rule::OnlyOn(GraphQl),
        "only GraphQL reports the name (MIGRATION.md, GET /user.json: Gained)",
    ),
    allowed(
        "organizations",
        Rule::OnlyOn(GraphQl),
        "the classic API predates organizations (MIGRATION.md, Ids)",
    ),
    allowed(
        "created_at",
        Rule::Seconds,
        "classic times are whole seconds (MIGRATION.md, Times)",
    ),
];

/// `Channel`: a classic profile against a GraphQL channel.
pub(crate) const CHANNEL: &[Allowed] = &[
    allowed(
        "organization_id",
        Rule::OnlyOn(GraphQl),
        "the classic API predates organizations (MIGRATION.md, GET /profiles.json: Gained)",
    ),
    allowed(
        "display_name",
        Rule::Differs,
        "classic formatted_username writes Twitter handles with an @, GraphQL displayName \
         without (MIGRATION.md, GET /profiles.json: Different)",
    ),
    allowed(
        "created_at",
        Rule::Seconds,
        "classic times are whole seconds (MIGRATION.md, Times)",
    ),
    allowed(
        "schedules.*.paused",
        Rule::OnlyOn(GraphQl),
        "the classic API has no paused days (MIGRATION.md, GET /profiles/:id/schedules.json: \
         Gained)",
    ),
];

/// `Post`: a classic update against a GraphQL post.
pub(crate) const POST: &[Allowed] = &[
    allowed(
        "created_at",
        Rule::Seconds,
        "classic times are whole seconds (MIGRATION.md, Times)",
    ),
    allowed(
        "updated_at",
        Rule::Seconds,
        "classic times are whole seconds (MIGRATION.md, Times)",
    ),
    allowed(
        "due_at",
        Rule::Seconds,
        "classic times are whole seconds (MIGRATION.md, Times)",
    ),
    allowed(
        "sent_at",
        Rule::Seconds,
        "classic times are whole seconds (MIGRATION.md, Times)",
    ),
    allowed(
        "service_post_id",
        Rule::OnlyOn(Rest),
        "GraphQL has no service_update_id; its externalLink points at the published post \
         (MIGRATION.md, GET /profiles/:id/updates/sent.json)",
    ),
    allowed(
        "external_link",
        Rule::OnlyOn(GraphQl),
        "only GraphQL has the post's URL on the network (MIGRATION.md, GET \
         /profiles/:id/updates/sent.json: Gained)",
    ),
    allowed(
        "assets.*.alt_text",
        Rule::OnlyOn(GraphQl),
        "classic media cannot carry alt text (MIGRATION.md, POST /updates/create.json: Media)",
    ),
    allowed(
        "assets.*.title",
        Rule::OnlyOn(GraphQl),
        "classic media has no asset titles (MIGRATION.md, POST /updates/create.json: Media)",
    ),
    allowed(
        "metrics",
        Rule::Differs,
        "classic statistics and GraphQL metrics name and count figures differently \
         (MIGRATION.md, Statistics and metrics)",
    ),
];

/// Serializes an answer of `kind` and applies the rules: checks the `OnlyOn` fields are empty
/// on the side that lacks them, then blanks what is not compared.
fn normalised(kind: BackendKind, value: &impl Serialize, rules: &[Allowed]) -> Value {
    let mut value = serde_json::to_value(value).expect("model values serialize");
    for rule in rules {
        let segments: Vec<&str> = rule.path.split('.').collect();
        visit(&mut value, &segments, "", &mut |node, at| match rule.rule {
            Rule::OnlyOn(only) => {
                assert!(
                    only == kind || is_empty(node),
                    "{at}: the {kind} backend answered {node}, but only {only} should \
                     ({reason})",
                    reason = rule.reason
                );
                *node = Value::Null;
            }
            Rule::Seconds => {
                if let Some(time) = node.as_str().and_then(|t| t.parse::<DateTime<Utc>>().ok()) {
                    let whole = DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time);
                    *node = Value::String(whole.to_rfc3339_opts(SecondsFormat::Secs, true));
                }
            }
            Rule::Differs => *node = Value::Null,
        });
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
