//! Attacks written by an adversary who had the library's promises and its code, not its tests:
//! bodies whose JSON costs far more memory decoded than read, a `Date` header that poisons the
//! write path's reconciliation fence, credentials that reach the primary's account under
//! another spelling, and secrets in encodings the redactor might miss.
//!
//! Memory cases run in a child process each (peak memory, `VmHWM`, is per process), under a
//! 3 GB address-space limit so a regression fails instead of exhausting the machine.

#[path = "common/sim.rs"]
mod common;

use buffer_bridge::config::BackendConfig;
use buffer_bridge::graphql::GraphQl;
use buffer_bridge::model::{NewPost, PostId, PostList, PostQuery};
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::retry::{RetryPolicy, Retrying};
use buffer_bridge::{Backend, BackendExt, BackendKind};
use buffer_sim::{Fault, FaultRule, Faults, Simulator};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Each request's timeout in the memory cases.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The default body cap.
const BODY_CAP: u64 = 16 * 1024 * 1024;
/// What a process may hold beyond the body cap (as in `hostile_server.rs`).
const MARGIN: u64 = 64 * 1024 * 1024;
/// The variable that makes this binary a child running one case.
const CASE_VARIABLE: &str = "ADVERSARY_CASE";
/// The secret the memory cases use.
const TOKEN: &str = "adversary-test-token";

/// A body of just under the default cap: `prefix`, then `filler` repeated, then `suffix`.
struct Flood {
    prefix: &'static str,
    filler: &'static str,
    suffix: &'static str,
}

impl Flood {
    /// How many times the filler goes in, so the body stays 64 KiB under the cap.
    fn repeats(&self) -> usize {
        let room = BODY_CAP as usize - 64 * 1024 - self.prefix.len() - self.suffix.len();
        room / self.filler.len()
    }

    fn length(&self) -> usize {
        self.prefix.len() + self.filler.len() * self.repeats() + self.suffix.len()
    }
}

/// What each case answers to every request, for the classic API (path under `/1/`) and for
/// GraphQL. Every filler ends in a comma and every suffix closes with a last element, so each
/// body is valid JSON.
fn flood(case: &str, classic: bool) -> Flood {
    let zeros = "0,";
    match (case, classic) {
        // Millions of `errors[]` entries.
        ("errors_list", false) => Flood {
            prefix: "{\"errors\":[",
            filler: zeros,
            suffix: "0]}",
        },
        ("errors_list", true) => Flood {
            prefix: "{\"error\":[",
            filler: zeros,
            suffix: "0],\"code\":1000}",
        },
        // One error whose extensions hold millions of numbers.
        ("error_extensions", false) => Flood {
            prefix: "{\"errors\":[{\"message\":\"no\",\"extensions\":{\"code\":\"X\",\"junk\":[",
            filler: zeros,
            suffix: "0]}}]}",
        },
        ("error_extensions", true) => Flood {
            prefix: "{\"message\":[",
            filler: zeros,
            suffix: "0],\"code\":1000}",
        },
        // Millions of warnings beside an answer.
        ("warnings", false) => Flood {
            prefix: "{\"data\":{},\"extensions\":{\"warnings\":[",
            filler: zeros,
            suffix: "0]}}",
        },
        // A field the decoder reads leniently holding millions of numbers.
        ("field", true) => Flood {
            prefix: "{\"id\":[",
            filler: zeros,
            suffix: "0]}",
        },
        // An unknown field of `data` next to a mutation's answer.
        ("data_junk", false) => Flood {
            prefix: "{\"data\":{\"junk\":[",
            filler: zeros,
            suffix: "0]}}",
        },
        // A page of millions of empty updates.
        ("items", true) => Flood {
            prefix: "{\"total\":1,\"updates\":[",
            filler: "{},",
            suffix: "{}]}",
        },
        // A list of millions of empty profiles.
        ("profiles", true) => Flood {
            prefix: "[",
            filler: "{},",
            suffix: "{}]",
        },
        (case, classic) => panic!("no case {case} for classic={classic}"),
    }
}

/// Reads a request's head and body; `None` when the client went away first. Returns whether
/// it went to the classic API.
async fn read_request(socket: &mut TcpStream) -> Option<bool> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buffer.len() - end;
    while body < length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body += n;
    }
    Some(head.split(' ').nth(1).unwrap_or("/").starts_with("/1/"))
}

