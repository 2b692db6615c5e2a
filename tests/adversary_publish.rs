//! Attacks on the publishing job (issue 12): exactly once across kills, reruns, edits and
//! concurrent jobs; a status that sends nothing; hostile plan files; times at the edges; media
//! checks against a hostile server. Every verdict is read from the simulator's store and
//! request log, not from the job's own report.

use buffer_bridge::backend::Backend;
use buffer_bridge::graphql::GraphQl;
use buffer_bridge::journal::{Journal, SqliteJournal};
use buffer_bridge::pacing::Paced;
use buffer_bridge::publish::{Job, Plan, PlanErrorKind, Stagger, Start, status};
use buffer_bridge::retry::Retrying;
use buffer_sim::{Fault, FaultRule, Faults, NullScope, Simulator};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The write path over `journal`, as the command builds it.
fn write_path(sim: &Simulator, journal: Arc<dyn Journal>) -> Arc<dyn Backend> {
    write_path_leasing(sim, journal, buffer_bridge::retry::DEFAULT_LEASE)
}

/// The write path with a lease of `lease`: a dropped job's keys are taken over after it.
fn write_path_leasing(
    sim: &Simulator,
    journal: Arc<dyn Journal>,
    lease: Duration,
) -> Arc<dyn Backend> {
    let graphql = GraphQl::builder()
        .api_key(sim.api_key())
        .base_url(sim.graphql_url())
        .build()
        .expect("client");
    Arc::new(
        Retrying::new(Paced::new(graphql))
            .journal(journal)
            .lease(lease),
    )
}

/// A simulator that takes the same text twice, so only the client can keep a post single.
async fn strict_sim() -> Simulator {
    Simulator::builder().reject_duplicates(false).start().await
}

fn sqlite(path: &Path) -> Arc<dyn Journal> {
    Arc::new(SqliteJournal::open(path).expect("journal"))
}

/// Posts with exactly `text` across every channel of the simulator.
fn copies(sim: &Simulator, text: &str) -> usize {
    sim.store()
        .posts()
        .iter()
        .filter(|p| p.text == text)
        .count()
}

fn create_requests(sim: &Simulator) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.root_fields.iter().any(|f| f == "createPost"))
        .count()
}

fn plan_text(texts: &[&str]) -> String {
    texts
        .iter()
        .map(|t| format!("{{\"channels\": \"twitter:buffer_sim\", \"text\": \"{t}\"}}\n"))
        .collect()
}

async fn run(sim: &Simulator, plan: Plan, journal: Arc<dyn Journal>) {
    let backend = write_path(sim, journal.clone());
    Job::new(plan, backend, journal).run().await.expect("job");
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "bb-adv-publish-{name}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

// ---------------------------------------------------------------- exactly once

/// The same plan file named by two spellings of its path (`dir/sub/../plan.jsonl`, a symlink)
/// with its default journal beside it is one plan: a rerun must not post again.
#[tokio::test]
async fn the_same_plan_by_another_spelling_of_its_path_posts_once() {
    let sim = strict_sim().await;
    let dir = tempdir("spelling");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let plan = dir.join("plan.jsonl");
    std::fs::write(&plan, plan_text(&["spelled one way", "spelled another"])).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&plan, dir.join("link.jsonl")).unwrap();
    let journal = sqlite(&dir.join("plan.jsonl.journal.sqlite"));

    run(&sim, Plan::read(&plan).unwrap(), journal.clone()).await;
    run(
        &sim,
        Plan::read(dir.join("sub/../plan.jsonl")).unwrap(),
        journal.clone(),
    )
    .await;
    #[cfg(unix)]
    run(&sim, Plan::read(dir.join("link.jsonl")).unwrap(), journal).await;

    assert_eq!(copies(&sim, "spelled one way"), 1);
    assert_eq!(copies(&sim, "spelled another"), 1);
}

