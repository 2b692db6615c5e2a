//! The `buffer-bridge` command as a user runs it, on the in-process simulator.

use std::process::{Command, Output};

fn buffer_bridge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_buffer-bridge"))
        .args(args)
        // Only what the test gives: no BUFFER_* variable of the machine leaks in.
        .env_clear()
        .output()
        .expect("the buffer-bridge binary runs")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not JSON ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn compare_on_the_simulator_covers_every_read_and_prints_json() {
    let output = buffer_bridge(&["compare", "--sim", "--json"]);
    assert!(output.status.success(), "{output:?}");
    let report = json(&output);
    let operations = report["operations"].as_array().expect("operations");
    for read in [
        "account",
        "channels",
        "channel",
        "schedules",
        "posts",
        "post",
        "interactions",
        "link_shares",
        "configuration",
        "ideas",
        "daily_posting_limits",
    ] {
        assert!(
            operations.iter().any(|o| o["operation"] == read),
            "{read} was not compared"
        );
    }
    for operation in operations {
        let verdict = operation["verdict"].as_str().unwrap_or_default();
        assert!(
            ["match", "mismatch", "unsupported", "failed", "both_failed"].contains(&verdict),
            "{operation}"
        );
        for side in ["primary", "candidate"] {
            assert!(operation[side]["backend"].is_string(), "{operation}");
            assert!(operation[side]["requests"].is_u64(), "{operation}");
            assert!(operation[side]["ms"].is_u64(), "{operation}");
        }
        if verdict == "mismatch" {
            assert!(!operation["diff"].as_array().unwrap().is_empty());
        }
    }
    let summary = &report["summary"];
    assert_eq!(summary["compared"].as_u64(), Some(operations.len() as u64));
    assert_eq!(summary["primary"]["backend"], "rest");
    assert_eq!(summary["candidate"]["backend"], "graphql");

    // --strict fails exactly when something mismatched or failed.
    let differing = ["mismatch", "failed", "both_failed"]
        .iter()
        .map(|verdict| summary[verdict].as_u64().unwrap())
        .sum::<u64>();
    let strict = buffer_bridge(&["compare", "--sim", "--strict"]);
    assert_eq!(
        strict.status.code(),
        Some(if differing > 0 { 1 } else { 0 })
    );
    let table = String::from_utf8_lossy(&strict.stdout);
    assert!(table.starts_with("OPERATION"), "{table}");
    assert!(table.contains(" compared: "), "{table}");
}

/// Both APIs pointed at a loopback port nobody listens on: every call fails on both sides the
/// same way, which must not read as "2 match, exit 0".
#[test]
fn compare_when_neither_backend_answers_reports_both_failed_and_strict_fails() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let compare = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_buffer-bridge"))
            .arg("compare")
            .args(args)
            .env_clear()
            .env("BUFFER_ACCESS_TOKEN", "unreachable-token")
            .env("BUFFER_REST_URL", format!("http://127.0.0.1:{port}/1/"))
            .env("BUFFER_API_KEY", "unreachable-key")
            .env("BUFFER_GRAPHQL_URL", format!("http://127.0.0.1:{port}/"))
            .output()
            .expect("the buffer-bridge binary runs")
    };

    let output = compare(&["--json"]);
    assert!(output.status.success(), "{output:?}");
    let report = json(&output);
    let summary = &report["summary"];
    assert_eq!(summary["match"], 0, "{summary}");
    assert!(summary["both_failed"].as_u64().unwrap() >= 2, "{summary}");
    let account = report["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["operation"] == "account")
        .expect("the account was compared");
    assert_eq!(account["verdict"], "both_failed", "{account}");
    let detail = account["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("primary: ") && detail.contains("; candidate: "),
        "{detail}"
    );

    let strict = compare(&["--strict"]);
    assert_eq!(strict.status.code(), Some(1), "{strict:?}");
    let table = String::from_utf8_lossy(&strict.stdout);
    assert!(table.contains("both_failed"), "{table}");
    assert!(table.contains(" 0 match, "), "{table}");
}

#[test]
fn without_credentials_it_says_what_to_set() {
    let output = buffer_bridge(&["compare"]);
    assert_eq!(output.status.code(), Some(2));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("BUFFER_ACCESS_TOKEN is not set"), "{error}");
    assert!(error.contains("--sim"), "{error}");

    let output = buffer_bridge(&["channels", "--backend", "graphql"]);
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("BUFFER_API_KEY is not set"), "{error}");
}

#[test]
fn capabilities_list_every_operation_for_both_apis() {
    let output = buffer_bridge(&["capabilities", "--json"]);
    assert!(output.status.success());
    let rows = json(&output);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), buffer_bridge::Operation::ALL.len());
    let schedules = rows
        .iter()
        .find(|r| r["operation"] == "update_schedules")
        .unwrap();
    assert_eq!(schedules["rest"]["supported"], true);
    assert_eq!(schedules["graphql"]["supported"], false);
    assert!(schedules["graphql"]["hint"].is_string());
}

#[test]
fn channels_and_queue_read_the_simulator() {
    let output = buffer_bridge(&["channels", "--sim", "--backend", "rest", "--json"]);
    assert!(output.status.success(), "{output:?}");
    let channels = json(&output);
    assert!(!channels.as_array().unwrap().is_empty());

    let output = buffer_bridge(&["queue", "--sim", "--count", "2"]);
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("queued posts, from the graphql API"));
}