/// Answers every request with the flood of `case`, written in pieces so the server itself
/// holds little.
async fn serve_flood(listener: TcpListener, case: String) {
    while let Ok((mut socket, _)) = listener.accept().await {
        let case = case.clone();
        tokio::spawn(async move {
            let Some(classic) = read_request(&mut socket).await else {
                return;
            };
            let flood = flood(&case, classic);
            let status = if matches!(case.as_str(), "field" | "items" | "profiles") {
                "200 OK"
            } else {
                "400 Bad Request"
            };
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                flood.length(),
                flood.prefix
            );
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let block = flood.filler.repeat(4096);
            let mut left = flood.repeats();
            while left > 0 {
                let n = left.min(4096);
                if socket
                    .write_all(&block.as_bytes()[..n * flood.filler.len()])
                    .await
                    .is_err()
                {
                    return;
                }
                left -= n;
            }
            let _ = socket.write_all(flood.suffix.as_bytes()).await;
            let _ = socket.shutdown().await;
        });
    }
}

fn backend(kind: BackendKind, url: &str) -> Box<dyn Backend> {
    match kind {
        BackendKind::ClassicRest => Box::new(
            ClassicRest::builder()
                .access_token(TOKEN)
                .base_url(format!("{url}/1/"))
                .timeout(TIMEOUT)
                .build()
                .unwrap(),
        ),
        BackendKind::GraphQl => Box::new(
            GraphQl::builder()
                .api_key(TOKEN)
                .base_url(format!("{url}/"))
                .organization_id("org")
                .timeout(TIMEOUT)
                .build()
                .unwrap(),
        ),
    }
}

/// The peak resident memory of this process so far, in bytes (Linux).
fn peak_memory() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// Which backends and call a case attacks: a read everywhere, a mutation where `data` is the
/// target.
fn targets(case: &str) -> Vec<BackendKind> {
    match case {
        "warnings" | "data_junk" => vec![BackendKind::GraphQl],
        "field" | "items" | "profiles" => vec![BackendKind::ClassicRest],
        _ => BackendKind::ALL.to_vec(),
    }
}

/// Runs one case on one backend in this (child) process; prints `RESULT <backend> <kind>
/// <ms>` and `PEAK <bytes>`.
async fn run_case(case: &str, kind: BackendKind) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve_flood(listener, case.to_owned()));
    {
        let backend = backend(kind, &url);
        let started = Instant::now();
        let call = async {
            if case == "data_junk" {
                backend.delete_post(&PostId::new("p1")).await.map(|_| ())
            } else if case == "profiles" {
                backend.channels().await.map(|_| ())
            } else if case == "items" {
                let query = PostQuery::new("c1", PostList::Queue);
                backend.posts(&query).await.map(|_| ())
            } else {
                backend.account().await.map(|_| ())
            }
        };
        let seen = match tokio::time::timeout(TIMEOUT + Duration::from_secs(3), call).await {
            Ok(Ok(())) => "Ok".to_owned(),
            Ok(Err(error)) => {
                assert!(!format!("{error} {error:?}").contains(TOKEN), "{error:?}");
                format!("{:?}", error.kind())
            }
            Err(_) => "Hung".to_owned(),
        };
        println!("RESULT {kind} {seen} {}", started.elapsed().as_millis());
    }
    println!("PEAK {}", peak_memory());
}

