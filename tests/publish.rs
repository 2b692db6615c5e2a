//! Issue 12: plans read with every kind of bad line reported by line, and jobs run on the
//! simulator: times across a daylight-saving change, stagger, dry runs that send nothing,
//! reruns that send nothing, and unknown outcomes reconciled instead of resent. Behaviour is
//! asserted on the simulator's store and request log.

use buffer_bridge::graphql::GraphQl;
use buffer_bridge::journal::{Journal, MemoryJournal};
use buffer_bridge::publish::{
    ChannelState, Job, LineProblem, Plan, PlanErrorKind, Report, Stagger, Start, status,
};
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::retry::{RetryPolicy, Retrying};
use buffer_bridge::{Backend, BackendKind, ErrorKind};
use buffer_sim::{Fault, FaultRule, Faults, PostStatus, Service, Simulator};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// A simulator with the demo account. Its clock is this machine's: the client distrusts a
/// server clock months away from its own, so plans in job tests give times in next year.
async fn sim() -> Simulator {
    Simulator::builder().queue_limit(10_000).start().await
}

/// Next year, for times that are in the future whenever the test runs.
fn next_year() -> i32 {
    use chrono::Datelike;
    Utc::now().year() + 1
}

/// The write path over `journal`, as a configuration builds it.
fn write_path(sim: &Simulator, kind: BackendKind, journal: Arc<dyn Journal>) -> Arc<dyn Backend> {
    let policy = RetryPolicy::default().backoff(Duration::from_millis(1), Duration::from_millis(5));
    let backend: Box<dyn Backend> = match kind {
        BackendKind::GraphQl => Box::new(
            GraphQl::builder()
                .api_key(sim.api_key())
                .base_url(sim.graphql_url())
                .build()
                .unwrap(),
        ),
        _ => Box::new(
            ClassicRest::builder()
                .access_token(sim.access_token())
                .base_url(sim.rest_url())
                .build()
                .unwrap(),
        ),
    };
    Arc::new(
        Retrying::new(backend)
            .journal(journal)
            .policy(policy)
            .seed(7),
    )
}

fn plan(text: &str) -> Plan {
    Plan::parse_jsonl("/plans/test.jsonl", text)
}

/// The posts in the simulator whose text starts with `prefix`.
fn stored(sim: &Simulator, prefix: &str) -> Vec<buffer_sim::Post> {
    sim.store()
        .posts()
        .into_iter()
        .filter(|p| p.text.starts_with(prefix))
        .collect()
}

fn creates(sim: &Simulator) -> usize {
    sim.requests_to("createPost") + sim.requests_to("/1/updates/create.json")
}

fn kinds(plan: &Plan) -> Vec<(usize, PlanErrorKind)> {
    plan.errors().iter().map(|e| (e.line, e.kind)).collect()
}

#[test]
fn every_kind_of_bad_line_is_reported_with_its_line() {
    let plan = plan(concat!(
        r#"{"channels": "twitter:a", "text": "fine"}"#,
        "\n",
        r#"{"channels": "twitter:a", "text": "broken""#,
        "\n",
        r#"{"channels": "twitter:a", "txt": "a typo"}"#,
        "\n",
        r#"{"channels": [], "text": "nowhere"}"#,
        "\n",
        r#"{"channels": "twitter:a"}"#,
        "\n",
        r#"{"channels": "twitter:a", "text": "t", "when": "tomorrow-ish"}"#,
        "\n",
        r#"{"channels": "twitter:a", "text": "t", "when": "2026-12-02 09:00 Mars/Olympus"}"#,
        "\n",
        r#"{"channels": "twitter:a", "text": "t", "when": "2026-03-29 02:30 Europe/Berlin"}"#,
        "\n",
        r#"{"channels": "twitter:a", "text": "t", "when": "2026-10-25 02:30 Europe/Berlin"}"#,
        "\n",
        r#"{"channels": "twitter:a", "text": "t", "assets": [{"url": "not a url"}]}"#,
        "\n",
        r#"{"channels": "twitter:a", "text": "t", "assets": [{"type": "hologram", "url": "https://x.example.com/a"}]}"#,
        "\n",
        r#"{"channels": "twitter:a", "text": "t", "link": "ftp://example.com/file"}"#,
        "\n",
        r#"{"channels": "twitter:a", "text": "t", "key": "auto:not-hex"}"#,
        "\n",
        "\n",
        r#"{"channels": "twitter:a", "text": "fine"}"#,
        "\n",
        r#"{"channels": "twitter:a", "text": "t", "metadata": {"instagram": {"type": "post"}}}"#,
        "\n",
        r#"{"channels": "twitter:a", "text": "given", "key": "k1"}"#,
        "\n",
        r#"{"channels": "twitter:b", "text": "other content, same key", "key": "k1"}"#,
        "\n",
        "[1, 2]",
    ));
    assert_eq!(
        kinds(&plan),
        [
            (2, PlanErrorKind::Syntax),
            (3, PlanErrorKind::UnknownField),
            (4, PlanErrorKind::NoChannels),
            (5, PlanErrorKind::NoContent),
            (6, PlanErrorKind::BadTime),
            (7, PlanErrorKind::UnknownZone),
            (8, PlanErrorKind::NonexistentLocalTime),
            (9, PlanErrorKind::AmbiguousLocalTime),
            (10, PlanErrorKind::BadAsset),
            (11, PlanErrorKind::BadAsset),
            (12, PlanErrorKind::BadLink),
            (13, PlanErrorKind::BadKey),
            (15, PlanErrorKind::RepeatedKey),
            (16, PlanErrorKind::Metadata),
            (18, PlanErrorKind::RepeatedKey),
            (19, PlanErrorKind::Syntax),
        ]
    );
    assert_eq!(
        plan.lines().iter().map(|l| l.line).collect::<Vec<_>>(),
        [1, 17]
    );
    // The ambiguous hour names both instants, so the author can pick one.
    let ambiguous = &plan.errors()[7].message;
    assert!(
        ambiguous.contains("+02:00") && ambiguous.contains("+01:00"),
        "{ambiguous}"
    );
}

