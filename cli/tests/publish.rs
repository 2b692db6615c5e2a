//! `buffer-bridge publish` as a user runs it, on the in-process simulator: the example plan,
//! a dry run that journals nothing, a second run that sends nothing, and a plan with bad lines
//! refused with every problem listed.

use std::path::PathBuf;
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

/// A directory of this test's own, emptied first.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("publish-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The example plan, written to a fresh directory.
fn example_plan(name: &str) -> String {
    let output = buffer_bridge(&["publish", "--example-plan"]);
    assert!(output.status.success(), "{output:?}");
    let path = scratch(name).join("launch.jsonl");
    std::fs::write(&path, &output.stdout).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn the_example_plan_is_the_shipped_one_and_every_line_reads() {
    let output = buffer_bridge(&["publish", "--example-plan"]);
    assert!(output.status.success(), "{output:?}");
    let shipped = include_str!("../../examples/plans/launch.jsonl");
    assert_eq!(String::from_utf8_lossy(&output.stdout), shipped);
    for line in shipped.lines() {
        let line: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(line["channels"].is_array() || line["channels"].is_string());
    }
}

#[test]
fn a_dry_run_checks_every_line_and_journals_nothing() {
    let plan = example_plan("dry");
    let output = buffer_bridge(&["publish", "--sim", "--dry-run", "--json", &plan]);
    assert!(output.status.success(), "{output:?}");
    let report = json(&output);
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["refused"], false);
    assert_eq!(report["lines"].as_array().unwrap().len(), 8);
    assert_eq!(report["tally"]["not_sent"], 17);
    assert_eq!(report["tally"]["created"], 0);
    // Nothing went through the write path: its journal has no line.
    let status = json(&buffer_bridge(&[
        "publish", "--sim", "--status", "--json", &plan,
    ]));
    assert_eq!(status["tally"]["not_sent"], 17, "{status}");
}

#[test]
fn a_second_run_sends_nothing() {
    let plan = example_plan("rerun");
    let first = buffer_bridge(&["publish", "--sim", "--json", &plan]);
    assert!(first.status.success(), "{first:?}");
    let first = json(&first);
    assert_eq!(first["tally"]["created"], 17, "{first}");
    assert_eq!(first["tally"]["earlier"], 0);

    let second = buffer_bridge(&["publish", "--sim", &plan]);
    assert!(second.status.success(), "{second:?}");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("The simulator served 0 requests."),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(stdout.contains("17 created (17 earlier)"), "{stdout}");
}

#[test]
fn bad_lines_stop_the_job_with_every_problem() {
    let dir = scratch("bad");
    let plan = dir.join("bad.jsonl");
    std::fs::write(
        &plan,
        concat!(
            r#"{"channels": "twitter:buffer_sim", "text": "fine"}"#,
            "\n",
            r#"{"channels": "twitter:nobody", "text": "who?"}"#,
            "\n",
            r#"{"channels": "twitter:buffer_sim", "text": "t", "when": "2026-03-29 02:30 Europe/Berlin"}"#,
            "\n",
        ),
    )
    .unwrap();
    let plan = plan.to_string_lossy();
    let output = buffer_bridge(&["publish", "--sim", "--json", &plan]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report = json(&output);
    assert_eq!(report["refused"], true);
    let problems: Vec<(u64, String)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (2, "unknown_channel".to_owned()),
            (3, "nonexistent_local_time".to_owned())
        ]
    );
    assert_eq!(report["tally"]["created"], 0);
}