/// Two jobs of the same plan at once over one journal file (two processes' handles): each
/// line is posted once.
#[tokio::test]
async fn two_jobs_of_one_plan_at_once_post_each_line_once() {
    let sim = strict_sim().await;
    let dir = tempdir("twice");
    let path = dir.join("plan.jsonl");
    let texts: Vec<String> = (0..12).map(|i| format!("concurrent {i}")).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    std::fs::write(&path, plan_text(&refs)).unwrap();
    let journal_path = dir.join("journal.sqlite");
    let a = run(&sim, Plan::read(&path).unwrap(), sqlite(&journal_path));
    let b = run(&sim, Plan::read(&path).unwrap(), sqlite(&journal_path));
    tokio::join!(a, b);
    // A third run settles whatever the race left unsettled.
    run(&sim, Plan::read(&path).unwrap(), sqlite(&journal_path)).await;
    for text in &texts {
        assert_eq!(copies(&sim, text), 1, "{text}");
    }
}

/// Lost answers after the create ran (the connection closed, or a null field), then a rerun:
/// each line exactly once, and the unknown ones reconciled rather than resent blindly.
#[tokio::test]
async fn lost_answers_then_a_rerun_post_each_line_once() {
    for (name, fault) in [
        ("lose", Fault::LoseResponse),
        ("null", Fault::NullField(NullScope::Data)),
        ("null-alias", Fault::NullField(NullScope::Alias(1))),
        ("truncate", Fault::Truncate),
        ("503", Fault::ServerError(503)),
    ] {
        let sim = Simulator::builder()
            .reject_duplicates(false)
            .faults(Faults::seeded(7).rule(FaultRule::new(fault).route("createPost").times(3)))
            .start()
            .await;
        let texts: Vec<String> = (0..4).map(|i| format!("{name} {i}")).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let journal = sqlite(&tempdir(name).join("j.sqlite"));
        for _ in 0..3 {
            run(
                &sim,
                Plan::parse_jsonl("p", &plan_text(&refs)),
                journal.clone(),
            )
            .await;
        }
        for text in &texts {
            assert_eq!(copies(&sim, text), 1, "{name}: {text}");
        }
    }
}

/// A job dropped while its create is in flight (the server still runs it, late), twice, each
/// time rerun: the rerun waits out the dead job's lease, finds what the late create made, and
/// sends only the rest. Each line exactly once.
#[tokio::test]
async fn a_job_dropped_with_its_create_in_flight_posts_each_line_once() {
    let sim =
        Simulator::builder()
            .reject_duplicates(false)
            // Creates run this late: a drop lands while one is in flight.
            .faults(Faults::seeded(3).rule(
                FaultRule::new(Fault::Latency(Duration::from_millis(800))).route("createPost"),
            ))
            .start()
            .await;
    let texts: Vec<String> = (0..40).map(|i| format!("dropped {i}")).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let plan = || Plan::parse_jsonl("p", &plan_text(&refs));
    let journal = sqlite(&tempdir("drop").join("j.sqlite"));
    // A lease outlasting the in-flight create, as the default (two minutes) does in life.
    let lease = Duration::from_secs(2);
    let seeded = sim.store().posts().len();
    // Up to 30 channels a call: the first call carries lines 0–29, the second 30–39.
    for last_line_of_call in [29, 39] {
        // Journaled the call's last line: the request is about to go out.
        let key = plan().lines()[last_line_of_call].key.clone();
        let backend = write_path_leasing(&sim, journal.clone(), lease);
        let job = tokio::spawn(Job::new(plan(), backend, journal.clone()).run());
        while journal.entry(&key).await.unwrap().is_none() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        job.abort();
        let _ = job.await;
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        sim.store().posts().len() - seeded,
        texts.len(),
        "the dropped jobs' creates did not all land"
    );
    let backend = write_path_leasing(&sim, journal.clone(), lease);
    Job::new(plan(), backend, journal.clone())
        .run()
        .await
        .unwrap();
    for text in &texts {
        assert_eq!(copies(&sim, text), 1, "{text}");
    }
}