#[test]
fn csv_plans_read_quotes_assets_and_bad_records() {
    let plan = Plan::parse_csv(
        "/plans/test.csv",
        "channels,text,when,asset,asset_alt,asset2,asset2_type\n\
         twitter:a;facebook:Page Name,\"Hello, \"\"world\"\"\nsecond line\",queue,https://cdn.example.com/a.png,A chart,https://cdn.example.com/b.mp4,video\n\
         twitter:a,,now,,,,\n\
         twitter:a,too,many,cells,here,x,y,z\n",
    );
    assert_eq!(plan.lines().len(), 1);
    let line = &plan.lines()[0];
    assert_eq!(line.line, 2);
    assert_eq!(line.text.as_deref(), Some("Hello, \"world\"\nsecond line"));
    assert_eq!(line.channels.len(), 2);
    assert_eq!(line.channels[1].to_string(), "facebook:Page Name");
    assert_eq!(line.assets.len(), 2);
    assert_eq!(line.assets[0].alt_text.as_deref(), Some("A chart"));
    assert_eq!(line.assets[1].kind, buffer_bridge::model::AssetKind::Video);
    // The record after the quoted line break starts on line 4.
    assert_eq!(
        kinds(&plan),
        [(4, PlanErrorKind::NoContent), (5, PlanErrorKind::Syntax)]
    );

    let unknown = Plan::parse_csv("/plans/x.csv", "channels,txt\ntwitter:a,hi\n");
    assert_eq!(kinds(&unknown), [(1, PlanErrorKind::UnknownField)]);
}

#[test]
fn derived_keys_follow_the_plan_and_the_content() {
    let line = r#"{"channels": "twitter:a", "text": "same"}"#;
    let a = Plan::parse_jsonl("/plans/a.jsonl", line);
    let again = Plan::parse_jsonl("/plans/a.jsonl", &format!("\n{line}\n"));
    let other_plan = Plan::parse_jsonl("/plans/b.jsonl", line);
    let edited = Plan::parse_jsonl(
        "/plans/a.jsonl",
        r#"{"channels": "twitter:a", "text": "same!"}"#,
    );
    let key = |plan: &Plan| plan.lines()[0].key.clone();
    assert_eq!(key(&a), key(&again), "moving a line keeps its key");
    assert_ne!(key(&a), key(&other_plan));
    assert_ne!(key(&a), key(&edited));
}