/// Not a test by itself: the entry point of a child started by [`child`].
#[test]
fn adversary_case_entry() {
    let Ok(case) = std::env::var(CASE_VARIABLE) else {
        return;
    };
    let (case, kind) = case.split_once(' ').unwrap();
    let kind = match kind {
        "rest" => BackendKind::ClassicRest,
        _ => BackendKind::GraphQl,
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(run_case(case, kind));
}

/// Runs `case` on each backend it targets, each in a child under a 3 GB address-space limit,
/// and checks that every call ended in a typed error within the timeout plus a margin, with
/// peak memory under the body cap plus [`MARGIN`].
fn assert_bounded(case: &str) {
    for kind in targets(case) {
        assert_bounded_on(case, kind);
    }
}

fn assert_bounded_on(case: &str, kind: BackendKind) {
    let exe = std::env::current_exe().unwrap();
    let output = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 3000000 && exec \"$0\" \"$@\"")
        .arg(exe)
        .args([
            "adversary_case_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CASE_VARIABLE, format!("{case} {kind}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{case}: the child failed ({:?}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let mut results = 0;
    let mut peak = 0;
    for line in stdout.lines() {
        let start = ["RESULT", "PEAK"]
            .iter()
            .filter_map(|word| line.find(word))
            .min()
            .unwrap_or(line.len());
        match line[start..]
            .split_whitespace()
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["RESULT", backend, kind, ms] => {
                results += 1;
                assert!(
                    !["Ok", "Hung"].contains(kind),
                    "{case} on {backend}: {kind}"
                );
                let ms: u128 = ms.parse().unwrap();
                assert!(
                    ms < (TIMEOUT + Duration::from_secs(3)).as_millis(),
                    "{case} on {backend} took {ms} ms"
                );
            }
            ["PEAK", bytes] => peak = bytes.parse().unwrap(),
            _ => {}
        }
    }
    assert_eq!(results, 1, "{case} on {kind}: {stdout}");
    assert!(peak > 0, "{case}: VmHWM was read");
    assert!(
        peak < BODY_CAP + MARGIN,
        "{case} on {kind}: peak memory {} MB:\n{stdout}",
        peak / 1024 / 1024
    );
}

#[test]
fn millions_of_errors_cost_no_more_than_their_bytes() {
    assert_bounded("errors_list");
}

#[test]
fn an_error_with_millions_of_numbers_in_it_costs_no_more_than_its_bytes() {
    assert_bounded("error_extensions");
}

#[test]
fn millions_of_warnings_cost_no_more_than_their_bytes() {
    assert_bounded("warnings");
}

#[test]
fn a_lenient_field_holding_millions_of_numbers_costs_no_more_than_its_bytes() {
    assert_bounded("field");
}

#[test]
fn a_page_of_millions_of_empty_items_costs_no_more_than_its_bytes() {
    assert_bounded("items");
    assert_bounded("profiles");
}

#[test]
fn junk_beside_a_mutations_answer_costs_no_more_than_its_bytes() {
    assert_bounded("data_junk");
}

/// Where a create goes on each API, as the simulator's fault routes and request log name it.
fn create_route(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::GraphQl => "createPost",
        _ => "/1/updates/create.json",
    }
}

fn on_sim(kind: BackendKind, sim: &Simulator) -> Retrying<Box<dyn Backend>> {
    let backend: Box<dyn Backend> = match kind {
        BackendKind::GraphQl => Box::new(common::graphql(sim)),
        _ => Box::new(common::rest(sim)),
    };
    Retrying::new(backend)
        .policy(RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(20)))
        .seed(7)
}

/// Posts on the simulator's channel whose text is `text`.
fn posts_with(sim: &Simulator, channel: &str, text: &str) -> Vec<String> {
    sim.store()
        .channel_posts(channel)
        .into_iter()
        .filter(|p| p.text == text)
        .map(|p| p.id)
        .collect()
}

#[tokio::test]
async fn one_answer_dated_in_the_far_future_does_not_make_a_lost_create_post_twice() {
    for kind in BackendKind::ALL {
        let sim = Simulator::builder().reject_duplicates(false).start().await;
        let channel = sim.demo().channels[0].id.clone();
        let backend = on_sim(kind, &sim);
        // One answer dated 7,000 years ahead (a broken proxy, a hostile server)...
        let now = sim.clock().now();
        sim.clock().set(now + chrono::TimeDelta::days(365 * 7000));
        backend.account().await.unwrap();
        sim.clock().set(now);
        // ...then a create whose answer is lost after Buffer made the post.
        sim.set_faults(
            Faults::seeded(1).rule(
                FaultRule::new(Fault::LoseResponse)
                    .route(create_route(kind))
                    .times(1),
            ),
        );
        let outcome = backend
            .create_post(&NewPost::new("Dated far ahead").channels([channel.as_str()]))
            .await
            .unwrap();
        assert_eq!(
            posts_with(&sim, &channel, "Dated far ahead").len(),
            1,
            "{kind}: exactly one post: {outcome:?}"
        );
        assert_eq!(
            sim.requests_to(create_route(kind)),
            1,
            "{kind}: never resent"
        );
    }
}