/// A job dropped at growing points of its run, rerun each time, then run to the end: each
/// line exactly once.
#[tokio::test]
async fn a_job_dropped_at_many_points_posts_each_line_once() {
    let sim = strict_sim().await;
    let texts: Vec<String> = (0..40).map(|i| format!("sweep {i}")).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let journal = sqlite(&tempdir("sweep").join("j.sqlite"));
    let mut budget = Duration::from_millis(2);
    for _ in 0..30 {
        let backend = write_path_leasing(&sim, journal.clone(), Duration::from_millis(200));
        let job = Job::new(
            Plan::parse_jsonl("p", &plan_text(&refs)),
            backend,
            journal.clone(),
        )
        .run();
        if tokio::time::timeout(budget, job).await.is_ok() {
            break;
        }
        budget += budget / 3;
    }
    run(&sim, Plan::parse_jsonl("p", &plan_text(&refs)), journal).await;
    for text in &texts {
        assert_eq!(copies(&sim, text), 1, "{text}");
    }
}

/// A plan edited between runs: a line inserted above, lines reordered, blank lines added.
/// Nothing already posted is posted again; the new line is posted once.
#[tokio::test]
async fn an_edited_plan_resends_nothing_it_sent() {
    let sim = strict_sim().await;
    let journal = sqlite(&tempdir("edit").join("j.sqlite"));
    run(
        &sim,
        Plan::parse_jsonl("p", &plan_text(&["edit a", "edit b", "edit c"])),
        journal.clone(),
    )
    .await;
    let edited = format!(
        "\n{}\n\n{}",
        plan_text(&["edit new", "edit c"]),
        plan_text(&["edit a", "edit b"])
    );
    run(&sim, Plan::parse_jsonl("p", &edited), journal.clone()).await;
    for text in ["edit a", "edit b", "edit c", "edit new"] {
        assert_eq!(copies(&sim, text), 1, "{text}");
    }
}

/// Two identical lines are refused (one key), with the line number, and nothing is sent.
#[tokio::test]
async fn identical_lines_are_refused_before_anything_is_sent() {
    let sim = strict_sim().await;
    let plan = Plan::parse_jsonl("p", &plan_text(&["twin", "other", "twin"]));
    assert_eq!(plan.errors().len(), 1);
    assert_eq!(plan.errors()[0].line, 3);
    assert_eq!(plan.errors()[0].kind, PlanErrorKind::RepeatedKey);
    let journal = sqlite(&tempdir("twin").join("j.sqlite"));
    run(&sim, plan, journal).await;
    assert_eq!(copies(&sim, "twin"), 0);
    assert_eq!(copies(&sim, "other"), 0);
    assert_eq!(create_requests(&sim), 0);
}

// ---------------------------------------------------------------- status

/// `status` sends nothing, before a run, after a run, and after a run with lost answers.
#[tokio::test]
async fn status_sends_nothing_and_tells_the_truth() {
    let sim = Simulator::builder()
        .reject_duplicates(false)
        .faults(
            Faults::seeded(1).rule(
                FaultRule::new(Fault::LoseResponse)
                    .route("createPost")
                    .times(100),
            ),
        )
        .start()
        .await;
    let text = plan_text(&["status a", "status b"]);
    let journal = sqlite(&tempdir("status").join("j.sqlite"));
    sim.clear_requests();
    let before = status(&Plan::parse_jsonl("p", &text), journal.as_ref())
        .await
        .unwrap();
    assert_eq!(sim.totals().requests(), 0);
    assert_eq!(before.tally.not_sent, 2);
    let backend = write_path(&sim, journal.clone());
    let _ = Job::new(Plan::parse_jsonl("p", &text), backend, journal.clone())
        .run()
        .await;
    let posted = copies(&sim, "status a") + copies(&sim, "status b");
    sim.clear_requests();
    let after = status(&Plan::parse_jsonl("p", &text), journal.as_ref())
        .await
        .unwrap();
    assert_eq!(sim.totals().requests(), 0);
    // Whatever the store has, status must not call it not sent, nor created without an answer.
    assert_eq!(
        after.tally.not_sent, 0,
        "{posted} posted; status: {after:?}"
    );
}

// ---------------------------------------------------------------- hostile plan files

#[test]
fn a_bom_does_not_make_the_first_line_bad() {
    let jsonl = format!("\u{feff}{}", plan_text(&["bom"]));
    let plan = Plan::parse_jsonl("p", &jsonl);
    assert!(plan.errors().is_empty(), "{:?}", plan.errors());
    assert_eq!(plan.lines().len(), 1);
    let csv = "\u{feff}channels,text\r\ntwitter:buffer_sim,bom csv\r\n";
    let plan = Plan::parse_csv("p", csv);
    assert!(plan.errors().is_empty(), "{:?}", plan.errors());
    assert_eq!(plan.lines().len(), 1);
}

