//! Attacks on `buffer-bridge login` as a user runs it: the stored login across processes
//! (commands at once, a command killed after its refresh, tampered or stale files, a shared
//! home) and the redirect listener (forged, garbage, slow and idle connections).

use buffer_sim::Simulator;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn command(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_buffer-bridge"));
    command
        .args(args)
        .env_clear()
        .env("BUFFER_BRIDGE_HOME", home);
    command
}

fn run(home: &Path, args: &[&str]) -> Output {
    command(home, args).output().expect("the binary runs")
}

/// A fresh home for one test, under the target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("adv-login-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn token_file(home: &Path) -> PathBuf {
    std::fs::read_dir(home.join("tokens"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|e| e == "json"))
        .expect("a token file")
}

/// The stored access and refresh tokens.
fn tokens_of(home: &Path) -> Vec<String> {
    let tokens: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(token_file(home)).unwrap()).unwrap();
    ["access_token", "refresh_token"]
        .iter()
        .map(|name| tokens[name].as_str().unwrap().to_owned())
        .collect()
}

/// Moves the stored access token's expiry into the past, as an hour between commands would.
fn expire_access_token(home: &Path) {
    let file = token_file(home);
    let mut tokens: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    tokens["expires_at"] = "2000-01-01T00:00:00Z".into();
    std::fs::write(&file, tokens.to_string()).unwrap();
}

fn login_sim(home: &Path) {
    let output = run(home, &["login", "--sim"]);
    assert!(output.status.success(), "{output:?}");
}

/// No token ever stored in `home` appears in what a command printed.
fn assert_no_token_in(seen_tokens: &[String], output: &Output) {
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for token in seen_tokens {
        assert!(
            !said.contains(token.as_str()),
            "a token was printed: {said}"
        );
    }
}

/// Every file under `home` other than the token file, with its contents.
fn other_files(home: &Path) -> Vec<(PathBuf, String)> {
    let token_file = token_file(home);
    let mut files = Vec::new();
    let mut dirs = vec![home.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path != token_file {
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                files.push((path, text));
            }
        }
    }
    files
}