#[test]
fn local_times_follow_the_zone_across_daylight_saving() {
    let plan = plan(concat!(
        r#"{"channels": "twitter:a", "text": "winter", "when": "2026-03-29 01:30 Europe/Berlin"}"#,
        "\n",
        r#"{"channels": "twitter:a", "text": "summer", "when": "2026-03-29 03:30 Europe/Berlin"}"#,
        "\n",
        r#"{"channels": "twitter:a", "text": "offset", "when": "2026-03-29T03:30:00+02:00"}"#,
        "\n",
        r#"{"channels": "twitter:a", "text": "new york", "when": "2026-11-01T09:00 America/New_York"}"#,
    ));
    assert!(plan.errors().is_empty(), "{:?}", plan.errors());
    let at = |i: usize| match &plan.lines()[i].when {
        Some(buffer_bridge::model::When::At(at)) => at.to_rfc3339(),
        other => panic!("{other:?}"),
    };
    assert_eq!(at(0), "2026-03-29T00:30:00+00:00");
    assert_eq!(at(1), "2026-03-29T01:30:00+00:00");
    assert_eq!(at(2), "2026-03-29T01:30:00+00:00");
    assert_eq!(at(3), "2026-11-01T14:00:00+00:00");

    // A daily stagger keeps the wall-clock time; a step into the skipped hour moves past it.
    let daily = Stagger::new(
        Start::parse("2026-03-28 09:00 Europe/Berlin").unwrap(),
        Duration::from_secs(24 * 3600),
    );
    assert_eq!(daily.at(1).to_rfc3339(), "2026-03-29T07:00:00+00:00");
    let hourly = Stagger::new(
        Start::parse("2026-03-29 01:30 Europe/Berlin").unwrap(),
        Duration::from_secs(3600),
    );
    assert_eq!(hourly.at(1).to_rfc3339(), "2026-03-29T01:00:00+00:00");
    assert_eq!(hourly.at(2).to_rfc3339(), "2026-03-29T01:30:00+00:00");
    assert!(Start::parse("2026-03-29 09:00 Nowhere/City").is_err());
}

#[tokio::test]
async fn stagger_spreads_lines_without_a_time_from_the_start() {
    let sim = sim().await;
    let journal = Arc::new(MemoryJournal::new());
    let backend = write_path(&sim, BackendKind::GraphQl, journal.clone());
    let y = next_year();
    let plan = plan(&format!(
        "{}\n{}\n{}\n{}",
        r#"{"channels": "twitter:buffer_sim", "text": "Stagger 1"}"#,
        format_args!(
            r#"{{"channels": "mastodon:buffersim", "text": "Stagger fixed", "when": "{y}-01-10T12:00:00Z"}}"#
        ),
        r#"{"channels": ["twitter:buffer_sim", "mastodon:buffersim"], "text": "Stagger 2"}"#,
        r#"{"channels": "mastodon:buffersim", "text": "Stagger 3"}"#,
    ));
    let start = Start::parse(&format!("{y}-07-01 23:30 Europe/Berlin")).unwrap();
    let report = Job::new(plan, backend, journal)
        .stagger(Stagger::new(start, Duration::from_secs(45 * 60)))
        .run()
        .await
        .unwrap();
    assert!(report.is_complete(), "{report:#?}");
    let due = |text: &str| -> Vec<DateTime<Utc>> {
        stored(&sim, text)
            .iter()
            .map(|p| p.due_at.unwrap())
            .collect()
    };
    let at = |s: &str| format!("{y}-{s}").parse::<DateTime<Utc>>().unwrap();
    // Berlin is at +02:00 in July; the line with its own time does not take a step.
    assert_eq!(due("Stagger 1"), [at("07-01T21:30:00Z")]);
    assert_eq!(due("Stagger fixed"), [at("01-10T12:00:00Z")]);
    assert_eq!(
        due("Stagger 2"),
        [at("07-01T22:15:00Z"), at("07-01T22:15:00Z")]
    );
    assert_eq!(due("Stagger 3"), [at("07-01T23:00:00Z")]);
}

#[tokio::test]
async fn a_dry_run_resolves_and_checks_but_sends_no_write() {
    let sim = sim().await;
    let journal = Arc::new(MemoryJournal::new());
    let backend = write_path(&sim, BackendKind::GraphQl, journal.clone());
    let plan = plan(concat!(
        r#"{"channels": "twitter:buffer_sim", "text": "Dry 1"}"#,
        "\n",
        r#"{"channels": "linkedin:Buffer Sim", "text": "Dry 2", "when": "next"}"#,
    ));
    let posts_before = sim.store().posts().len();
    let report = Job::new(plan, backend, journal.clone())
        .dry_run(true)
        .run()
        .await
        .unwrap();
    assert_eq!(report.tally.not_sent, 2);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(creates(&sim), 0);
    assert_eq!(sim.store().posts().len(), posts_before);
    // Only the channel list was read.
    let writes: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| {
            r.root_fields
                .iter()
                .any(|f| f != "account" && f != "channels")
        })
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

