//! `compare --writes --sim`: the write scenarios through both APIs, as a user runs it.

use std::process::{Command, Output};

fn buffer_bridge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_buffer-bridge"))
        .args(args)
        .env_clear()
        .output()
        .expect("the buffer-bridge binary runs")
}

#[test]
fn writes_are_compared_per_channel_and_every_outcome_was_predicted() {
    let output = buffer_bridge(&["compare", "--writes", "--sim", "--json"]);
    assert!(output.status.success(), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let rows = report["writes"].as_array().expect("writes");
    let row = |scenario: &str, network: &str| {
        rows.iter()
            .find(|r| r["scenario"] == scenario && r["network"] == network)
            .unwrap_or_else(|| panic!("no row for {scenario} on {network}"))
    };
    // The trial: three posts on classic, none on GraphQL, each with its reason.
    for (network, reason) in [
        ("twitter", "no link preview on GraphQL"),
        ("facebook", "link preview and media"),
        ("instagram", "no link preview on GraphQL"),
    ] {
        let row = row("image_and_link", network);
        assert_eq!(row["rest"]["created"], true, "{row}");
        assert_eq!(row["graphql"]["created"], false, "{row}");
        let refused = row["graphql"]["refused"].as_str().expect("a reason");
        assert!(refused.contains(reason), "{network}: {refused}");
        assert_eq!(row["verdict"], "differs");
    }
    // Created alike on both: the classic update keeps the preview the network ignores (the
    // recorded `create.json` on Twitter carries its `media`), and the preflight warns of it.
    let threads = row("no_link_preview", "threads");
    assert_eq!(threads["verdict"], "same", "{threads}");
    assert!(
        threads["rest"]["preflight"]
            .as_array()
            .expect("problems")
            .iter()
            .any(|p| p["kind"] == "no_link_preview" && p["severity"] == "warning"),
        "{threads}"
    );
    assert_eq!(row("insecure_url", "facebook")["verdict"], "same");
    // One scenario per rule a create can break, and every outcome foreseen by the preflight.
    for scenario in [
        "empty_post",
        "too_long",
        "media_required",
        "no_link_preview",
        "link_with_media",
        "metadata_missing",
        "past_due_time",
        "insecure_url",
        "private_url",
        "expiring_url",
    ] {
        assert!(rows.iter().any(|r| r["scenario"] == scenario), "{scenario}");
    }
    for row in rows {
        assert_eq!(row["rest"]["predicted"], true, "{row}");
        assert_eq!(row["graphql"]["predicted"], true, "{row}");
    }
    assert_eq!(report["summary"]["unpredicted"], 0);
    assert_eq!(
        report["summary"]["creates"].as_u64(),
        Some(rows.len() as u64)
    );

    let strict = buffer_bridge(&["compare", "--writes", "--sim", "--strict"]);
    assert_eq!(strict.status.code(), Some(1), "differences fail --strict");
    let table = String::from_utf8_lossy(&strict.stdout);
    assert!(table.contains("refused only on GraphQL"), "{table}");
}

#[test]
fn writes_never_run_against_a_real_account() {
    let output = buffer_bridge(&["compare", "--writes"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("--sim"), "{message}");
}