#[test]
fn crlf_lines_keep_their_numbers_and_keys() {
    let lf = plan_text(&["crlf a", "crlf b"]);
    let crlf = lf.replace('\n', "\r\n");
    let (a, b) = (Plan::parse_jsonl("p", &lf), Plan::parse_jsonl("p", &crlf));
    assert!(b.errors().is_empty());
    assert_eq!(a.lines()[1].key, b.lines()[1].key);
    assert_eq!(b.lines()[1].line, 2);
}

/// Invalid UTF-8 on one line is that line's error, with its number; the other lines read.
#[test]
fn invalid_utf8_is_reported_on_its_line() {
    let dir = tempdir("utf8");
    let path = dir.join("plan.jsonl");
    let mut bytes = plan_text(&["good one"]).into_bytes();
    bytes
        .extend_from_slice(b"{\"channels\": \"twitter:buffer_sim\", \"text\": \"bad \xff\xfe\"}\n");
    bytes.extend_from_slice(plan_text(&["good two"]).as_bytes());
    std::fs::write(&path, bytes).unwrap();
    let plan = Plan::read(&path).expect("a plan with one bad line still reads");
    assert_eq!(plan.lines().len(), 2);
    assert_eq!(plan.errors().len(), 1);
    assert_eq!(plan.errors()[0].line, 2);
}

#[test]
fn hostile_json_lines_are_errors_with_their_numbers() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let lines = [
        r#"{"channels": "twitter:buffer_sim", "text": "a", "text": "b"}"#.to_owned(),
        r#"{"channels": 12, "text": "n"}"#.to_owned(),
        r#"{"channels": "twitter:buffer_sim", "text": 12}"#.to_owned(),
        r#"{"channels": "twitter:buffer_sim", "text": "x", "when": 1796126400}"#.to_owned(),
        deep,
        format!(
            r#"{{"channels": "twitter:buffer_sim", "text": "x", "z": {}}}"#,
            "[".repeat(50_000)
        ),
        r#"[1, 2]"#.to_owned(),
        r#"null"#.to_owned(),
        r#"{"channels": "twitter:buffer_sim", "text": "x"} trailing"#.to_owned(),
        "\u{0}".to_owned(),
    ];
    let text = lines.join("\n");
    let plan = Plan::parse_jsonl("p", &text);
    let numbers: Vec<usize> = plan.errors().iter().map(|e| e.line).collect();
    assert_eq!(numbers, (1..=lines.len()).collect::<Vec<_>>());
    assert!(plan.lines().is_empty());
}

#[test]
fn empty_and_blank_plans_read_as_empty() {
    assert!(Plan::parse_jsonl("p", "").lines().is_empty());
    let blanks = "\n".repeat(1_000_000);
    let plan = Plan::parse_jsonl("p", &format!("{blanks}{}", plan_text(&["late"])));
    assert!(plan.errors().is_empty());
    assert_eq!(plan.lines()[0].line, 1_000_001);
    assert!(Plan::parse_csv("p", "").lines().is_empty());
}

#[test]
fn csv_quoting_tricks_are_errors_or_read_right() {
    let csv = "channels,text\n\
               twitter:buffer_sim,\"a \"\"quoted\"\", multi\nline\"\n\
               twitter:buffer_sim,three,extra\n";
    let plan = Plan::parse_csv("p", csv);
    assert_eq!(plan.lines().len(), 1, "{:?}", plan.errors());
    assert_eq!(
        plan.lines()[0].text.as_deref(),
        Some("a \"quoted\", multi\nline")
    );
    assert_eq!(plan.errors().len(), 1);
    assert_eq!(plan.errors()[0].line, 4, "{:?}", plan.errors());
}