#[tokio::test]
async fn answers_dated_in_the_far_past_do_not_make_a_look_alike_the_new_posts() {
    for kind in BackendKind::ALL {
        let sim = Simulator::builder().reject_duplicates(false).start().await;
        let channel = sim.demo().channels[0].id.clone();
        let backend = on_sim(kind, &sim);
        // A post with the same text, made an hour ago.
        let now = sim.clock().now();
        sim.clock().set(now - chrono::TimeDelta::hours(1));
        backend
            .create_post(&NewPost::new("Dated far behind").channels([channel.as_str()]))
            .await
            .unwrap();
        let old = posts_with(&sim, &channel, "Dated far behind");
        assert_eq!(old.len(), 1);
        // Then every answer is dated 1990 (a server whose clock was reset)...
        let fresh = on_sim(kind, &sim);
        sim.clock()
            .set(chrono::DateTime::from_timestamp(631_152_000, 0).unwrap());
        fresh.account().await.unwrap();
        sim.clock().set(now);
        // ...and a create is dropped before Buffer saw it.
        sim.set_faults(
            Faults::seeded(2).rule(
                FaultRule::new(Fault::Drop)
                    .route(create_route(kind))
                    .times(1),
            ),
        );
        let outcome = fresh
            .create_post(&NewPost::new("Dated far behind").channels([channel.as_str()]))
            .await
            .unwrap();
        let all = posts_with(&sim, &channel, "Dated far behind");
        assert_eq!(all.len(), 2, "{kind}: the new post was made: {outcome:?}");
        let claimed = outcome.channels[0]
            .result
            .post()
            .map(|p| p.id.as_str().to_owned());
        assert_ne!(
            claimed,
            Some(old[0].clone()),
            "{kind}: the old post was claimed"
        );
    }
}

/// The primary's own key, spelled with the whitespace a copy-paste or a shell leaves around
/// it, as the sandbox's token: it reaches the primary's account all the same, so the
/// candidate's create would post a second time on the real account.
#[tokio::test]
async fn a_sandbox_token_that_is_the_primarys_key_with_spaces_never_posts_twice() {
    let real = Simulator::builder().reject_duplicates(false).start().await;
    for spelled in [" {key}", "{key} ", "\t{key}\t"] {
        let token = spelled.replace("{key}", real.api_key());
        let file = format!(
            r#"
            backend = "shadow"
            [rest]
            access_token = "{rest_token}"
            url = "{rest}"
            [graphql]
            api_key = "{key}"
            url = "{graphql}"
            [shadow]
            report = "memory"
            [shadow.sandbox]
            token = "{token}"
            url = "{graphql}"
            "#,
            rest_token = real.access_token(),
            rest = real.rest_url(),
            key = real.api_key(),
            graphql = real.graphql_url(),
            token = token.replace('\t', "\\t"),
        );
        let built = BackendConfig::from_toml_str(&file).and_then(|config| config.build());
        let Ok(client) = built else {
            let message = built.err().unwrap().to_string();
            assert!(!message.contains(real.api_key()), "{message}");
            continue;
        };
        let channel = real.demo().channels[0].id.clone();
        let text = format!("Spelled {spelled:?}");
        real.clear_requests();
        let _ = client
            .create_post(&NewPost::new(text.as_str()).channel(channel.as_str()))
            .await;
        client.settled().await;
        assert_eq!(
            posts_with(&real, &channel, &text).len(),
            1,
            "{spelled:?}: the real account holds the post once"
        );
        let creates = real
            .requests()
            .iter()
            .filter(|r| {
                r.path.ends_with("updates/create.json")
                    || r.root_fields.iter().any(|f| f == "createPost")
            })
            .count();
        assert_eq!(
            creates, 1,
            "{spelled:?}: one create reached the real account"
        );
    }
}

/// A server that answers every request with `body` (status 400, JSON).
async fn answering(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                if read_request(&mut socket).await.is_some() {
                    let answer = format!(
                        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                }
            });
        }
    });
    url
}

