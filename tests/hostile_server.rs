//! Both backends against a server written by an attacker: a loopback TCP server that answers
//! with huge and endless bodies, a byte a second, invalid UTF-8, 100,000-deep JSON, absurd and
//! enormous rate-limit headers, and redirects to other hosts. Every case must end in a typed
//! error before the request timeout (plus 2 s of slack), with the process's peak memory under
//! the body cap plus 64 MB.
//!
//! Tests share a process, and peak memory (`VmHWM`) is per process, so each case runs in a
//! child: this test binary started again with `HOSTILE_CASE` naming the case, which runs it
//! through both backends and prints what it saw. The child also runs under a 3 GB address
//! space limit, so a regression fails the test instead of exhausting the machine.

use buffer_bridge::graphql::GraphQl;
use buffer_bridge::http::HttpSettings;
use buffer_bridge::pacing::{Paced, Pacing};
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::retry::Retrying;
use buffer_bridge::{Backend, BackendExt, BackendKind, ErrorKind};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Each request's timeout.
const TIMEOUT: Duration = Duration::from_secs(2);
/// The longest a paced call may wait for room.
const MAX_WAIT: Duration = Duration::from_secs(5);
/// The body cap of the case that sets its own.
const SMALL_CAP: usize = 16 * 1024;
/// The default body cap.
const BODY_CAP: u64 = 16 * 1024 * 1024;
/// What a process may hold beyond the body cap.
const MARGIN: u64 = 64 * 1024 * 1024;
/// The variable that makes this binary a child running one case.
const CASE_VARIABLE: &str = "HOSTILE_CASE";

/// How the hostile server answers a request.
enum Plan {
    /// These bytes, then the connection is closed.
    Once(Vec<u8>),
    /// A head, then the same chunk again and again (`None`: until the client hangs up).
    Repeat {
        head: Vec<u8>,
        chunk: Vec<u8>,
        times: Option<usize>,
    },
    /// These bytes one at a time, a second apart.
    Dribble(Vec<u8>),
}

/// What the server saw of a request.
struct Seen {
    path: String,
    authorization: bool,
}

/// Which API a request went to: the classic one lives under `/1/`.
fn is_classic(seen: &Seen) -> bool {
    seen.path.starts_with("/1/")
}