/// A plan file far larger than any plan is refused without being read whole.
#[test]
fn a_huge_plan_line_is_refused_without_reading_it_whole() {
    let dir = tempdir("huge");
    let path = dir.join("plan.jsonl");
    {
        use std::io::Write;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        file.write_all(plan_text(&["before the giant"]).as_bytes())
            .unwrap();
        file.write_all(b"{\"channels\": \"twitter:buffer_sim\", \"text\": \"")
            .unwrap();
        file.flush().unwrap();
        // A gigabyte line of NULs, sparse: no disk is spent on it.
        file.get_ref().set_len(1 << 30).unwrap();
    }
    let read = Plan::read(&path);
    std::fs::remove_file(&path).unwrap();
    match read {
        Ok(plan) => {
            assert!(
                plan.errors().iter().any(|e| e.line == 2),
                "{:?}",
                plan.errors()
            );
        }
        Err(error) => assert!(error.message().contains("plan"), "{error}"),
    }
}

// ---------------------------------------------------------------- time

#[test]
fn stagger_at_the_ends_of_time_does_not_panic() {
    for start in [
        "2026-12-02T09:00:00-01:00",
        "2026-12-02T09:00:00+14:00",
        "2026-12-02 09:00 America/New_York",
        "2026-12-02 09:00 Pacific/Kiritimati",
    ] {
        let start = Start::parse(start).unwrap();
        for every in [Duration::from_secs(u64::MAX), Duration::from_secs(1 << 40)] {
            let stagger = Stagger::new(start, every);
            for n in [0, 1, 2, u32::MAX] {
                let _ = stagger.at(n);
            }
        }
    }
}

#[test]
fn times_at_the_edges_are_typed_errors_or_instants() {
    let when = |w: &str| {
        Plan::parse_jsonl(
            "p",
            &format!(r#"{{"channels": "twitter:buffer_sim", "text": "t", "when": "{w}"}}"#),
        )
    };
    for bad in [
        "10000-01-01T00:00:00Z",
        "+10000-01-01T00:00:00Z",
        "2026-03-29 02:30 Europe/Berlin",
        "2026-10-25 02:30 Europe/Berlin",
        "2026-12-02 09:00 Mars/Olympus",
        "2026-12-02 09:00",
        "2026-02-30T09:00:00Z",
    ] {
        let plan = when(bad);
        assert_eq!(plan.errors().len(), 1, "{bad}");
        assert_eq!(plan.errors()[0].line, 1, "{bad}");
    }
    for fine in [
        "1969-12-31T23:59:59Z",
        "9999-12-31T23:59:59+14:00",
        "9999-12-31 23:59 Pacific/Kiritimati",
        "9999-12-31 23:59 Pacific/Pago_Pago",
        "2016-12-31T23:59:60Z",
    ] {
        let plan = when(fine);
        assert_eq!(plan.errors().len() + plan.lines().len(), 1, "{fine}");
    }
}

// ---------------------------------------------------------------- pacing

/// A plan larger than what is left of the 15-minute window (the server's quota is tighter
/// than the Free plan's published one, as when another app spent part of it): no 429 of the
/// simulator's own, and once the window has passed a rerun finishes, each line once.
#[tokio::test]
async fn pacing_keeps_a_plan_inside_a_tight_quota() {
    let sim = Simulator::builder()
        .reject_duplicates(false)
        .rate_limits(buffer_sim::RateLimits {
            graphql_per_15_minutes: 4,
            ..buffer_sim::RateLimits::default()
        })
        .start()
        .await;
    // Lines on several channels (not Instagram, which needs media), so each call carries up
    // to 30 slots: 60 lines need several calls (and stay under the queue's limit).
    let channels: Vec<String> = sim
        .demo()
        .channels
        .iter()
        .filter(|c| c.service != buffer_sim::Service::Instagram)
        .map(|c| c.id.clone())
        .collect();
    let plan: String = (0..60)
        .map(|i| {
            format!(
                "{{\"channels\": {}, \"text\": \"paced {i}\"}}\n",
                serde_json::to_string(&channels).unwrap()
            )
        })
        .collect();
    let journal = sqlite(&tempdir("paced").join("j.sqlite"));
    for _ in 0..40 {
        let backend = write_path(&sim, journal.clone());
        let report = Job::new(Plan::parse_jsonl("p", &plan), backend, journal.clone())
            .run()
            .await
            .unwrap();
        assert_eq!(sim.totals().rate_limited, 0);
        if report.is_complete() {
            break;
        }
        sim.clock().advance(Duration::from_secs(15 * 60));
    }
    for i in 0..60 {
        assert_eq!(
            copies(&sim, &format!("paced {i}")),
            channels.len(),
            "paced {i}"
        );
    }
}

// ---------------------------------------------------------------- media checks

/// A loopback server answering every connection with `answer(request)`, then writing
/// `endless` bytes forever if asked; counts the bytes it managed to write.
async fn hostile_server(
    answer: fn(&str) -> (String, bool),
) -> (String, Arc<std::sync::atomic::AtomicU64>) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let written = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = written.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                let (head, endless) = answer(&request);
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                if endless {
                    let chunk = vec![b'x'; 64 * 1024];
                    while socket.write_all(&chunk).await.is_ok() {
                        counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), written)
}

