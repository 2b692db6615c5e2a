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

#[test]
fn login_on_the_simulator_completes_by_itself() {
    let home = std::env::temp_dir().join(format!("bb-login-sim-{}", std::process::id()));
    let output = run(&home, &["login", "--sim"]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("code_challenge_method=S256"), "{stdout}");
    assert!(
        stdout.contains("Logged in to the simulator as demo@"),
        "{stdout}"
    );
    assert!(!home.exists(), "a simulator's grant is not stored");
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