/// A whole HTTP/1.1 answer with a length and `Connection: close`.
fn answer(status: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("connection: close\r\n\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// A JSON body for a call that was answered with nothing useful: each backend reads it as an
/// answer of the wrong shape.
fn empty_json() -> Vec<u8> {
    b"{}".to_vec()
}

/// The hostile answers, by case name.
fn plan(case: &str, seen: &Seen, redirect_to: &str) -> Plan {
    let json = || ("content-type", "application/json".to_owned());
    match case {
        "huge_body" => Plan::Repeat {
            head: format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                200 * 1024 * 1024
            )
            .into_bytes(),
            chunk: vec![b' '; 64 * 1024],
            times: Some(200 * 16),
        },
        "endless_chunked" => {
            let mut chunk = b"10000\r\n".to_vec();
            chunk.extend(std::iter::repeat_n(b' ', 0x10000));
            chunk.extend_from_slice(b"\r\n");
            Plan::Repeat {
                head: b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_vec(),
                chunk,
                times: None,
            }
        }
        "slowloris" => Plan::Dribble(answer("200 OK", &[json()], b"{\"data\":{}}")),
        "invalid_utf8" => {
            let body: &[u8] = if is_classic(seen) {
                b"{\"id\":\"\xff\xfe\xfd\",\"name\":\"\xc3\x28\"}"
            } else {
                b"{\"data\":{\"account\":{\"id\":\"\xff\xfe\xfd\",\"email\":\"\xc3\x28\"}}}"
            };
            Plan::Once(answer("200 OK", &[json()], body))
        }
        "deep_json" => {
            let depth = 100_000;
            let mut body = Vec::new();
            if !is_classic(seen) {
                body.extend_from_slice(b"{\"data\":{\"account\":");
            }
            body.extend(std::iter::repeat_n(b"{\"a\":".as_slice(), depth).flatten());
            body.push(b'1');
            body.extend(std::iter::repeat_n(b'}', depth));
            if !is_classic(seen) {
                body.extend_from_slice(b"}}");
            }
            Plan::Once(answer("200 OK", &[json()], &body))
        }
        "deep_errors" => {
            let depth = 100_000;
            let mut body = b"{\"errors\":".to_vec();
            body.extend(std::iter::repeat_n(b'[', depth));
            body.extend(std::iter::repeat_n(b']', depth));
            body.push(b'}');
            Plan::Once(answer("400 Bad Request", &[json()], &body))
        }
        "retry_after_forever" => Plan::Once(answer(
            "429 Too Many Requests",
            &[json(), ("retry-after", "999999999".to_owned())],
            &empty_json(),
        )),
        "reset_forever" => Plan::Once(answer(
            "200 OK",
            &[
                json(),
                ("ratelimit", "\"x\";r=0;t=18446744073709551615".to_owned()),
            ],
            &empty_json(),
        )),
        "thousand_windows" => {
            // 1,000 windows of a million requests, all used: about 45 KB of headers.
            let policy: Vec<String> = (1..=1000)
                .map(|n| format!("\"w{n}\";q=1000000;w={}", 60 * n))
                .collect();
            let state: Vec<String> = (1..=1000).map(|n| format!("\"w{n}\";r=0;t=30")).collect();
            Plan::Once(answer(
                "200 OK",
                &[
                    json(),
                    ("ratelimit-policy", policy.join(", ")),
                    ("ratelimit", state.join(", ")),
                ],
                &empty_json(),
            ))
        }
        "small_cap" => {
            let mut body = vec![b' '; 4 * SMALL_CAP];
            body.extend_from_slice(b"{}");
            Plan::Once(answer("200 OK", &[json()], &body))
        }
        "dated" => {
            // The second answer's clock is an hour behind the first's (both near this
            // machine's clock: a Date a day away is not believed).
            static ANSWERED: AtomicUsize = AtomicUsize::new(0);
            let behind = match ANSWERED.fetch_add(1, Ordering::SeqCst) {
                0 => chrono::TimeDelta::zero(),
                _ => chrono::TimeDelta::hours(1),
            };
            let date = (dated_at() - behind).format("%a, %d %b %Y %H:%M:%S GMT");
            Plan::Once(answer(
                "200 OK",
                &[json(), ("date", date.to_string())],
                &empty_json(),
            ))
        }
        "redirect" | "redirect_followed" => Plan::Once(answer(
            "302 Found",
            &[("location", format!("{redirect_to}{}", seen.path))],
            b"",
        )),
        other => panic!("no case {other}"),
    }
}

/// The first `dated` answer's `Date`: this machine's clock, to the whole minute.
fn dated_at() -> chrono::DateTime<chrono::Utc> {
    static AT: std::sync::OnceLock<chrono::DateTime<chrono::Utc>> = std::sync::OnceLock::new();
    *AT.get_or_init(|| {
        let now = chrono::Utc::now().timestamp();
        chrono::DateTime::from_timestamp(now - now % 60, 0).unwrap()
    })
}

/// Reads a request's head and body; `None` when the client went away first.
async fn read_request(socket: &mut TcpStream) -> Option<Seen> {
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
        if buffer.len() > 1 << 20 {
            return None;
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
    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
    let authorization = head.lines().any(|line| line.starts_with("authorization:"));
    Some(Seen {
        path,
        authorization,
    })
}

/// Answers every request on `listener` with `case`.
async fn serve(listener: TcpListener, case: String, redirect_to: String) {
    while let Ok((mut socket, _)) = listener.accept().await {
        let case = case.clone();
        let redirect_to = redirect_to.clone();
        tokio::spawn(async move {
            let Some(seen) = read_request(&mut socket).await else {
                return;
            };
            match plan(&case, &seen, &redirect_to) {
                Plan::Once(bytes) => {
                    let _ = socket.write_all(&bytes).await;
                    let _ = socket.shutdown().await;
                }
                Plan::Repeat { head, chunk, times } => {
                    if socket.write_all(&head).await.is_err() {
                        return;
                    }
                    let mut sent = 0;
                    while times.is_none_or(|times| sent < times) {
                        if socket.write_all(&chunk).await.is_err() {
                            return;
                        }
                        sent += 1;
                    }
                }
                Plan::Dribble(bytes) => {
                    for byte in bytes {
                        if socket.write_all(&[byte]).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
    }
}

/// Where a redirect points: counts connections, and requests that carried a token.
async fn redirect_target(host: &str) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind(format!("{host}:0")).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (connections, tokens) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (c, t) = (connections.clone(), tokens.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            if let Some(seen) = read_request(&mut socket).await {
                if seen.authorization {
                    t.fetch_add(1, Ordering::SeqCst);
                }
                let _ = socket
                    .write_all(&answer("200 OK", &[], b"{\"data\":{}}"))
                    .await;
            }
        }
    });
    (url, connections, tokens)
}

/// A backend of `kind` on `url`, built as `case` needs: with a small body cap (set through
/// each builder's own method and through `HttpSettings`), or on a client of the caller's
/// that follows redirects.
fn backend(kind: BackendKind, url: &str, case: &str) -> Box<dyn Backend> {
    let mut settings = HttpSettings::default();
    settings.timeout = TIMEOUT;
    settings.connect_timeout = Duration::from_millis(500);
    if case == "small_cap" {
        settings.max_body_size = SMALL_CAP;
    }
    let following = (case == "redirect_followed").then(reqwest::Client::new);
    match kind {
        BackendKind::ClassicRest => {
            let mut builder = ClassicRest::builder()
                .access_token("hostile-test-token")
                .base_url(format!("{url}/1/"))
                .timeout(TIMEOUT)
                .connect_timeout(Duration::from_millis(500));
            if case == "small_cap" {
                builder = builder.max_body_size(SMALL_CAP);
            }
            if let Some(client) = following {
                builder = builder.http_client(client);
            }
            Box::new(builder.build().unwrap())
        }
        BackendKind::GraphQl => {
            let mut builder = GraphQl::builder()
                .api_key("hostile-test-token")
                .base_url(format!("{url}/"))
                .organization_id("org")
                .http_settings(settings);
            if let Some(client) = following {
                builder = builder.http_client(client);
            }
            Box::new(builder.build().unwrap())
        }
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

/// Runs one case through both backends; prints `RESULT <backend> <kind> <ms>` per backend,
/// `REDIRECT <connections> <tokens>` for the redirect case, and `PEAK <bytes>`.
async fn run_case(case: &str) {
    let (redirect_to, connections, tokens) = redirect_target("127.0.0.2").await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, case.to_owned(), redirect_to));
    let paced = matches!(
        case,
        "retry_after_forever" | "reset_forever" | "thousand_windows"
    );
    for kind in BackendKind::ALL {
        let backend = backend(kind, &url, case);
        let started = Instant::now();
        let result = if paced {
            // The first answer poisons the budget; the second call must not block on it.
            let paced = Paced::with(backend, Pacing::of(kind).max_wait(MAX_WAIT));
            let _ = paced.account().await;
            let started_second = Instant::now();
            let second =
                tokio::time::timeout(TIMEOUT + Duration::from_secs(2), paced.account()).await;
            println!("SECOND {kind} {}", started_second.elapsed().as_millis());
            second
        } else {
            tokio::time::timeout(TIMEOUT + Duration::from_secs(2), backend.account()).await
        };
        let kind_seen = match result {
            Ok(Ok(_)) => "Ok".to_owned(),
            Ok(Err(error)) => {
                assert!(
                    !format!("{error} {error:?}").contains("hostile-test-token"),
                    "{error:?}"
                );
                format!("{:?}", error.kind())
            }
            Err(_) => "Hung".to_owned(),
        };
        println!(
            "RESULT {kind} {kind_seen} {}",
            started.elapsed().as_millis()
        );
    }
    println!(
        "REDIRECT {} {}",
        connections.load(Ordering::SeqCst),
        tokens.load(Ordering::SeqCst)
    );
    println!("PEAK {}", peak_memory());
}

/// Not a test by itself: the entry point of a child started by [`child`] (it does nothing
/// unless `HOSTILE_CASE` is set).
#[test]
fn hostile_case_entry() {
    let Ok(case) = std::env::var(CASE_VARIABLE) else {
        return;
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(run_case(&case));
}

/// What a child reported.
#[derive(Debug, Default)]
struct Report {
    results: Vec<(String, String, u128)>,
    seconds: Vec<(String, u128)>,
    redirect: (usize, usize),
    peak: u64,
}

/// Runs `case` in a child process and reads its report; fails if it does not finish within a
/// minute or dies.
fn child(case: &str) -> Report {
    let exe = std::env::current_exe().unwrap();
    let mut process = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 3000000 && exec \"$0\" \"$@\"")
        .arg(exe)
        .args([
            "hostile_case_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CASE_VARIABLE, case)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if process.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = process.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = process.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{case}: the child failed ({:?}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let mut report = Report::default();
    for line in stdout.lines() {
        // The test harness may print its own words before the child's on a line.
        let start = ["RESULT", "SECOND", "REDIRECT", "PEAK"]
            .iter()
            .filter_map(|word| line.find(word))
            .min()
            .unwrap_or(line.len());
        let words: Vec<&str> = line[start..].split_whitespace().collect();
        match words.as_slice() {
            ["RESULT", backend, kind, ms] => {
                report
                    .results
                    .push((backend.to_string(), kind.to_string(), ms.parse().unwrap()));
            }
            ["SECOND", backend, ms] => report
                .seconds
                .push((backend.to_string(), ms.parse().unwrap())),
            ["REDIRECT", connections, tokens] => {
                report.redirect = (connections.parse().unwrap(), tokens.parse().unwrap());
            }
            ["PEAK", bytes] => report.peak = bytes.parse().unwrap(),
            _ => {}
        }
    }
    assert_eq!(report.results.len(), 2, "{case}: {stdout}");
    report
}

/// Runs `case` and checks that both backends ended in `expected` before the timeout plus 2 s
/// (a paced call: its second call, which must not wait for a budget the first answer
/// claimed is spent for longer than `MAX_WAIT`), with peak memory under the body cap plus
/// 64 MB.
fn assert_case(case: &str, expected: ErrorKind) -> Report {
    let report = child(case);
    let expected = format!("{expected:?}");
    for (backend, kind, ms) in &report.results {
        assert_eq!(kind, &expected, "{case} on {backend}: {report:?}");
        assert!(
            *ms < (TIMEOUT + Duration::from_secs(2)).as_millis(),
            "{case} on {backend} took {ms} ms"
        );
    }
    assert!(report.peak > 0, "{case}: VmHWM was read");
    assert!(
        report.peak < BODY_CAP + MARGIN,
        "{case}: peak memory {} MB",
        report.peak / 1024 / 1024
    );
    report
}

#[test]
fn a_200_mb_body_is_refused_past_the_cap() {
    assert_case("huge_body", ErrorKind::Protocol);
}

#[test]
fn an_endless_chunked_body_is_refused_past_the_cap() {
    assert_case("endless_chunked", ErrorKind::Protocol);
}

#[test]
fn a_byte_a_second_times_out() {
    assert_case("slowloris", ErrorKind::Timeout);
}

#[test]
fn invalid_utf8_is_a_protocol_error() {
    assert_case("invalid_utf8", ErrorKind::Protocol);
}

#[test]
fn json_nested_100000_deep_is_a_protocol_error() {
    assert_case("deep_json", ErrorKind::Protocol);
}

#[test]
fn errors_nested_100000_deep_are_an_error_not_a_crash() {
    let report = child("deep_errors");
    for (backend, kind, _) in &report.results {
        assert!(
            kind == "Protocol" || kind == "InvalidInput",
            "{backend}: {kind}"
        );
    }
}

#[test]
fn a_retry_after_of_31_years_fails_the_next_paced_call_at_once() {
    assert_case("retry_after_forever", ErrorKind::RateLimited);
}

#[test]
fn a_reset_at_the_end_of_time_fails_the_next_paced_call_at_once() {
    let report = assert_case("reset_forever", ErrorKind::RateLimited);
    assert_eq!(report.seconds.len(), 2);
}

#[test]
fn a_thousand_windows_of_a_million_allocate_nothing_and_block_nothing() {
    let report = assert_case("thousand_windows", ErrorKind::RateLimited);
    assert_eq!(report.seconds.len(), 2);
}

#[test]
fn redirects_to_another_host_are_never_followed() {
    let report = assert_case("redirect", ErrorKind::Unexpected);
    assert_eq!(report.redirect, (0, 0), "the other host saw nothing");
}

#[test]
fn a_client_that_follows_redirects_never_carries_the_token_and_its_answer_is_refused() {
    let report = assert_case("redirect_followed", ErrorKind::Unexpected);
    let (connections, tokens) = report.redirect;
    assert!(connections >= 2, "the caller's client followed: {report:?}");
    assert_eq!(tokens, 0, "the token never reached the other host");
}

#[test]
fn the_body_cap_is_set_on_either_builder() {
    assert_case("small_cap", ErrorKind::Protocol);
}

#[tokio::test]
async fn the_server_clock_is_the_latest_date_seen_through_every_layer() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, "dated".to_owned(), String::new()));
    let backend = Retrying::new(Paced::new(backend(BackendKind::GraphQl, &url, "dated")));
    assert_eq!(backend.server_time(), None);
    for _ in 0..2 {
        let _ = backend.account().await;
    }
    assert_eq!(backend.server_time(), Some(dated_at()));
}