/// HEAD refused, and the ranged GET answered with the whole, endless file: the check reads
/// no body, and the server cannot push more than the socket holds.
#[tokio::test]
async fn media_check_reads_no_endless_body() {
    let (base, written) = hostile_server(|request| {
        if request.starts_with("HEAD") {
            (
                "HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n".to_owned(),
                false,
            )
        } else {
            (
                "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\n\r\n".to_owned(),
                true,
            )
        }
    })
    .await;
    let check = buffer_bridge::publish::MediaCheck::new().unwrap();
    let problems = tokio::time::timeout(
        Duration::from_secs(30),
        check.check(
            &format!("{base}/a.png"),
            &buffer_bridge::model::AssetKind::Image,
            None,
        ),
    )
    .await
    .expect("the check ends within its timeout");
    assert!(problems.is_empty(), "{problems:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pushed = written.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        pushed < 32 << 20,
        "{pushed} bytes were taken from the server"
    );
}

/// Absurd sizes: a Content-Length past u64, a Content-Range total of a petabyte, a negative
/// length: typed problems or none, never a panic.
#[tokio::test]
async fn media_check_takes_absurd_sizes_in_its_stride() {
    let (base, _) = hostile_server(|request| {
        let head = if request.contains("/overflow") {
            "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: 99999999999999999999999\r\n\r\n"
        } else if request.contains("/peta") {
            if request.starts_with("HEAD") {
                "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\n\r\n"
            } else {
                "HTTP/1.1 206 Partial Content\r\ncontent-type: image/png\r\ncontent-range: bytes 0-0/1125899906842624\r\ncontent-length: 1\r\n\r\nx"
            }
        } else {
            "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: -5\r\n\r\n"
        };
        (head.to_owned(), false)
    })
    .await;
    let check = buffer_bridge::publish::MediaCheck::new().unwrap();
    let image = buffer_bridge::model::AssetKind::Image;
    let peta = check.check(&format!("{base}/peta.png"), &image, None).await;
    assert!(
        peta.iter()
            .any(|p| p.kind == buffer_bridge::publish::MediaProblemKind::TooLarge),
        "{peta:?}"
    );
    for path in ["overflow.png", "negative.png"] {
        let _ = check.check(&format!("{base}/{path}"), &image, None).await;
    }
}

/// A redirect loop, and a redirect chain past the limit: unreachable, within the timeout.
#[tokio::test]
async fn media_check_stops_a_redirect_loop() {
    let (base, _) = hostile_server(|request| {
        let path = request.split_whitespace().nth(1).unwrap_or("/0");
        let n: u32 = path.trim_start_matches('/').parse().unwrap_or(0);
        (
            format!(
                "HTTP/1.1 302 Found\r\nlocation: /{}\r\ncontent-length: 0\r\n\r\n",
                n + 1
            ),
            false,
        )
    })
    .await;
    let check = buffer_bridge::publish::MediaCheck::new().unwrap();
    let problems = tokio::time::timeout(
        Duration::from_secs(30),
        check.check(
            &format!("{base}/0"),
            &buffer_bridge::model::AssetKind::Image,
            None,
        ),
    )
    .await
    .expect("the check ends within its timeout");
    assert!(
        problems
            .iter()
            .any(|p| p.kind == buffer_bridge::publish::MediaProblemKind::Unreachable),
        "{problems:?}"
    );
}