#[tokio::test]
async fn a_rerun_sends_nothing_and_status_reads_only_the_journal() {
    for kind in [BackendKind::GraphQl, BackendKind::ClassicRest] {
        let sim = sim().await;
        let journal = Arc::new(MemoryJournal::new());
        let backend = write_path(&sim, kind, journal.clone());
        let text = &format!(
            "{}\n{}",
            r#"{"channels": ["twitter:buffer_sim", "mastodon:buffersim"], "text": "Rerun 1"}"#,
            format_args!(
                r#"{{"channels": "linkedin:Buffer Sim", "text": "Rerun 2", "when": "{}-06-01 10:00 Europe/Berlin"}}"#,
                next_year()
            ),
        );
        let first = Job::new(plan(text), backend.clone(), journal.clone())
            .run()
            .await
            .unwrap();
        assert!(first.is_complete(), "{kind}: {first:#?}");
        assert_eq!(first.tally.created, 3);
        assert_eq!(first.tally.earlier, 0);
        assert_eq!(stored(&sim, "Rerun").len(), 3, "{kind}");

        sim.clear_requests();
        let mut calls = Vec::new();
        let (send, seen) = std::sync::mpsc::channel();
        let second = Job::new(plan(text), backend.clone(), journal.clone())
            .on_progress(move |p| send.send(*p).unwrap())
            .run()
            .await
            .unwrap();
        calls.extend(seen.try_iter());
        assert!(second.is_complete());
        assert_eq!(second.tally.earlier, 3, "{kind}");
        assert!(sim.requests().is_empty(), "{kind}: {:?}", sim.requests());
        assert!(
            calls.iter().all(|p| p.total == 0 && p.done == 0),
            "nothing to do: {calls:?}"
        );
        assert_eq!(stored(&sim, "Rerun").len(), 3, "{kind}");

        let report = status(&plan(text), journal.as_ref()).await.unwrap();
        assert_eq!(report.tally.created, 3);
        assert!(sim.requests().is_empty());
        let unsent = status(
            &plan(r#"{"channels": "twitter:buffer_sim", "text": "Never sent"}"#),
            journal.as_ref(),
        )
        .await
        .unwrap();
        assert_eq!(unsent.lines[0].channels[0].state, ChannelState::NotSent);
    }
}

#[tokio::test]
async fn an_unknown_outcome_is_reconciled_not_resent() {
    let sim = sim().await;
    let journal = Arc::new(MemoryJournal::new());
    let backend = write_path(&sim, BackendKind::GraphQl, journal.clone());
    let text = concat!(
        r#"{"channels": ["twitter:buffer_sim", "mastodon:buffersim"], "text": "Lost 1"}"#,
        "\n",
        r#"{"channels": "linkedin:Buffer Sim", "text": "Lost 2"}"#,
    );
    // The answer is lost after the posts were made, and every lookup fails: the run ends
    // without knowing (as a process killed before it looked would).
    sim.set_faults(
        Faults::seeded(1)
            .rule(
                FaultRule::new(Fault::LoseResponse)
                    .route("createPost")
                    .times(1),
            )
            .rule(FaultRule::new(Fault::ServerError(503)).route("Posts")),
    );
    let first = Job::new(plan(text), backend.clone(), journal.clone())
        .run()
        .await
        .unwrap();
    assert_eq!(first.tally.unknown, 3, "{first:#?}");
    assert_eq!(
        stored(&sim, "Lost").len(),
        3,
        "the posts were made, the answer lost"
    );

    sim.clear_faults();
    sim.clear_requests();
    let second = Job::new(plan(text), backend, journal.clone())
        .run()
        .await
        .unwrap();
    assert!(second.is_complete(), "{second:#?}");
    assert_eq!(creates(&sim), 0, "reconciled by looking, not by sending");
    assert_eq!(stored(&sim, "Lost").len(), 3);
}

#[tokio::test]
async fn invalid_lines_stop_the_job_unless_skipped() {
    let sim = sim().await;
    let journal = Arc::new(MemoryJournal::new());
    let backend = write_path(&sim, BackendKind::GraphQl, journal.clone());
    let text = concat!(
        r#"{"channels": "twitter:buffer_sim", "text": "Valid line"}"#,
        "\n",
        r#"{"channels": "twitter:nobody", "text": "Unknown channel"}"#,
        "\n",
        r#"{"channels": "twitter:buffer_sim", "text": "Past", "when": "2026-02-01T00:00:00Z"}"#,
        "\n",
        r#"{"channels": "twitter:buffer_sim", "text": "Preview", "link": "https://example.com/x"}"#,
        "\n",
        r#"{"channels": "twitter:buffer_sim"}"#,
    );
    let refused = Job::new(plan(text), backend.clone(), journal.clone())
        .run()
        .await
        .unwrap();
    assert!(refused.refused);
    let lines: Vec<usize> = refused
        .problems
        .iter()
        .filter(|p| p.is_error())
        .map(LineProblem::line)
        .collect();
    assert_eq!(lines, [2, 3, 4, 5], "{:#?}", refused.problems);
    assert_eq!(creates(&sim), 0);

    let skipped = Job::new(plan(text), backend, journal)
        .skip_invalid(true)
        .run()
        .await
        .unwrap();
    assert!(!skipped.refused);
    assert_eq!(skipped.lines.len(), 1);
    assert!(skipped.is_complete());
    assert_eq!(stored(&sim, "Valid line").len(), 1);
    assert!(stored(&sim, "Past").is_empty() && stored(&sim, "Preview").is_empty());
}

#[tokio::test]
async fn drafts_on_graphql_and_a_clear_refusal_on_classic() {
    let sim = sim().await;
    let text = r#"{"channels": "linkedin:Buffer Sim", "text": "Draft for review"}"#;
    let journal = Arc::new(MemoryJournal::new());
    let report = Job::new(
        plan(text),
        write_path(&sim, BackendKind::GraphQl, journal.clone()),
        journal,
    )
    .as_drafts(true)
    .run()
    .await
    .unwrap();
    assert!(report.is_complete(), "{report:#?}");
    let drafts = stored(&sim, "Draft for review");
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].status, PostStatus::Draft);

    let journal = Arc::new(MemoryJournal::new());
    let error = Job::new(
        plan(text),
        write_path(&sim, BackendKind::ClassicRest, journal.clone()),
        journal,
    )
    .as_drafts(true)
    .run()
    .await
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    assert!(error.to_string().contains("no drafts"), "{error}");
    assert_eq!(stored(&sim, "Draft for review").len(), 1);

    // The classic backend itself refuses a draft before sending anything.
    use buffer_bridge::BackendExt;
    let classic = ClassicRest::builder()
        .access_token(sim.access_token())
        .base_url(sim.rest_url())
        .build()
        .unwrap();
    let linkedin = sim.demo().channel(Service::Linkedin).unwrap().id.clone();
    sim.clear_requests();
    let draft = buffer_bridge::model::NewPost::new("Classic draft")
        .channel(linkedin.as_str())
        .as_draft();
    let error = classic.create_post(&draft).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn the_report_serializes_line_by_line_and_channel_by_channel() {
    let sim = sim().await;
    let journal = Arc::new(MemoryJournal::new());
    let backend = write_path(&sim, BackendKind::GraphQl, journal.clone());
    let report: Report = Job::new(
        plan(r#"{"key": "json-1", "channels": ["twitter:buffer_sim", "mastodon:buffersim"], "text": "Json"}"#),
        backend,
        journal,
    )
    .run()
    .await
    .unwrap();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["lines"][0]["key"], "json-1");
    assert_eq!(json["lines"][0]["channels"][1]["state"], "created");
    let twitter = sim.demo().channel(Service::Twitter).unwrap().id.clone();
    assert_eq!(json["lines"][0]["channels"][0]["channel"], twitter);
    assert_eq!(json["tally"]["created"], 2);
}

