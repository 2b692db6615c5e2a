//! Attacks on `buffer-bridge publish` as a user runs it: one plan named by a symlink is one
//! plan, and extreme spans or starts are refused or run, never a panic.

use std::path::PathBuf;
use std::process::{Command, Output};

fn buffer_bridge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_buffer-bridge"))
        .args(args)
        .env_clear()
        .output()
        .expect("the buffer-bridge binary runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("adv-publish-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn example_plan(dir: &std::path::Path) -> PathBuf {
    let output = buffer_bridge(&["publish", "--example-plan"]);
    assert!(output.status.success(), "{output:?}");
    let path = dir.join("launch.jsonl");
    std::fs::write(&path, &output.stdout).unwrap();
    path
}

/// The plan run once by its path, then through a symlink: the second run finds the first's
/// journal and sends nothing.
#[cfg(unix)]
#[test]
fn a_plan_run_again_through_a_symlink_sends_nothing() {
    let dir = scratch("symlink");
    let plan = example_plan(&dir);
    let first = buffer_bridge(&["publish", "--sim", &plan.to_string_lossy()]);
    assert!(first.status.success(), "{first:?}");
    std::fs::create_dir_all(dir.join("elsewhere")).unwrap();
    let link = dir.join("elsewhere/today.jsonl");
    std::os::unix::fs::symlink(&plan, &link).unwrap();
    let second = buffer_bridge(&["publish", "--sim", &link.to_string_lossy()]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("The simulator served 0 requests."),
        "{stderr}"
    );
    assert!(second.status.success(), "{second:?}");
}

/// Spans and starts at the edges of time: a typed refusal or a report, never a panic.
#[test]
fn extreme_staggers_never_panic() {
    let dir = scratch("stagger");
    let plan = example_plan(&dir);
    let plan = plan.to_string_lossy();
    for (span, start) in [
        ("99999999999999999999d", "2026-12-02T09:00:00-01:00"),
        (
            "18446744073709551615s",
            "2026-12-02 09:00 Pacific/Kiritimati",
        ),
        ("1d", "1969-07-20T20:17:00Z"),
        ("1d", "9999-12-31T23:59:00-12:00"),
        ("1m", "2016-12-31T23:59:60Z"),
        ("45m", "2026-03-29 02:30 Europe/Berlin"),
    ] {
        let output = buffer_bridge(&[
            "publish",
            "--sim",
            "--dry-run",
            "--json",
            "--stagger",
            span,
            "--start",
            start,
            &plan,
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{span} {start}: {stderr}");
        assert!(
            matches!(output.status.code(), Some(0..=2)),
            "{span} {start}: {output:?}"
        );
    }
}