/// Ten staggered lines share one picture: its URL is asked once, not once a due time (the
/// answer does not depend on when the post is due; only the expiry warning does).
#[tokio::test]
async fn media_check_asks_a_shared_asset_once_across_a_stagger() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static ASKED: AtomicU64 = AtomicU64::new(0);
    let (base, _) = hostile_server(|_| {
        ASKED.fetch_add(1, Ordering::Relaxed);
        (
            "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: 100\r\n\r\n".to_owned(),
            false,
        )
    })
    .await;
    let sim = strict_sim().await;
    let plan: String = (0..10)
        .map(|i| {
            format!(
                "{{\"channels\": \"twitter:buffer_sim\", \"text\": \"shared {i}\", \
                 \"assets\": [{{\"url\": \"{base}/shared.png\", \"alt\": \"a\"}}]}}\n"
            )
        })
        .collect();
    let journal = sqlite(&tempdir("shared").join("j.sqlite"));
    let backend = write_path(&sim, journal.clone());
    let start = Start::at(chrono::Utc::now() + chrono::TimeDelta::days(1));
    let report = Job::new(Plan::parse_jsonl("p", &plan), backend, journal)
        .dry_run(true)
        .stagger(Stagger::new(start, Duration::from_secs(3600)))
        .check_media(buffer_bridge::publish::MediaCheck::new().unwrap())
        .run()
        .await
        .unwrap();
    // Loopback and plain http are warned about, nothing more.
    assert!(
        !report.problems.iter().any(|p| p.is_error()),
        "{:?}",
        report.problems
    );
    assert_eq!(ASKED.load(Ordering::Relaxed), 1);
}

// ---------------------------------------------------------------- edits and past starts

