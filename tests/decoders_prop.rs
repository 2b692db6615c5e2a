//! Property tests: every answer decoder of both backends, fed arbitrary bytes, arbitrary JSON
//! and broken recordings, returns a value or a typed error, and never panics.
//!
//! The decoders are driven through the public API: a loopback server answers every request
//! with the generated body and status, and each case sends every operation of both backends.
//! Case counts are moderate so CI stays fast; `fuzz/` runs the same idea for longer.

use buffer_bridge::graphql::GraphQl;
use buffer_bridge::model::{
    Day, NewIdea, NewPost, PageRequest, PostEdit, PostList, PostQuery, Schedule, When,
};
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::{Backend, BackendExt};
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

/// The answer the loopback server gives to every request: status and body.
type Answer = Arc<Mutex<(u16, Vec<u8>)>>;

/// A runtime, the server's answer slot, and one backend of each kind pointed at the server.
struct Harness {
    runtime: Runtime,
    answer: Answer,
    rest: ClassicRest,
    graphql: GraphQl,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let answer: Answer = Arc::new(Mutex::new((200, Vec::new())));
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(serve(listener, answer.clone()));
        let rest = ClassicRest::builder()
            .access_token("prop-token")
            .base_url(format!("http://{addr}/1/"))
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let graphql = GraphQl::builder()
            .api_key("prop-key")
            .base_url(format!("http://{addr}/"))
            .organization_id("org1")
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        Harness {
            runtime,
            answer,
            rest,
            graphql,
        }
    })
}

/// A minimal HTTP/1.1 server: reads each request (head and `Content-Length` body) and
/// answers with the current answer, keeping the connection open.
async fn serve(listener: TcpListener, answer: Answer) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            continue;
        };
        let answer = answer.clone();
        tokio::spawn(async move {
            let mut buffer = Vec::new();
            let mut chunk = [0u8; 8192];
            loop {
                let head_end = loop {
                    if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while buffer.len() < head_end + length {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    }
                }
                buffer.drain(..head_end + length);
                let (status, body) = answer.lock().unwrap().clone();
                let mut response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                response.extend_from_slice(&body);
                if socket.write_all(&response).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// Sends every operation of `backend` once; each must come back, as a value or an error.
async fn every_operation(backend: &dyn Backend) {
    let channel = "5f1e0a0b0c0d0e0f10111213".into();
    let post = "6a1e0a0b0c0d0e0f10111213".into();
    let queue = PostQuery::new("5f1e0a0b0c0d0e0f10111213", PostList::Queue)
        .page(PageRequest::offset(2, 20));
    let sent = PostQuery::new("5f1e0a0b0c0d0e0f10111213", PostList::Sent);
    let new = NewPost::new("hello")
        .channels(["a1", "b2", "c3"])
        .when(When::Next);
    let _ = backend.account().await;
    let _ = backend.channels().await;
    let _ = backend.channel(&channel).await;
    let _ = backend.schedules(&channel).await;
    let _ = backend
        .update_schedules(&channel, &[Schedule::new(Day::Mon, ["09:00"])])
        .await;
    let _ = backend.posts(&queue).await;
    let _ = backend.posts(&sent).await;
    let _ = backend.post(&post).await;
    let _ = backend
        .interactions(&post, "like", PageRequest::first(5))
        .await;
    let _ = backend.create_post(&new).await;
    let _ = backend
        .edit_post(&post, &PostEdit::default().text("x"))
        .await;
    let _ = backend.share_post(&post).await;
    let _ = backend.delete_post(&post).await;
    let _ = backend.move_post_to_top(&post).await;
    let _ = backend
        .reorder_queue(&channel, std::slice::from_ref(&post), None)
        .await;
    let _ = backend.shuffle_queue(&channel, Some(3)).await;
    let _ = backend.link_shares("https://example.com").await;
    let _ = backend.configuration().await;
    let _ = backend.ideas(&"org1".into(), PageRequest::first(5)).await;
    let _ = backend.create_idea(&NewIdea::new("org1", "idea")).await;
    let _ = backend
        .daily_posting_limits(std::slice::from_ref(&channel))
        .await;
}

/// Answers every request of both backends with `status` and `body`.
fn check(status: u16, body: Vec<u8>) {
    let harness = harness();
    *harness.answer.lock().unwrap() = (status, body);
    harness.runtime.block_on(async {
        every_operation(&harness.rest).await;
        every_operation(&harness.graphql).await;
    });
}

/// Field names the decoders look for, so generated JSON reaches deep into them.
const KEYS: &[&str] = &[
    "data",
    "errors",
    "extensions",
    "code",
    "message",
    "error",
    "success",
    "id",
    "_id",
    "text",
    "edges",
    "node",
    "cursor",
    "pageInfo",
    "hasNextPage",
    "endCursor",
    "updates",
    "update",
    "total",
    "__typename",
    "post",
    "posts",
    "createPost",
    "p0",
    "p1",
    "p2",
    "account",
    "channel",
    "channels",
    "organizations",
    "status",
    "dueAt",
    "due_at",
    "service",
    "profile_id",
    "channelId",
    "retryAfter",
    "window",
    "warnings",
    "path",
    "days",
    "times",
    "schedules",
    "interactions",
    "shares",
    "media",
    "assets",
    "idea",
    "ideas",
    "limits",
    "services",
];

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-z0-9 ]{0,12}".prop_map(Value::String),
        prop::sample::select(KEYS).prop_map(|k| Value::String(k.to_owned())),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|pairs| {
                Value::Object(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

fn status() -> impl Strategy<Value = u16> {
    prop::sample::select(&[200u16, 200, 200, 400, 401, 403, 404, 429, 500, 503][..])
}

/// Recorded answers from the reference, as the fixtures keep them.
fn recordings() -> Vec<Vec<u8>> {
    let mut bodies = Vec::new();
    for dir in ["tests/fixtures/rest", "tests/fixtures/graphql"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                bodies.push(std::fs::read(path).unwrap());
            }
        }
    }
    bodies.sort();
    bodies
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(status in status(), body in prop::collection::vec(any::<u8>(), 0..512)) {
        check(status, body);
    }

    #[test]
    fn arbitrary_json_never_panics(status in status(), value in json()) {
        check(status, serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn broken_recordings_never_panic(
        status in status(),
        pick in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let recordings = recordings();
        let mut body = recordings[pick.index(recordings.len())].clone();
        if !body.is_empty() {
            let at = flip.index(body.len());
            body[at] = byte;
            body.truncate(cut.index(body.len() + 1).max(at));
        }
        check(status, body);
    }
}

#[test]
fn every_recording_whole_decodes_without_panic() {
    for body in recordings() {
        for status in [200, 400, 401, 429] {
            check(status, body.clone());
        }
    }
    // The harness really reaches the decoders: a recorded user reads as an account.
    let harness = harness();
    let user = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rest/user.json"),
    )
    .unwrap();
    *harness.answer.lock().unwrap() = (200, user);
    let account = harness.runtime.block_on(harness.rest.account());
    assert!(account.is_ok(), "{account:?}");
    *harness.answer.lock().unwrap() = (200, b"{\"id\":".to_vec());
    let broken = harness.runtime.block_on(harness.rest.account());
    assert_eq!(
        broken.unwrap_err().kind(),
        buffer_bridge::ErrorKind::Protocol
    );
}
