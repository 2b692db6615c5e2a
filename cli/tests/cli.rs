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
            ["match", "mismatch", "unsupported", "failed"].contains(&verdict),
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
    let differing = summary["mismatch"].as_u64().unwrap() + summary["failed"].as_u64().unwrap();
    let strict = buffer_bridge(&["compare", "--sim", "--strict"]);
    assert_eq!(
        strict.status.code(),
        Some(if differing > 0 { 1 } else { 0 })
    );
    let table = String::from_utf8_lossy(&strict.stdout);
    assert!(table.starts_with("OPERATION"), "{table}");
    assert!(table.contains(" compared: "), "{table}");
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