/// The standard base64 of `bytes`, padded.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A server echoing the credential base64-encoded (as in a `Basic` header it reflects, on its
/// own or after a user name) or hex-encoded in either case: none of it leaves the backend.
#[tokio::test]
async fn a_secret_echoed_in_base64_or_hex_is_redacted() {
    let secret = "1/bb-adversary-Secret+key=";
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    for echo in [
        base64(secret.as_bytes()),
        base64(format!("u:{secret}").as_bytes()),
        base64(format!("user:{secret}").as_bytes()),
        hex.clone(),
        hex.to_uppercase(),
    ] {
        let body = format!(
            "{{\"error\":\"token {echo} refused\",\"code\":401,\"errors\":[{{\"message\":\"token {echo} refused\"}}]}}"
        );
        let url = answering(body).await;
        let backends: [Box<dyn Backend>; 2] = [
            Box::new(
                ClassicRest::builder()
                    .access_token(secret)
                    .base_url(format!("{url}/1/"))
                    .timeout(TIMEOUT)
                    .build()
                    .unwrap(),
            ),
            Box::new(
                GraphQl::builder()
                    .api_key(secret)
                    .base_url(format!("{url}/"))
                    .organization_id("org")
                    .timeout(TIMEOUT)
                    .build()
                    .unwrap(),
            ),
        ];
        for backend in backends {
            let error = backend.account().await.unwrap_err();
            let shown = format!("{error} {error:?}");
            let core = &echo[4..echo.len() - 4];
            assert!(!shown.contains(core), "{echo} in {shown}");
        }
    }
}

/// Settings at their extremes are bad input, never a panic: a clock skew of `Duration::MAX`
/// on the write path, and a configured timeout of `u64::MAX` seconds.
#[tokio::test]
async fn extreme_settings_never_panic() {
    for kind in BackendKind::ALL {
        let sim = Simulator::builder().reject_duplicates(false).start().await;
        let channel = sim.demo().channels[0].id.clone();
        let backend = on_sim(kind, &sim).clock_skew(Duration::MAX);
        sim.set_faults(
            Faults::seeded(3).rule(
                FaultRule::new(Fault::LoseResponse)
                    .route(create_route(kind))
                    .times(1),
            ),
        );
        let create = NewPost::new("Skewed").channels([channel.as_str()]);
        let outcome = tokio::spawn(async move { backend.create_post(&create).await }).await;
        assert!(outcome.is_ok(), "{kind}: the create panicked");
        assert!(
            posts_with(&sim, &channel, "Skewed").len() <= 1,
            "{kind}: never twice"
        );
    }
    let sim = Simulator::start().await;
    let file = format!(
        "backend = \"rest\"\ntimeout_secs = {}\n[rest]\naccess_token = \"{}\"\nurl = \"{}\"\n",
        u64::MAX,
        sim.access_token(),
        sim.rest_url()
    );
    let built = BackendConfig::from_toml_str(&file).and_then(|config| config.build());
    if let Ok(client) = built {
        let answer = tokio::spawn(async move { client.account().await.map(drop) }).await;
        assert!(answer.is_ok(), "the call panicked");
    }
}

/// A base URL carrying the token (the classic API takes `?access_token=`; a URL may carry
/// `user:token@`): neither the backend's `Debug` nor a refusal of the URL shows it.
#[test]
fn a_token_inside_the_base_url_is_never_shown() {
    let token = "bb-adversary-url-token-123";
    for url in [
        format!("http://127.0.0.1:1/1/?access_token={token}"),
        format!("http://u:{token}@127.0.0.1:1/1/"),
        format!("http://api.bufferapp.com/1/?access_token={token}"),
        format!("not a url {token}"),
    ] {
        let rest = ClassicRest::builder()
            .access_token(token)
            .base_url(url.as_str())
            .build();
        let shown = match &rest {
            Ok(rest) => format!("{rest:?} {}", rest.describe()),
            Err(error) => format!("{error} {error:?}"),
        };
        assert!(!shown.contains(token), "{url}: {shown}");
        let graphql = GraphQl::builder()
            .api_key(token)
            .base_url(url.as_str())
            .build();
        let shown = match &graphql {
            Ok(graphql) => format!("{graphql:?} {}", graphql.describe()),
            Err(error) => format!("{error} {error:?}"),
        };
        assert!(!shown.contains(token), "{url}: {shown}");
    }
}
