//! The `buffer-sim` binary: its help lists every knob, and it serves the demo account through
//! both APIs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_buffer-sim");

#[test]
fn help_lists_faults_and_limits() {
    let output = Command::new(BIN).arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--addr",
        "--token",
        "--api-key",
        "--queue-limit",
        "--rest-per-minute",
        "--graphql-per-15min",
        "--graphql-per-day",
        "--graphql-per-30days",
        "--latency-ms",
        "--server-errors",
        "--rate-limit-bursts",
        "--drop-connections",
        "--lost-responses",
        "--truncated-bodies",
        "--html-bodies",
        "--faults-api",
        "--faults-route",
        "--clock-scale",
        "--seed",
        "--allow-duplicates",
        "--null-answers",
        "--max-body-bytes",
        "--read-timeout-ms",
        "--max-connections",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

/// Kills the child even when an assertion fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serves_the_demo_account_through_both_apis() {
    let mut child = Child(
        Command::new(BIN)
            .args(["--addr", "127.0.0.1:0", "--token", "T", "--api-key", "K"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let addr = first.rsplit(' ').next().expect("address").to_owned();
    let http = reqwest::Client::new();

    let profiles: Value = http
        .get(format!("http://{addr}/1/profiles.json"))
        .bearer_auth("T")
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let services: Vec<&str> = profiles
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["service"].as_str())
        .collect();
    assert!(services.len() >= 4 && services.contains(&"twitter") && services.contains(&"linkedin"));

    let body: Value = http
        .post(format!("http://{addr}/"))
        .bearer_auth("K")
        .json(&json!({ "query": "{ account { organizations { id channelCount } } }" }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(
        body["data"]["account"]["organizations"][0]["channelCount"],
        services.len()
    );
}
