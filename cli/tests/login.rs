//! `buffer-bridge login` as a user runs it: the flow against a simulator, the grant kept in
//! an owner-only file, used by `channels`, revoked by `logout`.

use buffer_sim::Simulator;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn command(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_buffer-bridge"));
    command
        .args(args)
        // Only what the test gives: no BUFFER_* variable of the machine leaks in.
        .env_clear()
        .env("BUFFER_BRIDGE_HOME", home);
    command
}

fn run(home: &Path, args: &[&str]) -> Output {
    command(home, args).output().expect("the binary runs")
}

/// Moves the stored access token's expiry into the past, as an hour between commands would.
fn expire_access_token(home: &Path) {
    let file = std::fs::read_dir(home.join("tokens"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|e| e == "json"))
        .expect("a token file");
    let mut tokens: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    tokens["expires_at"] = "2000-01-01T00:00:00Z".into();
    std::fs::write(&file, tokens.to_string()).unwrap();
}

fn tokens_of(home: &Path) -> Vec<String> {
    let dir = home.join("tokens");
    let file = std::fs::read_dir(dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let tokens: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    ["access_token", "refresh_token"]
        .iter()
        .map(|name| tokens[name].as_str().unwrap().to_owned())
        .collect()
}

/// The done-when, as a user runs it: `login --sim`, then `channels` with no `--sim`
/// and no key, in later processes, across two refreshes (each rotates the refresh token, and
/// a rotated token not handed on to the next command's simulator would be refused as reuse).
#[test]
fn login_on_the_simulator_then_channels_in_later_commands() {
    let home = std::env::temp_dir().join(format!("bb-login-sim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let output = run(&home, &["login", "--sim"]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("code_challenge_method=S256"), "{stdout}");
    assert!(
        stdout.contains("Logged in to the simulator as demo@"),
        "{stdout}"
    );
    let mut seen = tokens_of(&home);
    for round in 0..3 {
        if round > 0 {
            expire_access_token(&home);
        }
        let channels = run(&home, &["channels", "--json"]);
        assert!(channels.status.success(), "round {round}: {channels:?}");
        let listed: serde_json::Value = serde_json::from_slice(&channels.stdout).unwrap();
        assert_eq!(listed.as_array().map(Vec::len), Some(5), "round {round}");
        let now = tokens_of(&home);
        assert_eq!(
            now != seen,
            round > 0,
            "round {round}: a refresh rotates both tokens"
        );
        seen = now;
    }
    // The saved grants let the next simulator recognise tokens, never use them.
    let grants = std::fs::read_to_string(home.join("simulator-grants.json")).unwrap();
    for token in &seen {
        assert!(
            !grants.contains(token.as_str()),
            "a usable token is in the saved grants"
        );
    }
    let whoami = run(&home, &["whoami"]);
    assert!(whoami.status.success(), "{whoami:?}");
    let logout = run(&home, &["logout"]);
    assert!(logout.status.success(), "{logout:?}");
    assert!(!home.join("simulator-grants.json").exists());
    let after = run(&home, &["channels"]);
    assert!(!after.status.success(), "no credentials after logout");
    std::fs::remove_dir_all(&home).unwrap();
}

/// A refresh token left behind (a command killed before it handed its rotation on) is a
/// reuse: the next command's simulator revokes the grant and the command says so, once,
/// instead of looping or answering with another account.
#[test]
fn a_stale_simulator_grant_is_refused_as_reuse_not_looped() {
    let home = std::env::temp_dir().join(format!("bb-login-stale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    assert!(run(&home, &["login", "--sim"]).status.success());
    let stale = std::fs::read_to_string(home.join("simulator-grants.json")).unwrap();
    expire_access_token(&home);
    assert!(run(&home, &["channels"]).status.success());
    // The rotation is lost: the next simulator knows only the first refresh token as current.
    std::fs::write(home.join("simulator-grants.json"), stale).unwrap();
    expire_access_token(&home);
    let presented = tokens_of(&home);
    let refused = run(&home, &["channels"]);
    assert!(!refused.status.success(), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("grant was revoked"), "{said}");
    assert_eq!(said.lines().count(), 1, "one refusal, no loop: {said}");
    for token in presented {
        assert!(
            !said.contains(token.as_str()),
            "a token in the error: {said}"
        );
    }
    std::fs::remove_dir_all(&home).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_then_channels_then_logout() {
    let sim = Simulator::start().await;
    let home = std::env::temp_dir().join(format!("bb-login-{}", std::process::id()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let client = sim.oauth().register_client(&[&redirect], false);
    let mut login = command(
        &home,
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
    .spawn()
    .unwrap();
    let stdout = login.stdout.take().unwrap();
    // The reader stays open until the command ends, so that it can go on printing.
    let (url, rest) = tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 {
            if line.trim().starts_with("http") {
                return (line.trim().to_owned(), reader);
            }
            line.clear();
        }
        panic!("login printed no URL to open");
    })
    .await
    .unwrap();
    // The browser: consent is automatic on the simulator, and the redirect reaches the
    // command's listener.
    let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(page.contains("Authorized"), "{page}");
    let (status, said) = tokio::task::spawn_blocking(move || {
        let said: Vec<String> = rest.lines().map_while(Result::ok).collect();
        (login.wait().unwrap(), said.join("\n"))
    })
    .await
    .unwrap();
    assert!(status.success(), "{said}");
    assert!(said.contains("Logged in as demo@"), "{said}");
    assert_eq!(sim.oauth().stats().code_exchanges, 1);

    let channels = run(&home, &["channels", "--json"]);
    assert!(channels.status.success(), "{channels:?}");
    let listed: serde_json::Value = serde_json::from_slice(&channels.stdout).unwrap();
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(sim.demo().channels.len())
    );
    let tokens = std::fs::read_dir(home.join("tokens")).unwrap().count();
    assert_eq!(tokens, 1);

    let logout = run(&home, &["logout"]);
    assert!(logout.status.success(), "{logout:?}");
    assert_eq!(sim.oauth().stats().grants_revoked, 1);
    assert_eq!(std::fs::read_dir(home.join("tokens")).unwrap().count(), 0);
    let after = run(&home, &["whoami"]);
    assert!(!after.status.success(), "no credentials after logout");
    std::fs::remove_dir_all(&home).unwrap();
}