/// Two `channels` started together, each across an expiry, three times over: every one
/// succeeds and the login still works afterwards. Each command's simulator takes on the grants
/// saved by the last one, so two at once refresh the same refresh token (Buffer would revoke
/// the grant) and the later save wins over the earlier's rotation.
#[test]
fn two_commands_at_once_across_an_expiry_keep_the_login() {
    let home = scratch("concurrent");
    login_sim(&home);
    let mut seen = tokens_of(&home);
    for round in 0..3 {
        expire_access_token(&home);
        let children: Vec<Child> = (0..2)
            .map(|_| {
                command(&home, &["channels", "--json"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outputs: Vec<Output> = children
            .into_iter()
            .map(|child| child.wait_with_output().unwrap())
            .collect();
        seen.extend(tokens_of(&home));
        for output in &outputs {
            assert!(output.status.success(), "round {round}: {output:?}");
            assert_no_token_in(&seen, output);
        }
        let after = run(&home, &["channels", "--json"]);
        assert!(after.status.success(), "round {round}, after: {after:?}");
    }
    let whoami = run(&home, &["whoami"]);
    assert!(whoami.status.success(), "{whoami:?}");
    std::fs::remove_dir_all(&home).unwrap();
}

/// `mcp` refreshes at its start (it lists the channels) and then serves until stopped: killed
/// there, its refreshed tokens are stored, so the next command must find a grant that works.
/// A simulator that hands its rotation on only when the command ends would leave the next
/// one a refresh token it never issued.
#[test]
fn a_command_killed_after_its_refresh_was_stored_keeps_the_login() {
    let home = scratch("killed");
    login_sim(&home);
    let before = tokens_of(&home);
    expire_access_token(&home);
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/agents.toml");
    let mut mcp = command(&home, &["mcp", "--policy", policy, "--agent", "social-bot"])
        .arg("--audit")
        .arg(home.join("audit.jsonl"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(mcp.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("MCP over stdio") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "mcp ended before serving"
        );
    }
    mcp.kill().unwrap();
    mcp.wait().unwrap();
    let after = tokens_of(&home);
    assert_ne!(after, before, "mcp refreshed and stored the new tokens");
    let channels = run(&home, &["channels", "--json"]);
    assert!(channels.status.success(), "{channels:?}");
    std::fs::remove_dir_all(&home).unwrap();
}

/// `channels` killed at points spread over its run, refresh included: the next command works,
/// or (killed between the simulator's rotation and the storing of its answer, Buffer's lost
/// answer) says once that the grant was revoked; never a loop, a hang on a lock the dead
/// command held, or a token printed.
#[test]
fn commands_killed_anywhere_leave_a_login_that_works_or_one_refusal() {
    let home = scratch("kill-sweep");
    login_sim(&home);
    let mut seen = tokens_of(&home);
    let mut refusals = 0;
    for delay in (0..90).step_by(6) {
        expire_access_token(&home);
        let mut child = command(&home, &["channels", "--json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        child.wait().unwrap();
        seen.extend(tokens_of(&home));
        let next = run(&home, &["channels", "--json"]);
        assert_no_token_in(&seen, &next);
        if !next.status.success() {
            let said = String::from_utf8_lossy(&next.stderr);
            assert!(
                said.contains("grant was revoked"),
                "killed at {delay} ms: {said}"
            );
            assert_eq!(said.lines().count(), 1, "one refusal: {said}");
            refusals += 1;
            login_sim(&home);
            seen.extend(tokens_of(&home));
        }
    }
    // How many kills land between the two saves depends on the disk; the deterministic case
    // is `a_command_killed_after_its_refresh_was_stored_keeps_the_login`.
    assert!(refusals < 15, "no kill may cost the login every time");
    std::fs::remove_dir_all(&home).unwrap();
}

/// A link planted where a command writes the simulator's grants before renaming them into
/// place (`simulator-grants.tmp-<pid>`, a name its pid predicts): the file it names is left
/// alone. `mcp` is used because it waits for its client, so its pid is known before it saves.
#[cfg(unix)]
#[test]
fn a_link_planted_at_the_grants_temporary_file_is_not_followed() {
    let home = scratch("grants-link");
    login_sim(&home);
    let victim = home.with_extension("victim");
    std::fs::write(&victim, "precious").unwrap();
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/agents.toml");
    let mut mcp = command(&home, &["mcp", "--policy", policy, "--agent", "social-bot"])
        .arg("--audit")
        .arg(home.join("audit.jsonl"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let planted = home.join(format!("simulator-grants.tmp-{}", mcp.id()));
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let mut stderr = BufReader::new(mcp.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("MCP over stdio") {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
    }
    drop(mcp.stdin.take());
    mcp.wait().unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let channels = run(&home, &["channels", "--json"]);
    assert!(channels.status.success(), "{channels:?}");
    std::fs::remove_dir_all(&home).unwrap();
    std::fs::remove_file(&victim).unwrap();
}

/// A loopback listener that records everything sent to it, until dropped.
struct Trap {
    port: u16,
    heard: Arc<std::sync::Mutex<Vec<u8>>>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Trap {
    fn on(listener: TcpListener) -> Self {
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, c, s) = (heard.clone(), connections.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        c.fetch_add(1, Ordering::SeqCst);
                        stream.set_nonblocking(false).unwrap();
                        stream
                            .set_read_timeout(Some(Duration::from_secs(2)))
                            .unwrap();
                        let mut buffer = [0u8; 4096];
                        while let Ok(n) = stream.read(&mut buffer) {
                            if n == 0 {
                                break;
                            }
                            h.lock().unwrap().extend_from_slice(&buffer[..n]);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Self {
            port,
            heard,
            connections,
            stop,
        }
    }

    fn heard(&self) -> String {
        String::from_utf8_lossy(&self.heard.lock().unwrap()).into_owned()
    }
}

impl Drop for Trap {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The port of the simulator `login --sim` ran on, from the stored login.
fn stale_issuer_port(home: &Path) -> u16 {
    let login: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.join("login.json")).unwrap()).unwrap();
    let issuer = reqwest::Url::parse(login["issuer"].as_str().unwrap()).unwrap();
    issuer.port().unwrap()
}

/// `logout` of a simulator login whose saved grants are gone has no simulator to revoke at:
/// it must not send the tokens to the address the login's own simulator had, where anything
/// may listen now (the test listens there).
#[test]
fn logout_without_the_simulator_sends_no_token_to_its_old_address() {
    let home = scratch("stale-logout");
    login_sim(&home);
    let tokens = tokens_of(&home);
    let stale = stale_issuer_port(&home);
    let trap = Trap::on(TcpListener::bind(("127.0.0.1", stale)).expect("the stale port is free"));
    std::fs::remove_file(home.join("simulator-grants.json")).unwrap();
    let logout = run(&home, &["logout"]);
    assert_no_token_in(&tokens, &logout);
    std::thread::sleep(Duration::from_millis(200));
    let heard = trap.heard();
    for token in &tokens {
        assert!(!heard.contains(token.as_str()), "a token was sent: {heard}");
    }
    assert_eq!(
        trap.connections.load(Ordering::SeqCst),
        0,
        "nothing is sent to the stale address: {heard}"
    );
    std::fs::remove_dir_all(&home).unwrap();
}

/// A stored simulator login whose issuer and API were changed to point elsewhere: the
/// commands use their own simulator, and nothing reaches the address the file names.
#[test]
fn a_simulator_login_pointing_elsewhere_sends_nothing_there() {
    let home = scratch("elsewhere");
    login_sim(&home);
    let trap = Trap::on(TcpListener::bind("127.0.0.1:0").unwrap());
    let path = home.join("login.json");
    let mut login: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let elsewhere = format!("http://127.0.0.1:{}", trap.port);
    login["issuer"] = elsewhere.clone().into();
    login["graphql_url"] = format!("{elsewhere}/graphql").into();
    std::fs::write(&path, login.to_string()).unwrap();
    let mut seen = tokens_of(&home);
    expire_access_token(&home);
    let channels = run(&home, &["channels", "--json"]);
    assert!(channels.status.success(), "{channels:?}");
    seen.extend(tokens_of(&home));
    let whoami = run(&home, &["whoami"]);
    assert!(whoami.status.success(), "{whoami:?}");
    let logout = run(&home, &["logout"]);
    assert!(logout.status.success(), "{logout:?}");
    for output in [&channels, &whoami, &logout] {
        assert_no_token_in(&seen, output);
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        trap.connections.load(Ordering::SeqCst),
        0,
        "{}",
        trap.heard()
    );
    std::fs::remove_dir_all(&home).unwrap();
}

/// Broken, huge and hostile files in the home: each command fails with one line that says
/// what to do, or works; none panics, none prints a token.
#[test]
fn tampered_home_files_are_refused_in_one_line() {
    let home = scratch("tampered");
    login_sim(&home);
    let tokens = tokens_of(&home);
    let grants_path = home.join("simulator-grants.json");
    let good = std::fs::read_to_string(&grants_path).unwrap();
    let mut grants: serde_json::Value = serde_json::from_str(&good).unwrap();
    grants["grants"][0]["access_tokens"] = serde_json::json!([["x", 7], {"a": 1}]);
    let wrong_types = grants.to_string();
    let many_grants = {
        let mut many: serde_json::Value = serde_json::from_str(&good).unwrap();
        let one = many["grants"][0].clone();
        let list = many["grants"].as_array_mut().unwrap();
        list.extend(std::iter::repeat_n(one, 20_000));
        many.to_string()
    };
    let cases: Vec<(&str, String)> = vec![
        ("not json", "{\"version\": 1, \"clients\": [".to_owned()),
        (
            "wrong version",
            good.replace("\"version\":1", "\"version\":2"),
        ),
        ("wrong types", wrong_types),
        (
            "binary",
            String::from_utf8_lossy(&[0xff, 0x00, 0xfe]).into_owned(),
        ),
        ("deep nesting", "[".repeat(100_000)),
        ("many grants", many_grants),
        ("empty", String::new()),
    ];
    for (case, text) in cases {
        std::fs::write(&grants_path, text).unwrap();
        let output = run(&home, &["channels", "--json"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{case}: {stderr}");
        assert!(
            output.status.success() || stderr.lines().count() == 1,
            "{case}: {output:?}"
        );
        assert_no_token_in(&tokens, &output);
    }
    std::fs::write(&grants_path, &good).unwrap();
    let login_path = home.join("login.json");
    for (case, text) in [
        ("login not json", "{".to_owned()),
        ("login wrong types", "{\"simulator\": \"yes\"}".to_owned()),
        ("login deep", "{\"a\":".repeat(50_000)),
    ] {
        std::fs::write(&login_path, text).unwrap();
        for args in [&["channels"][..], &["whoami"], &["logout"]] {
            let output = run(&home, args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!stderr.contains("panicked"), "{case} {args:?}: {stderr}");
            assert!(!output.status.success(), "{case} {args:?}: {output:?}");
            assert_eq!(stderr.lines().count(), 1, "{case} {args:?}: {stderr}");
            assert_no_token_in(&tokens, &output);
        }
    }
    std::fs::remove_dir_all(&home).unwrap();
}

/// The usable tokens live in the owner-only token file only: not in the saved grants, the
/// login, a leftover temporary file, nor anything printed, across logins, refreshes and logout.
#[test]
fn usable_tokens_stay_in_the_token_file() {
    let home = scratch("where");
    let login = run(&home, &["login", "--sim"]);
    assert!(login.status.success(), "{login:?}");
    let mut seen = tokens_of(&home);
    let mut outputs = vec![login];
    for _ in 0..2 {
        expire_access_token(&home);
        outputs.push(run(&home, &["channels", "--json"]));
        outputs.push(run(&home, &["whoami"]));
        seen.extend(tokens_of(&home));
        for (path, text) in other_files(&home) {
            for token in &seen {
                assert!(!text.contains(token.as_str()), "a token in {path:?}");
            }
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(token_file(&home))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the token file is owner-only");
    }
    outputs.push(run(&home, &["logout"]));
    for output in &outputs {
        assert!(output.status.success(), "{output:?}");
        assert_no_token_in(&seen, output);
    }
    std::fs::remove_dir_all(&home).unwrap();
}

/// A home reached through a symlink works as the directory it names.
#[cfg(unix)]
#[test]
fn a_symlinked_home_works() {
    let real = scratch("real-home");
    std::fs::create_dir_all(&real).unwrap();
    let link = scratch("linked-home");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    login_sim(&link);
    expire_access_token(&link);
    let channels = run(&link, &["channels", "--json"]);
    assert!(channels.status.success(), "{channels:?}");
    assert!(real.join("login.json").exists());
    assert!(run(&link, &["logout"]).status.success());
    std::fs::remove_file(&link).unwrap();
    std::fs::remove_dir_all(&real).unwrap();
}

/// A home others may write to would let them replace the login (its issuer receives the
/// refresh token): login makes it owner-only, or refuses it.
#[cfg(unix)]
#[test]
fn a_home_open_to_others_is_made_owner_only_or_refused() {
    use std::os::unix::fs::PermissionsExt;
    for mode in [0o777, 0o1777] {
        let home = scratch(&format!("open-{mode:o}"));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(mode)).unwrap();
        let login = run(&home, &["login", "--sim"]);
        let now = std::fs::metadata(&home).unwrap().permissions().mode();
        assert!(
            !login.status.success() || now & 0o022 == 0,
            "mode {mode:o}: logged in with a home others may write to (now {now:o})"
        );
        if mode & 0o1000 != 0 {
            assert!(!login.status.success(), "a shared home is refused");
        }
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::remove_dir_all(&home).unwrap();
    }
}

/// `login` against a simulator of the test's own, with the redirect listener on `port`: the
/// child, the authorization URL it printed, and its stdout for the rest.
fn start_login(sim: &Simulator, home: &Path) -> (Child, String, u16, BufReader<ChildStdout>) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let client = sim.oauth().register_client(&[&redirect], false);
    let mut login = command(
        home,
        &[
            "login",
            "--issuer",
            &sim.issuer_url(),
            "--client-id",
            &client.client_id,
            "--graphql-url",
            &sim.graphql_url(),
            "--port",
            &port.to_string(),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut reader = BufReader::new(login.stdout.take().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        if line.trim().starts_with("http") {
            let url = line.trim().to_owned();
            return (login, url, port, reader);
        }
        line.clear();
    }
    let ended = login.wait_with_output().unwrap();
    panic!("login printed no URL to open: {ended:?}");
}

fn state_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "state")
        .unwrap()
        .1
        .into_owned()
}

/// Sends `bytes` to the listener and reads its answer (empty if it closed).
fn poke(port: u16, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// The browser: follows the authorization URL to the listener (a thread: it blocks).
fn browse(url: String) -> std::thread::JoinHandle<Option<String>> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let answer = reqwest::get(&url).await.ok()?;
            answer.text().await.ok()
        })
    })
}

/// Waits for the login to end, at most `limit`; `None` if it is still running.
fn wait_for(login: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = login.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Forged, garbage and oversized requests: each is answered or dropped, none ends the login,
/// and the real callback still completes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_garbage_requests_do_not_end_the_login() {
    let sim = Simulator::start().await;
    let home = scratch("listener-garbage");
    let (mut login, url, port, _stdout) = start_login(&sim, &home);
    let state = state_of(&url);
    let huge = format!(
        "GET /callback?state={state}{} HTTP/1.1\r\n\r\n",
        "A".repeat(1 << 20)
    );
    let attacks: Vec<Vec<u8>> = vec![
        b"GET /callback?code=forged&state=wrong HTTP/1.1\r\n\r\n".to_vec(),
        b"GET /callback?code=forged HTTP/1.1\r\n\r\n".to_vec(),
        format!("GET /callback?code=x&state={state}x HTTP/1.1\r\n\r\n").into_bytes(),
        b"POST /callback?code=x&state=no HTTP/1.1\r\n\r\n".to_vec(),
        format!("GET /elsewhere?state={state}\0 HTTP/1.1\r\n\r\n").into_bytes(),
        b"\xff\xfe\x00garbage\r\n\r\n".to_vec(),
        b"GET".to_vec(),
        Vec::new(),
        huge.into_bytes(),
        format!("GET /callback?state={} HTTP/1.1\r\n\r\n", "%".repeat(7000)).into_bytes(),
    ];
    for attack in &attacks {
        tokio::task::spawn_blocking({
            let attack = attack.clone();
            move || poke(port, &attack)
        })
        .await
        .unwrap();
        assert!(login.try_wait().unwrap().is_none(), "the login ended early");
    }
    let page = browse(url).join().unwrap();
    assert!(
        page.as_deref().unwrap_or("").contains("Authorized"),
        "{page:?}"
    );
    let status = wait_for(&mut login, Duration::from_secs(30)).expect("the login ends");
    assert!(status.success());
    assert_eq!(sim.oauth().stats().code_exchanges, 1);
    let _ = std::fs::remove_dir_all(&home);
}

/// Keeps attacking the listener with `connections` connections, each sending one byte every
/// `drip` (never when `drip` is `None`), until `stop` or `limit`; returns whether `stop` came
/// first (the attack was still going on when the login ended).
fn hold_connections(
    port: u16,
    connections: usize,
    drip: Option<Duration>,
    stop: Arc<AtomicBool>,
    limit: Duration,
) -> std::thread::JoinHandle<bool> {
    let streams: Vec<TcpStream> = (0..connections)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    std::thread::spawn(move || {
        let mut streams = streams;
        let start = Instant::now();
        let head = b"GET /callback?state=slow HTTP/1.1\r\nx-slow: ";
        let mut sent = 0;
        while start.elapsed() < limit {
            if stop.load(Ordering::SeqCst) {
                return true;
            }
            match drip {
                Some(drip) => {
                    let byte = head.get(sent).copied().unwrap_or(b'a');
                    for stream in &mut streams {
                        let _ = stream.write_all(&[byte]);
                    }
                    sent += 1;
                    std::thread::sleep(drip);
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        false
    })
}

fn login_survives(connections: usize, drip: Option<Duration>, name: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = runtime.block_on(Simulator::start());
    let home = scratch(name);
    let (mut login, url, port, _stdout) = start_login(&sim, &home);
    let stop = Arc::new(AtomicBool::new(false));
    let attack = hold_connections(
        port,
        connections,
        drip,
        stop.clone(),
        Duration::from_secs(25),
    );
    std::thread::sleep(Duration::from_millis(300));
    let browser = browse(url);
    let status = wait_for(&mut login, Duration::from_secs(60));
    stop.store(true, Ordering::SeqCst);
    let during = attack.join().unwrap();
    let _ = browser.join();
    let status = status.expect("the login ends");
    assert!(status.success(), "{name}");
    assert!(
        during,
        "{name}: the login completed only once the attack gave up"
    );
    assert_eq!(sim.oauth().stats().code_exchanges, 1);
    let _ = std::fs::remove_dir_all(&home);
}

/// A connection that sends its head one byte at a time (slowloris) must not keep the browser's
/// callback waiting.
#[test]
fn a_slow_connection_does_not_hold_up_the_callback() {
    login_survives(1, Some(Duration::from_millis(200)), "listener-slowloris");
}

/// Many connections that send nothing must not keep the browser's callback waiting.
#[test]
fn many_idle_connections_do_not_hold_up_the_callback() {
    login_survives(200, None, "listener-idle");
}