/// A line whose given key is kept while its text is edited after a run: the key names the
/// first write, so nothing new is posted under it.
#[tokio::test]
async fn an_edited_line_under_its_given_key_is_not_posted_again() {
    let sim = strict_sim().await;
    let journal = sqlite(&tempdir("keyed").join("j.sqlite"));
    let line = |text: &str| {
        format!(r#"{{"channels": "twitter:buffer_sim", "text": "{text}", "key": "launch-1"}}"#)
    };
    run(
        &sim,
        Plan::parse_jsonl("p", &line("keyed first")),
        journal.clone(),
    )
    .await;
    run(
        &sim,
        Plan::parse_jsonl("p", &line("keyed edited")),
        journal.clone(),
    )
    .await;
    assert_eq!(copies(&sim, "keyed first"), 1);
    assert_eq!(copies(&sim, "keyed edited"), 0);
}

/// A stagger that starts in the past: refused before anything is sent.
#[tokio::test]
async fn a_stagger_starting_in_the_past_sends_nothing() {
    let sim = strict_sim().await;
    let journal = sqlite(&tempdir("past").join("j.sqlite"));
    let backend = write_path(&sim, journal.clone());
    sim.clear_requests();
    let report = Job::new(
        Plan::parse_jsonl("p", &plan_text(&["past a", "past b"])),
        backend,
        journal,
    )
    .stagger(Stagger::new(
        Start::parse("2020-03-29 01:30 Europe/Berlin").unwrap(),
        Duration::from_secs(3600),
    ))
    .run()
    .await
    .unwrap();
    assert!(report.refused);
    assert_eq!(create_requests(&sim), 0);
}

/// One line naming the same channel twice (by id and by name, or twice by name): one post on
/// that channel, never two.
#[tokio::test]
async fn a_channel_named_twice_in_a_line_gets_one_post() {
    let sim = strict_sim().await;
    let twitter = sim
        .demo()
        .channel(buffer_sim::Service::Twitter)
        .unwrap()
        .id
        .clone();
    let plan = format!(
        "{{\"channels\": [\"twitter:buffer_sim\", \"{twitter}\"], \"text\": \"twice named\"}}\n\
         {{\"channels\": [\"twitter:buffer_sim\", \" twitter:buffer_sim \"], \"text\": \"twice again\"}}\n"
    );
    let journal = sqlite(&tempdir("twice-named").join("j.sqlite"));
    run(&sim, Plan::parse_jsonl("p", &plan), journal.clone()).await;
    run(&sim, Plan::parse_jsonl("p", &plan), journal).await;
    assert_eq!(copies(&sim, "twice named"), 1);
    assert_eq!(copies(&sim, "twice again"), 1);
}

/// A leap second in a future `when`: refused as a line error, or posted once at a real
/// instant; never a failed request.
#[tokio::test]
async fn a_leap_second_is_refused_or_posted_once() {
    let sim = strict_sim().await;
    let plan =
        r#"{"channels": "twitter:buffer_sim", "text": "leap", "when": "2027-06-30T23:59:60Z"}"#;
    let plan = Plan::parse_jsonl("p", plan);
    let refused_by_the_plan = !plan.errors().is_empty();
    let journal = sqlite(&tempdir("leap").join("j.sqlite"));
    let backend = write_path(&sim, journal.clone());
    let report = Job::new(plan, backend, journal).run().await.unwrap();
    if !refused_by_the_plan {
        assert_eq!(copies(&sim, "leap"), 1, "{report:?}");
    }
}

/// An unterminated quote would swallow every later line into one cell (the csv crate accepts
/// it): it is an error on the line where the quote opens, and nothing of it is sent.
#[test]
fn an_unterminated_csv_quote_is_a_numbered_error() {
    let csv = "channels,text\n\
               twitter:buffer_sim,\"unterminated\n\
               twitter:buffer_sim,swallowed\n";
    let plan = Plan::parse_csv("p", csv);
    assert!(plan.lines().is_empty(), "{:?}", plan.lines());
    assert_eq!(plan.errors().len(), 1);
    assert_eq!(plan.errors()[0].line, 2);
    // A closed quoted field over two lines, last in the file, still reads.
    let closed = Plan::parse_csv("p", "channels,text\ntwitter:buffer_sim,\"a \"\"b\"\"\nc\"");
    assert!(closed.errors().is_empty(), "{:?}", closed.errors());
    assert_eq!(closed.lines()[0].text.as_deref(), Some("a \"b\"\nc"));
}

/// Two jobs of one plan at once while half the creates lose their answers, then a rerun:
/// each line exactly once.
#[tokio::test]
async fn two_jobs_at_once_with_lost_answers_post_each_line_once() {
    let sim = Simulator::builder()
        .reject_duplicates(false)
        .faults(
            Faults::seeded(11).rule(
                FaultRule::new(Fault::LoseResponse)
                    .route("createPost")
                    .share(0.5),
            ),
        )
        .start()
        .await;
    let texts: Vec<String> = (0..20).map(|i| format!("racing lost {i}")).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let text = plan_text(&refs);
    let journal_path = tempdir("race-lost").join("j.sqlite");
    tokio::join!(
        run(&sim, Plan::parse_jsonl("p", &text), sqlite(&journal_path)),
        run(&sim, Plan::parse_jsonl("p", &text), sqlite(&journal_path)),
    );
    sim.clear_faults();
    run(&sim, Plan::parse_jsonl("p", &text), sqlite(&journal_path)).await;
    for text in &texts {
        assert_eq!(copies(&sim, text), 1, "{text}");
    }
}

/// A line whose picture cannot be fetched stops the job (nothing sent); with skip-invalid,
/// the other lines go and that one does not.
#[tokio::test]
async fn an_unreachable_asset_stops_the_job_unless_skipped() {
    let sim = strict_sim().await;
    // A port nothing listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let plan = format!(
        "{}{{\"channels\": \"twitter:buffer_sim\", \"text\": \"no picture\", \
         \"assets\": [{{\"url\": \"http://{closed}/gone.png\"}}]}}\n",
        plan_text(&["fine line"])
    );
    let journal = sqlite(&tempdir("unreachable").join("j.sqlite"));
    for skip in [false, true] {
        let backend = write_path(&sim, journal.clone());
        let report = Job::new(Plan::parse_jsonl("p", &plan), backend, journal.clone())
            .check_media(buffer_bridge::publish::MediaCheck::new().unwrap())
            .skip_invalid(skip)
            .run()
            .await
            .unwrap();
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.is_error() && p.line() == 2),
            "{:?}",
            report.problems
        );
        assert_eq!(copies(&sim, "fine line"), usize::from(skip));
        assert_eq!(copies(&sim, "no picture"), 0);
    }
}
