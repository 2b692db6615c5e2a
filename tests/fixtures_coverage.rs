//! Every recorded classic body in `tests/fixtures/rest/` against the two things that must keep
//! up with it:
//!
//! 1. the simulator's body of the same endpoint carries every key the recording carries
//!    (recursively: in objects, in every element of arrays), so tests on the simulator see the
//!    shapes Buffer sends;
//! 2. the library's model keeps every recorded field it has a place for: each leaf of each
//!    recording is either found in what `ClassicRest` decodes, or listed below with the reason
//!    the model has no place for it.

#[path = "common/rest.rs"]
mod rest;

use std::collections::BTreeSet;

use buffer_bridge::Request;
use buffer_bridge::model::{Day, NewPost, PageRequest, PostEdit, PostList, PostQuery, Schedule};
use buffer_sim::{Service, Simulator};
use serde_json::Value;

/// Every recording, so a new fixture cannot be left out of the walk.
const FIXTURES: &[&str] = &[
    "configuration.json",
    "create.json",
    "create_photo.json",
    "deauthorize.json",
    "destroy.json",
    "edit.json",
    "interactions.json",
    "interactions_empty.json",
    "link_shares.json",
    "move_to_top.json",
    "pending.json",
    "pending_official.json",
    "profile.json",
    "profiles.json",
    "profiles_official.json",
    "reorder.json",
    "schedules.json",
    "schedules_update.json",
    "sent.json",
    "share.json",
    "shuffle.json",
    "update.json",
    "user.json",
    "user_official.json",
];

#[test]
fn every_fixture_is_walked() {
    let dir = format!("{}/tests/fixtures/rest", env!("CARGO_MANIFEST_DIR"));
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect();
    let walked: BTreeSet<String> = FIXTURES.iter().map(|f| (*f).to_owned()).collect();
    assert_eq!(on_disk, walked);
}

fn recorded(name: &str) -> Value {
    serde_json::from_str(&rest::fixture(name)).expect("fixtures are JSON")
}

/// Objects whose keys are data (network names, profile types), not field names: their values
/// are compared as if they were the elements of an array.
const KEYED_BY_DATA: &[&str] = &["services", "services.*.types", "services.*.types.*.icons"];

/// Keys a recording carries that the simulator's answer of the same endpoint rightly lacks.
const NOT_FOR_THIS_REQUEST: &[(&str, &str, &str)] = &[(
    "move_to_top.json",
    "sent_at service_update_id statistics",
    "the documentation's example is a sent update, and only a queued one can move to the top",
)];