/// Media served on loopback the ways the web serves it: a picture, a web page, a picture too
/// large, a missing file, a server that refuses `HEAD` but answers a ranged `GET`.
async fn media_server() -> wiremock::MockServer {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, ResponseTemplate};
    let server = wiremock::MockServer::start().await;
    let file = |ty: &str, len: usize| {
        ResponseTemplate::new(200)
            .insert_header("content-type", ty)
            .set_body_bytes(vec![0u8; len])
    };
    for (route, answer) in [
        ("/ok.png", file("image/png", 1_000)),
        ("/page", file("text/html; charset=utf-8", 100)),
        ("/big.png", file("image/png", 6_000_000)),
        ("/photo.webp", file("image/webp", 100)),
    ] {
        Mock::given(method("HEAD"))
            .and(path(route))
            .respond_with(answer)
            .mount(&server)
            .await;
    }
    Mock::given(method("HEAD"))
        .and(path("/clip.mp4"))
        .respond_with(ResponseTemplate::new(405))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/clip.mp4"))
        .and(header("range", "bytes=0-0"))
        .respond_with(
            ResponseTemplate::new(206)
                .insert_header("content-type", "video/mp4")
                .insert_header("content-range", "bytes 0-0/48000000")
                .set_body_bytes(vec![0u8]),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn media_checks_find_unreachable_wrong_large_and_expiring_urls() {
    use buffer_bridge::model::AssetKind;
    use buffer_bridge::publish::{MediaCheck, MediaProblemKind};
    let server = media_server().await;
    let base = server.uri();
    let check = MediaCheck::new().unwrap();
    let due: DateTime<Utc> = "2030-01-01T00:00:00Z".parse().unwrap();
    let kinds = |found: Vec<buffer_bridge::publish::MediaProblem>| -> Vec<MediaProblemKind> {
        found.into_iter().map(|p| p.kind).collect()
    };
    let image = AssetKind::Image;
    assert_eq!(
        kinds(
            check
                .check(&format!("{base}/ok.png"), &image, Some(due))
                .await
        ),
        []
    );
    assert_eq!(
        kinds(check.check(&format!("{base}/page"), &image, None).await),
        [MediaProblemKind::WrongType]
    );
    assert_eq!(
        kinds(
            check
                .check(&format!("{base}/photo.webp"), &image, None)
                .await
        ),
        [MediaProblemKind::WrongType]
    );
    assert_eq!(
        kinds(check.check(&format!("{base}/big.png"), &image, None).await),
        [MediaProblemKind::TooLarge]
    );
    assert_eq!(
        kinds(
            check
                .check(&format!("{base}/missing.png"), &image, None)
                .await
        ),
        [MediaProblemKind::Unreachable]
    );
    // HEAD refused: a one-byte ranged GET tells the type and whole size. No video limit is
    // published; one set by the caller applies.
    let clip = format!("{base}/clip.mp4");
    assert_eq!(kinds(check.check(&clip, &AssetKind::Video, None).await), []);
    let strict = MediaCheck::new()
        .unwrap()
        .max_bytes(AssetKind::Video, 10_000_000);
    assert_eq!(
        kinds(strict.check(&clip, &AssetKind::Video, None).await),
        [MediaProblemKind::TooLarge]
    );
    // Signed for an hour from 2026-12-01 12:00: fine for a queued post, too short for 2030.
    let signed = format!("{base}/ok.png?X-Amz-Date=20261201T120000Z&X-Amz-Expires=3600");
    assert_eq!(kinds(check.check(&signed, &image, None).await), []);
    assert_eq!(
        kinds(check.check(&signed, &image, Some(due)).await),
        [MediaProblemKind::ExpiresBeforeDue]
    );
    // Nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    assert_eq!(
        kinds(
            check
                .check(&format!("http://127.0.0.1:{port}/a.png"), &image, None)
                .await
        ),
        [MediaProblemKind::Unreachable]
    );
}