/// The keys of `recorded` missing from `served`, as dotted paths (`[]` for array elements).
/// Served values that are not objects (or arrays that are empty) lack every recorded key.
fn missing_keys(recorded: &Value, served: &Value, path: &str, out: &mut BTreeSet<String>) {
    let pattern = path.replace("[]", "");
    let keyed_by_data = KEYED_BY_DATA.iter().any(|p| matches_pattern(p, &pattern));
    match recorded {
        Value::Object(entries) if keyed_by_data => {
            let served = served
                .as_object()
                .map_or(Value::Null, |s| merge(s.values()));
            for value in entries.values() {
                missing_keys(value, &served, &format!("{path}.*"), out);
            }
        }
        Value::Object(entries) => {
            for (key, value) in entries {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match served.get(key) {
                    None => {
                        out.insert(child);
                    }
                    Some(served) => missing_keys(value, served, &child, out),
                }
            }
        }
        Value::Array(elements) => {
            let served = served.as_array().map_or(Value::Null, |s| merge(s.iter()));
            for element in elements {
                missing_keys(element, &served, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

fn matches_pattern(pattern: &str, path: &str) -> bool {
    let (p, q): (Vec<&str>, Vec<&str>) = (pattern.split('.').collect(), path.split('.').collect());
    p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| *a == "*" || a == b)
}

/// One value with every key any of `values` has (objects merged recursively, arrays
/// concatenated), so a key shown by one element counts for all.
fn merge<'v>(values: impl Iterator<Item = &'v Value>) -> Value {
    let mut merged: Option<Value> = None;
    for value in values {
        merged = Some(match (merged.take(), value) {
            (None, v) => v.clone(),
            (Some(Value::Object(mut a)), Value::Object(b)) => {
                for (key, v) in b {
                    let both = match a.remove(key) {
                        Some(existing) => merge([existing, v.clone()].iter()),
                        None => v.clone(),
                    };
                    a.insert(key.clone(), both);
                }
                Value::Object(a)
            }
            (Some(Value::Array(mut a)), Value::Array(b)) => {
                a.extend(b.iter().cloned());
                Value::Array(a)
            }
            (Some(existing), _) => existing,
        });
    }
    merged.unwrap_or(Value::Null)
}

/// A classic request to the simulator; returns the parsed body.
async fn call(sim: &Simulator, method: &str, path: &str, form: &str) -> Value {
    let client = reqwest::Client::new();
    let url = format!("{}{path}", sim.rest_url());
    let request = match method {
        "GET" => client.get(url),
        _ => client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned()),
    };
    let response = request
        .bearer_auth(sim.access_token())
        .send()
        .await
        .expect("request");
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON body");
    assert!(status.is_success(), "{method} {path}: {status} {body}");
    body
}

/// The simulator's answer to the request each recording answered.
async fn served(sim: &Simulator, fixture: &str) -> Value {
    let twitter = sim
        .demo()
        .channel(Service::Twitter)
        .expect("demo twitter")
        .id
        .clone();
    let queued = |text: &str| {
        sim.store()
            .add_post(buffer_sim::NewPost::new(
                &twitter,
                text,
                buffer_sim::When::Queue,
            ))
            .expect("queued")
            .id
    };
    let sent_posts: Vec<String> = sim
        .store()
        .channel_posts(&twitter)
        .into_iter()
        .filter(|p| p.status == buffer_sim::PostStatus::Sent)
        .map(|p| p.id)
        .collect();
    let sent = || sent_posts.first().expect("the demo has sent posts").clone();
    let link =
        "media[link]=http://google.com&media[title]=Google&media[description]=The+google+homepage";
    match fixture {
        "user.json" | "user_official.json" => call(sim, "GET", "user.json", "").await,
        "deauthorize.json" => call(sim, "POST", "user/deauthorize.json", "").await,
        "profiles.json" | "profiles_official.json" => call(sim, "GET", "profiles.json", "").await,
        "profile.json" => call(sim, "GET", &format!("profiles/{twitter}.json"), "").await,
        "schedules.json" => {
            call(
                sim,
                "GET",
                &format!("profiles/{twitter}/schedules.json"),
                "",
            )
            .await
        }
        "schedules_update.json" => {
            let form = "schedules[0][days][]=mon&schedules[0][times][]=12:00";
            let path = format!("profiles/{twitter}/schedules/update.json");
            call(sim, "POST", &path, form).await
        }
        "pending.json" | "pending_official.json" => {
            let path = format!("profiles/{twitter}/updates/pending.json");
            call(sim, "GET", &path, "").await
        }
        "sent.json" => {
            let path = format!("profiles/{twitter}/updates/sent.json");
            call(sim, "GET", &path, "").await
        }
        "update.json" => call(sim, "GET", &format!("updates/{}.json", sent()), "").await,
        "interactions.json" | "interactions_empty.json" => {
            // A sent post that was retweeted, if the demo has one.
            let mut body = Value::Null;
            for id in &sent_posts {
                let path = format!("updates/{id}/interactions.json?event=retweets");
                body = call(sim, "GET", &path, "").await;
                if body["total"].as_u64().unwrap_or_default() > 0 {
                    break;
                }
            }
            body
        }
        "link_shares.json" => call(sim, "GET", "links/shares.json?url=http://x.test", "").await,
        "configuration.json" => call(sim, "GET", "info/configuration.json", "").await,
        "create.json" => {
            let form = format!("text=A+link&profile_ids[]={twitter}&{link}");
            call(sim, "POST", "updates/create.json", &form).await
        }
        "create_photo.json" => {
            let form = format!(
                "text=A+photo&profile_ids[]={twitter}&media[photo]=https://img.test/a.png\
                 &media[thumbnail]=https://img.test/a-small.png"
            );
            call(sim, "POST", "updates/create.json", &form).await
        }
        "edit.json" => {
            let path = format!("updates/{}/update.json", queued("To edit"));
            call(sim, "POST", &path, &format!("text=Edited&{link}")).await
        }
        "share.json" => {
            let path = format!("updates/{}/share.json", queued("To share"));
            call(sim, "POST", &path, "").await
        }
        "destroy.json" => {
            let path = format!("updates/{}/destroy.json", queued("To destroy"));
            call(sim, "POST", &path, "").await
        }
        "move_to_top.json" => {
            let path = format!("updates/{}/move_to_top.json", queued("To move"));
            call(sim, "POST", &path, "").await
        }
        "reorder.json" => {
            let (a, b) = (queued("Reorder a"), queued("Reorder b"));
            let path = format!("profiles/{twitter}/updates/reorder.json");
            call(sim, "POST", &path, &format!("order[]={b}&order[]={a}")).await
        }
        "shuffle.json" => {
            let path = format!("profiles/{twitter}/updates/shuffle.json");
            call(sim, "POST", &path, "").await
        }
        other => panic!("no simulator request for {other}"),
    }
}

#[tokio::test]
async fn the_simulator_carries_every_recorded_key() {
    let mut report = Vec::new();
    for fixture in FIXTURES {
        // A fresh simulator per recording: deauthorize revokes the token.
        let sim = Simulator::start().await;
        let served = served(&sim, fixture).await;
        let mut missing = BTreeSet::new();
        missing_keys(&recorded(fixture), &served, "", &mut missing);
        if let Some((_, keys, _)) = NOT_FOR_THIS_REQUEST.iter().find(|(f, _, _)| f == fixture) {
            let excused: Vec<&str> = keys.split(' ').collect();
            missing.retain(|path| {
                !excused
                    .iter()
                    .any(|k| path == k || path.starts_with(&format!("{k}.")))
            });
        }
        if !missing.is_empty() {
            report.push(format!("{fixture}: {missing:?}"));
        }
    }
    assert!(
        report.is_empty(),
        "keys the simulator lacks:\n{}",
        report.join("\n")
    );
}

/// The request whose answer each recording is.
fn request_for(fixture: &str) -> Request {
    const PROFILE: &str = "4eb854340acb04e870000010";
    const UPDATE: &str = "4ecda256512f7ee521000004";
    let posts = |list| Request::Posts {
        query: PostQuery::new(PROFILE, list),
    };
    match fixture {
        "user.json" | "user_official.json" => Request::Account,
        "deauthorize.json" => Request::Deauthorize,
        "profiles.json" | "profiles_official.json" => Request::Channels,
        "profile.json" => Request::Channel { id: PROFILE.into() },
        "schedules.json" => Request::Schedules {
            channel_id: PROFILE.into(),
        },
        "schedules_update.json" => Request::UpdateSchedules {
            channel_id: PROFILE.into(),
            schedules: vec![Schedule::new(Day::Mon, ["12:00"])],
        },
        "pending.json" | "pending_official.json" => posts(PostList::Queue),
        "sent.json" => posts(PostList::Sent),
        "update.json" => Request::Post { id: UPDATE.into() },
        "interactions.json" | "interactions_empty.json" => Request::Interactions {
            post_id: UPDATE.into(),
            event: "retweet".into(),
            page: PageRequest::default(),
        },
        "link_shares.json" => Request::LinkShares {
            url: "http://bufferapp.com".into(),
        },
        "configuration.json" => Request::Configuration,
        "create.json" | "create_photo.json" => Request::CreatePost {
            post: NewPost::new("x").channel(PROFILE),
        },
        "edit.json" => Request::EditPost {
            id: UPDATE.into(),
            edit: PostEdit::default().text("x"),
        },
        "share.json" => Request::SharePost { id: UPDATE.into() },
        "destroy.json" => Request::DeletePost { id: UPDATE.into() },
        "move_to_top.json" => Request::MovePostToTop { id: UPDATE.into() },
        "reorder.json" => Request::ReorderQueue {
            channel_id: PROFILE.into(),
            order: vec![UPDATE.into()],
            offset: None,
        },
        "shuffle.json" => Request::ShuffleQueue {
            channel_id: PROFILE.into(),
            count: None,
        },
        other => panic!("no request for {other}"),
    }
}

/// What `ClassicRest` makes of a recording, as JSON.
async fn decoded(fixture: &str) -> Value {
    let (result, _) = rest::exchange(
        request_for(fixture),
        rest::json(200, &rest::fixture(fixture)),
    )
    .await;
    let response = result.unwrap_or_else(|e| panic!("{fixture} decodes: {e}"));
    serde_json::to_value(response).expect("the model serializes")
}

/// Recorded fields the model has no place for, with the reason. An entry excuses every leaf
/// whose path (array levels dropped, data keys as `*`) contains it as whole segments.
const NO_PLACE: &[(&str, &str)] = &[
    // Envelopes and confirmations: the decoders return `()` or the outcome.
    ("success", "the envelope's flag; failures are errors"),
    ("message", "a confirmation text for a unit answer"),
    (
        "buffer_count",
        "the queue's fill after a write; read the queue for it",
    ),
    (
        "buffer_percentage",
        "the queue's fill after a write; read the queue for it",
    ),
    (
        "_id",
        "the same id as `id`, which the model keeps (profiles.json's differs by a typo)",
    ),
    // The user.
    (
        "activity_at",
        "the account keeps its creation time, not its last activity",
    ),
    (
        "referral_link",
        "referral programme, no use to an API client",
    ),
    (
        "referral_token",
        "referral programme, no use to an API client",
    ),
    (
        "secret_email",
        "the post-by-email address, not the login email",
    ),
    // Profiles.
    (
        "avatar",
        "the model keeps one avatar: avatar_https when both are sent",
    ),
    ("counts", "queue and history sizes: read the lists for them"),
    ("default", "GraphQL has no default channel"),
    (
        "formatted_service",
        "the network's display name, derived from `service`",
    ),
    ("quick_signin", "a sign-in setting of Buffer's own apps"),
    (
        "statistics.followers",
        "audience figures are not part of the channel model",
    ),
    ("team_members", "team membership is not modelled"),
    (
        "utm_tracking",
        "a link-tracking setting of Buffer's own apps",
    ),
    ("verb", "a UI word (tweet, pin, post)"),
    // Updates.
    ("day", "a display form of due_at"),
    ("due_time", "a display form of due_at"),
    ("text_formatted", "an HTML form of text"),
    ("type", "derived from the assets and link"),
    (
        "user_id",
        "the author (or owner) is not part of the post and channel models",
    ),
    ("via", "which Buffer app made the post"),
    ("client_id", "which OAuth application made the post"),
    // Interactions.
    (
        "twitter_id",
        "the interaction user's network id is not modelled",
    ),
    // Configuration.
    ("icons", "Buffer's image URLs for its own UI"),
    (
        "urls",
        "profile and search URL prefixes for Buffer's own UI",
    ),
];

/// Classic values the model stores under its own name.
fn translated(value: &str) -> &str {
    match value {
        "buffer" => "scheduled", // a pending update's status
        other => other,
    }
}

/// Every leaf of a recording: its path (array levels dropped, data keys as `*`) and value.
fn leaves(value: &Value, path: &str, out: &mut Vec<(String, Value)>) {
    let keyed_by_data = KEYED_BY_DATA.iter().any(|p| matches_pattern(p, path));
    match value {
        Value::Object(entries) => {
            for (key, value) in entries {
                let key = if keyed_by_data { "*" } else { key.as_str() };
                let child = if path.is_empty() {
                    key.to_owned()
                } else {
                    format!("{path}.{key}")
                };
                leaves(value, &child, out);
            }
        }
        Value::Array(elements) => {
            for element in elements {
                leaves(element, path, out);
            }
        }
        leaf => out.push((path.to_owned(), leaf.clone())),
    }
}

/// Whether `entry` (dotted segments) occurs in `path` as whole segments.
fn excuses(entry: &str, path: &str) -> bool {
    format!(".{path}.").contains(&format!(".{entry}."))
}

/// Every string and number in the decoded model (times also as unix seconds), and every
/// boolean with its key.
#[derive(Default)]
struct Atoms {
    strings: BTreeSet<String>,
    numbers: Vec<f64>,
    flags: BTreeSet<(String, bool)>,
}

impl Atoms {
    fn collect(&mut self, value: &Value, key: &str) {
        match value {
            Value::Object(entries) => entries.iter().for_each(|(k, v)| self.collect(v, k)),
            Value::Array(items) => items.iter().for_each(|v| self.collect(v, key)),
            Value::String(s) => {
                if let Ok(at) = chrono::DateTime::parse_from_rfc3339(s) {
                    self.numbers.push(at.timestamp() as f64);
                }
                self.strings.insert(s.clone());
            }
            Value::Number(n) => self.numbers.extend(n.as_f64()),
            Value::Bool(b) => {
                self.flags.insert((key.to_owned(), *b));
            }
            Value::Null => {}
        }
    }

    fn keeps(&self, path: &str, value: &Value) -> bool {
        let key = path.rsplit('.').next().unwrap_or(path);
        match value {
            Value::Null => true,
            Value::String(s) => self.strings.contains(translated(s)),
            Value::Number(n) => n.as_f64().is_some_and(|n| self.numbers.contains(&n)),
            Value::Bool(b) => {
                self.flags.contains(&(key.to_owned(), *b))
                    || self.flags.contains(&(format!("is_{key}"), *b))
            }
            Value::Array(_) | Value::Object(_) => true,
        }
    }
}

#[tokio::test]
async fn the_model_keeps_every_recorded_field_it_has_a_place_for() {
    let mut report = Vec::new();
    let mut excused_used = BTreeSet::new();
    for fixture in FIXTURES {
        let mut atoms = Atoms::default();
        atoms.collect(&decoded(fixture).await, "");
        let mut found = Vec::new();
        leaves(&recorded(fixture), "", &mut found);
        for (path, value) in found {
            if let Some((entry, _)) = NO_PLACE.iter().find(|(entry, _)| excuses(entry, &path)) {
                excused_used.insert(*entry);
                continue;
            }
            if !atoms.keeps(&path, &value) {
                report.push(format!("{fixture}: {path} = {value}"));
            }
        }
    }
    assert!(
        report.is_empty(),
        "recorded fields the decoded model dropped:\n{}",
        report.join("\n")
    );
    // Every excuse is still needed: a field the model gains must leave the list.
    let stale: Vec<&str> = NO_PLACE
        .iter()
        .map(|(entry, _)| *entry)
        .filter(|entry| !excused_used.contains(entry))
        .collect();
    assert!(
        stale.is_empty(),
        "NO_PLACE entries no recording needs: {stale:?}"
    );
}