#[tokio::test]
async fn a_job_with_media_checks_refuses_lines_whose_media_would_not_publish() {
    let sim = sim().await;
    let server = media_server().await;
    let base = server.uri();
    let journal = Arc::new(MemoryJournal::new());
    let backend = write_path(&sim, BackendKind::GraphQl, journal.clone());
    let line = |n: usize, file: &str| {
        format!(
            r#"{{"channels": "mastodon:buffersim", "text": "Media {n}", "assets": [{{"url": "{base}/{file}", "alt": "a"}}]}}"#
        )
    };
    let plan = plan(&[line(1, "ok.png"), line(2, "page"), line(3, "missing.png")].join("\n"));
    let report = Job::new(plan, backend, journal)
        .dry_run(true)
        .check_media(buffer_bridge::publish::MediaCheck::new().unwrap())
        .run()
        .await
        .unwrap();
    let media: Vec<(usize, buffer_bridge::publish::MediaProblemKind)> = report
        .problems
        .iter()
        .filter_map(|p| match p {
            LineProblem::Media { line, problem } => Some((*line, problem.kind)),
            _ => None,
        })
        .collect();
    use buffer_bridge::publish::MediaProblemKind::{Unreachable, WrongType};
    assert_eq!(media, [(2, WrongType), (3, Unreachable)]);
    assert!(report.refused);
    assert_eq!(creates(&sim), 0);
}
