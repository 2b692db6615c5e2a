//! The outcome journal: every store through one suite (Redis's when built with the `redis`
//! feature, on a real `redis-server`), then SQLite across threads sharing a file
//! and across a process killed with `SIGKILL`; and the derived idempotency keys.

#[cfg(feature = "redis")]
#[path = "common/redis.rs"]
mod redis_server;
#[path = "common/temp.rs"]
mod temp;
use temp::TempFile;

use buffer_bridge::journal::{
    Begun, Conflict, Entry, FailedSlot, IdempotencyKey, Intent, Journal, Lease, MemoryJournal,
    SlotIntent, SlotState, SqliteJournal,
};
use buffer_bridge::model::{Asset, Link, NewPost, Post, PostId, PostStatus, Service, When};
use buffer_bridge::{Error, ErrorKind, Operation};
use chrono::{DateTime, TimeZone, Utc};
use std::time::Duration;

const HOLD: Duration = Duration::from_secs(60);

/// A journal file of this test's own.
fn temp_file(name: &str) -> TempFile {
    TempFile::new("journal", name)
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::new(text).unwrap()
}

fn intent_of(key: IdempotencyKey, channels: &[&str]) -> Intent {
    let slots = channels
        .iter()
        .map(|channel| SlotIntent::new(0, *channel))
        .collect();
    Intent::new(
        key,
        Operation::CreatePost,
        "9f86d081884c7d65",
        slots,
        Utc::now(),
    )
}

fn intent(name: &str, channels: &[&str]) -> Intent {
    intent_of(key(name), channels)
}

fn created(id: &str, channel: &str) -> SlotState {
    SlotState::Created(Box::new(Post::new(
        id,
        channel,
        Service::Twitter,
        "Launch day!",
        PostStatus::Scheduled,
    )))
}

fn failed() -> SlotState {
    SlotState::Failed(FailedSlot::new(
        ErrorKind::LimitReached,
        "Update limit for profile has been reached.",
        Some(1023),
    ))
}

async fn new(journal: &dyn Journal, intent: &Intent, hold: Duration) -> Lease {
    match journal.begin(intent, hold).await.unwrap() {
        (Begun::New, lease) => lease,
        (Begun::Existing(entry), _) => panic!("{} existed: {entry:?}", intent.key),
    }
}

async fn existing(journal: &dyn Journal, intent: &Intent) -> (Entry, Lease) {
    match journal.begin(intent, HOLD).await.unwrap() {
        (Begun::Existing(entry), lease) => (entry, lease),
        (Begun::New, _) => panic!("{} was new", intent.key),
    }
}

async fn entry(journal: &dyn Journal, key: &IdempotencyKey) -> Entry {
    journal.entry(key).await.unwrap().expect("an entry")
}

fn conflict(result: Result<impl std::fmt::Debug, Error>) -> Conflict {
    let error = result.expect_err("a refusal");
    assert_eq!(error.kind(), ErrorKind::Journal, "{error}");
    assert!(!error.is_transient(), "{error}");
    error
        .journal_conflict()
        .cloned()
        .unwrap_or_else(|| panic!("no conflict in {error}"))
}

fn is_lease_lost(conflict: &Conflict) -> bool {
    matches!(conflict, Conflict::LeaseLost { .. })
}

// ---- The suite, run on both stores ----------------------------------------------------------

async fn a_new_key_is_journaled_once_then_its_entry_is_returned(journal: &dyn Journal) {
    let intent = intent("order-1", &["c1", "c2"]);
    let lease = new(journal, &intent, HOLD).await;
    assert_eq!(lease.key(), &intent.key);
    let first = entry(journal, &intent.key).await;
    assert_eq!(first.intent, intent);
    assert_eq!(first.states, [SlotState::Pending, SlotState::Pending]);
    journal
        .record(&lease, 0, &created("p1", "c1"))
        .await
        .unwrap();
    journal.release(lease).await.unwrap();

    // A second begin with other content gets the first intent back, unchanged.
    let mut other = intent.clone();
    other.fingerprint = "another".into();
    let (found, _) = existing(journal, &other).await;
    assert_eq!(found.intent, intent);
    assert_eq!(found.states, [created("p1", "c1"), SlotState::Pending]);
    assert!(journal.entry(&key("order-2")).await.unwrap().is_none());
}

async fn a_live_lease_is_exclusive_until_released(journal: &dyn Journal) {
    let intent = intent("order-1", &["c1"]);
    let first = new(journal, &intent, HOLD).await;
    match conflict(journal.begin(&intent, HOLD).await) {
        Conflict::Held { key, until } => {
            assert_eq!(key, intent.key);
            assert_eq!(until, first.expires_at());
        }
        other => panic!("{other:?}"),
    }
    let stale = first.clone();
    journal.release(first).await.unwrap();
    let (_, second) = existing(journal, &intent).await;
    assert_ne!(second.holder(), stale.holder());
    // Releasing the old lease again does not free the new holder's key.
    journal.release(stale.clone()).await.unwrap();
    assert!(matches!(
        conflict(journal.begin(&intent, HOLD).await),
        Conflict::Held { .. }
    ));
    assert!(is_lease_lost(&conflict(
        journal.record(&stale, 0, &SlotState::Unknown).await
    )));
    journal
        .record(&second, 0, &SlotState::Unknown)
        .await
        .unwrap();
}

async fn an_expired_lease_is_refused_and_its_key_taken_over(journal: &dyn Journal) {
    let intent = intent("order-1", &["c1"]);
    // A lease of no time has expired by the time it is used.
    let dead = new(journal, &intent, Duration::ZERO).await;
    assert!(is_lease_lost(&conflict(
        journal.record(&dead, 0, &SlotState::Unknown).await
    )));
    assert!(is_lease_lost(&conflict(journal.renew(&dead, HOLD).await)));
    assert_eq!(
        entry(journal, &intent.key).await.states,
        [SlotState::Pending]
    );

    let (_, live) = existing(journal, &intent).await;
    journal.record(&live, 0, &SlotState::Unknown).await.unwrap();
    assert!(is_lease_lost(&conflict(
        journal.record(&dead, 0, &failed()).await
    )));
    assert_eq!(
        entry(journal, &intent.key).await.states,
        [SlotState::Unknown]
    );
}

async fn renew_extends_only_a_live_lease(journal: &dyn Journal) {
    let intent = intent("order-1", &["c1"]);
    let lease = new(journal, &intent, HOLD).await;
    let longer = journal.renew(&lease, HOLD * 2).await.unwrap();
    assert!(longer.expires_at() > lease.expires_at());
    assert_eq!(longer.holder(), lease.holder());
    match conflict(journal.begin(&intent, HOLD).await) {
        Conflict::Held { until, .. } => assert_eq!(until, longer.expires_at()),
        other => panic!("{other:?}"),
    }
    journal
        .record(&longer, 0, &SlotState::Unknown)
        .await
        .unwrap();

    // Renewed for no time, the lease is over: no record, no renewal, and the key is free.
    let over = journal.renew(&longer, Duration::ZERO).await.unwrap();
    assert!(is_lease_lost(&conflict(
        journal.record(&over, 0, &failed()).await
    )));
    assert!(is_lease_lost(&conflict(journal.renew(&over, HOLD).await)));
    existing(journal, &intent).await;
}

async fn a_post_is_claimed_by_one_slot_of_one_key(journal: &dyn Journal) {
    let a = intent("order-a", &["c1", "c1"]);
    let b = intent("order-b", &["c1"]);
    let lease_a = new(journal, &a, HOLD).await;
    let lease_b = new(journal, &b, HOLD).await;
    journal
        .record(&lease_a, 0, &created("p1", "c1"))
        .await
        .unwrap();
    let p1 = PostId::new("p1");
    assert_eq!(
        journal.claimed_by(&p1).await.unwrap(),
        Some((a.key.clone(), 0))
    );
    assert_eq!(journal.claimed_by(&PostId::new("p2")).await.unwrap(), None);

    for (lease, slot) in [(&lease_a, 1), (&lease_b, 0)] {
        match conflict(journal.record(lease, slot, &created("p1", "c1")).await) {
            Conflict::Claimed { post, key, slot } => {
                assert_eq!((post, key, slot), (p1.clone(), a.key.clone(), 0));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        entry(journal, &a.key).await.states,
        [created("p1", "c1"), SlotState::Pending]
    );
    assert_eq!(entry(journal, &b.key).await.states, [SlotState::Pending]);

    // The claiming slot may record its post again (say, with a newer status).
    let mut sent = created("p1", "c1");
    if let SlotState::Created(post) = &mut sent {
        post.status = PostStatus::Sent;
    }
    journal.record(&lease_a, 0, &sent).await.unwrap();
    assert_eq!(entry(journal, &a.key).await.states[0], sent);
}

async fn a_created_slot_keeps_its_post(journal: &dyn Journal) {
    let intent = intent("order-1", &["c1", "c2"]);
    let lease = new(journal, &intent, HOLD).await;
    journal
        .record(&lease, 0, &created("p1", "c1"))
        .await
        .unwrap();
    for later in [
        SlotState::Unknown,
        SlotState::Pending,
        failed(),
        created("p2", "c1"),
    ] {
        let error = journal.record(&lease, 0, &later).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Journal, "{error}");
    }
    // Other states move freely: a failed slot may be sent again and be created.
    journal.record(&lease, 1, &failed()).await.unwrap();
    journal
        .record(&lease, 1, &SlotState::Unknown)
        .await
        .unwrap();
    journal
        .record(&lease, 1, &created("p2", "c2"))
        .await
        .unwrap();
    assert_eq!(
        entry(journal, &intent.key).await.states,
        [created("p1", "c1"), created("p2", "c2")]
    );
    assert_eq!(
        journal.claimed_by(&PostId::new("p2")).await.unwrap(),
        Some((intent.key, 1))
    );
}

async fn every_state_and_snapshot_reads_back(journal: &dyn Journal) {
    let intent = intent("order-1", &["c1", "c2", "c3", "c4"]);
    let lease = new(journal, &intent, HOLD).await;
    let mut post = Post::new(
        "p1",
        "c2",
        Service::Linkedin,
        "Launch day!",
        PostStatus::Scheduled,
    );
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap();
    post.created_at = Some(at - chrono::TimeDelta::minutes(5));
    post.due_at = Some(at);
    post.assets = vec![Asset::image("https://example.com/a.png").with_alt_text("A rocket")];
    post.link = Some(Link::new("https://example.com/launch").with_title("Launch"));
    post.metrics.insert("likes".into(), 3.0);
    let states = [
        SlotState::Pending,
        SlotState::Created(Box::new(post)),
        failed(),
        SlotState::Unknown,
    ];
    for (slot, state) in states.iter().enumerate() {
        journal.record(&lease, slot, state).await.unwrap();
    }
    let ids = [PostId::new("old-1"), PostId::new("old-2")];
    journal
        .record_snapshot(&lease, &"c1".into(), &ids)
        .await
        .unwrap();
    journal
        .record_snapshot(&lease, &"c3".into(), &[])
        .await
        .unwrap();

    let found = entry(journal, &intent.key).await;
    assert_eq!(found.intent, intent, "sent_at keeps its nanoseconds");
    assert_eq!(found.states, states);
    assert_eq!(found.snapshots.len(), 2);
    assert_eq!(found.snapshots[&"c1".into()], ids);
    assert!(found.snapshots[&"c3".into()].is_empty());
    let error = match &found.states[2] {
        SlotState::Failed(failed) => failed.clone().into_error(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (error.kind(), error.legacy_code()),
        (ErrorKind::LimitReached, Some(1023))
    );
}

async fn slots_and_channels_outside_the_intent_are_refused(journal: &dyn Journal) {
    let intent = intent("order-1", &["c1", "c2"]);
    let lease = new(journal, &intent, HOLD).await;
    let error = journal
        .record(&lease, 2, &SlotState::Unknown)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    let error = journal
        .record_snapshot(&lease, &"c9".into(), &[])
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert_eq!(
        entry(journal, &intent.key).await.states,
        [SlotState::Pending, SlotState::Pending]
    );
}

async fn prune_forgets_old_unheld_entries_and_their_claims(journal: &dyn Journal) {
    let later = Utc::now() + chrono::TimeDelta::hours(1);
    let done = intent("done", &["c1"]);
    let held = intent("held", &["c1"]);
    let lease = new(journal, &done, HOLD).await;
    journal
        .record(&lease, 0, &created("p1", "c1"))
        .await
        .unwrap();
    journal.release(lease).await.unwrap();
    let held_lease = new(journal, &held, HOLD).await;
    journal
        .record(&held_lease, 0, &created("p2", "c1"))
        .await
        .unwrap();

    assert_eq!(
        journal
            .prune(Utc::now() - chrono::TimeDelta::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(journal.prune(later).await.unwrap(), 1);
    assert!(journal.entry(&done.key).await.unwrap().is_none());
    assert_eq!(journal.claimed_by(&PostId::new("p1")).await.unwrap(), None);
    assert_eq!(
        journal.claimed_by(&PostId::new("p2")).await.unwrap(),
        Some((held.key.clone(), 0))
    );
    // A forgotten key is a new intent.
    new(journal, &done, HOLD).await;

    journal.release(held_lease).await.unwrap();
    assert_eq!(
        journal.prune(later).await.unwrap(),
        1,
        "released, then pruned"
    );
    assert!(journal.entry(&held.key).await.unwrap().is_none());
}

async fn prune_derived_keeps_given_keys(journal: &dyn Journal) {
    let later = Utc::now() + chrono::TimeDelta::hours(1);
    let derived = intent_of(
        IdempotencyKey::derive(&NewPost::new("Hi").channel("c1")),
        &["c1"],
    );
    let given = intent("order-1", &["c1"]);
    for intent in [&derived, &given] {
        let lease = new(journal, intent, HOLD).await;
        journal.release(lease).await.unwrap();
    }
    assert_eq!(journal.prune_derived(later).await.unwrap(), 1);
    assert!(journal.entry(&derived.key).await.unwrap().is_none());
    entry(journal, &given.key).await;
}

/// Runs each case on a fresh journal of each store.
macro_rules! suite {
    ($($case:ident),+ $(,)?) => {
        mod memory {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&MemoryJournal::new()).await;
                }
            )+
        }

        mod sqlite {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    let file = temp_file(stringify!($case));
                    super::$case(&SqliteJournal::open(&file.0).unwrap()).await;
                }
            )+
        }

        #[cfg(feature = "redis")]
        mod redis {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(server) = redis_server::Redis::start() else {
                        return;
                    };
                    let fleet = buffer_bridge::fleet::Fleet::new(&server.url()).unwrap();
                    super::$case(&fleet.journal()).await;
                }
            )+
        }
    };
}

suite!(
    a_new_key_is_journaled_once_then_its_entry_is_returned,
    a_live_lease_is_exclusive_until_released,
    an_expired_lease_is_refused_and_its_key_taken_over,
    renew_extends_only_a_live_lease,
    a_post_is_claimed_by_one_slot_of_one_key,
    a_created_slot_keeps_its_post,
    every_state_and_snapshot_reads_back,
    slots_and_channels_outside_the_intent_are_refused,
    prune_forgets_old_unheld_entries_and_their_claims,
    prune_derived_keeps_given_keys,
);

// ---- SQLite across threads and processes ----------------------------------------------------

/// Two journals on one file, in two threads, race `begin` for one key 100 times: exactly one
/// takes it each time, and the other is told it is held (not a busy error, not a second New).
#[test]
fn two_journals_on_one_file_never_both_take_a_key() {
    let file = temp_file("race");
    let journals = [
        SqliteJournal::open(&file.0).unwrap(),
        SqliteJournal::open(&file.0).unwrap(),
    ];
    never_both_take_a_key([&journals[0], &journals[1]]);
}

/// The same race between two connections to one Redis, as two processes of a fleet have.
#[cfg(feature = "redis")]
#[test]
fn two_journals_on_one_redis_never_both_take_a_key() {
    let Some(server) = redis_server::Redis::start() else {
        return;
    };
    let journal = || {
        buffer_bridge::fleet::Fleet::new(&server.url())
            .unwrap()
            .journal()
    };
    let journals = [journal(), journal()];
    never_both_take_a_key([&journals[0], &journals[1]]);
}

fn never_both_take_a_key(journals: [&dyn Journal; 2]) {
    let barrier = std::sync::Barrier::new(2);
    let outcomes: Vec<Vec<Result<bool, Error>>> = std::thread::scope(|scope| {
        let racers: Vec<_> = journals
            .iter()
            .map(|journal| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    (0..100)
                        .map(|round| {
                            let intent = intent(&format!("race-{round}"), &["c1"]);
                            barrier.wait();
                            runtime
                                .block_on(journal.begin(&intent, HOLD))
                                .map(|(begun, _)| begun == Begun::New)
                        })
                        .collect()
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert!(outcomes.iter().all(|racer| racer.len() == 100));
    for (round, results) in outcomes[0].iter().zip(&outcomes[1]).enumerate() {
        let results = [results.0, results.1];
        let news = results.iter().filter(|r| matches!(r, Ok(true))).count();
        assert_eq!(news, 1, "round {round}: {results:?}");
        let held = results
            .iter()
            .filter(|r| {
                matches!(r, Err(e) if matches!(e.journal_conflict(), Some(Conflict::Held { .. })))
            })
            .count();
        assert_eq!(held, 1, "round {round}: {results:?}");
    }
}

/// Selects the child role of [`a_killed_process_loses_no_committed_record`].
const CHILD_FILE: &str = "BUFFER_BRIDGE_JOURNAL_CHILD_FILE";
const CHILD_ROUND: &str = "BUFFER_BRIDGE_JOURNAL_CHILD_ROUND";
/// A child stops by itself after this many writes, should its parent be gone.
const CHILD_MAX_WRITES: usize = 2_000;

fn child_post(round: &str, write: usize) -> String {
    format!("post-{round}-{write}")
}

/// The child: journals in a loop and prints each call that returned, until it is killed.
async fn journal_until_killed(file: &str, round: &str) {
    use std::io::Write;
    let journal = SqliteJournal::open(file).unwrap();
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "committed {line}").unwrap();
        out.flush().unwrap();
    };
    for write in 0..CHILD_MAX_WRITES {
        let name = format!("crash-{round}-{write}");
        let intent = intent(&name, &["c1", "c2", "c3"]);
        let lease = new(&journal, &intent, HOLD).await;
        say(format!("begun {name}"));
        let post = child_post(round, write);
        journal
            .record(&lease, 0, &created(&post, "c1"))
            .await
            .unwrap();
        say(format!("created {name}"));
        journal.record(&lease, 1, &failed()).await.unwrap();
        say(format!("failed {name}"));
        journal
            .record_snapshot(&lease, &"c3".into(), &[PostId::new("old")])
            .await
            .unwrap();
        say(format!("snapshot {name}"));
        journal.release(lease).await.unwrap();
        say(format!("released {name}"));
    }
}

/// A child process journals in a loop and is killed (`SIGKILL` on Unix) at a different point
/// in each of three rounds on one file; every record it printed as committed is there after.
#[tokio::test]
async fn a_killed_process_loses_no_committed_record() {
    if let (Ok(file), Ok(round)) = (std::env::var(CHILD_FILE), std::env::var(CHILD_ROUND)) {
        return journal_until_killed(&file, &round).await;
    }
    let file = temp_file("killed");
    let mut committed = Vec::new();
    for (round, kill_after) in [(0, 7), (1, 23), (2, 41)] {
        committed.push((round, run_child_until(&file, round, kill_after)));
    }

    let journal = SqliteJournal::open(&file.0).unwrap();
    for (round, lines) in committed {
        let mut steps = std::collections::HashMap::<String, Vec<String>>::new();
        for line in &lines {
            let (step, name) = line.split_once(' ').expect("step and key");
            steps
                .entry(name.to_owned())
                .or_default()
                .push(step.to_owned());
        }
        assert!(steps.len() >= 2, "round {round}: {lines:?}");
        for (name, steps) in steps {
            let write: usize = name.rsplit('-').next().unwrap().parse().unwrap();
            let key = key(&name);
            let found = entry(&journal, &key).await;
            assert_eq!(found.intent.slots.len(), 3, "{name}");
            let has = |step: &str| steps.iter().any(|s| s == step);
            let post = child_post(&round.to_string(), write);
            if has("created") {
                assert_eq!(found.states[0], created(&post, "c1"), "{name}");
                assert_eq!(
                    journal.claimed_by(&PostId::new(post)).await.unwrap(),
                    Some((key.clone(), 0))
                );
            }
            if has("failed") {
                assert_eq!(found.states[1], failed(), "{name}");
            }
            if has("snapshot") {
                assert_eq!(
                    found.snapshots[&"c3".into()],
                    [PostId::new("old")],
                    "{name}"
                );
            }
            assert_eq!(found.states[2], SlotState::Pending, "{name}");
            let again = journal.begin(&found.intent, HOLD).await;
            if has("released") {
                assert!(
                    matches!(again, Ok((Begun::Existing(_), _))),
                    "{name}: {again:?}"
                );
            } else {
                // Killed while holding it (its lease runs until it expires), or after the
                // release committed but before it was printed: never new, never unreadable.
                let held = matches!(&again, Err(e) if matches!(e.journal_conflict(), Some(Conflict::Held { .. })));
                let existing = matches!(again, Ok((Begun::Existing(_), _)));
                assert!(held || existing, "{name}: {again:?}");
            }
        }
    }
}

/// Runs one child round and kills it after `kill_after` committed lines; returns every
/// committed line it printed before it died.
fn run_child_until(file: &TempFile, round: usize, kill_after: usize) -> Vec<String> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "a_killed_process_loses_no_committed_record",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_FILE, &file.0)
        .env(CHILD_ROUND, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, read) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(record) = line.strip_prefix("committed ")
                && lines.send(record.to_owned()).is_err()
            {
                break;
            }
        }
    });
    let mut committed = Vec::new();
    while committed.len() < kill_after {
        // Bounded so a stuck child fails the test instead of hanging it.
        match read.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => committed.push(line),
            Err(e) => {
                let _ = child.kill();
                panic!("round {round}: the child stopped after {committed:?}: {e}");
            }
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child was killed, not finished");
    // What it printed before it died is still in the pipe.
    reader.join().unwrap();
    committed.extend(read.try_iter());
    committed
}

// ---- Derived keys ---------------------------------------------------------------------------

fn launch() -> NewPost {
    let mut post = NewPost::new("Launch day! https://example.com/launch")
        .channel("4eb854340acb04e870000010")
        .channel("4eb9276e0acb04bb81000067")
        .asset(Asset::image("https://example.com/a.png").with_alt_text("A rocket"))
        .asset(Asset::video("https://example.com/b.mp4"))
        .link(Link::new("https://example.com/launch").with_title("Launch"))
        .when(When::At(launch_time()));
    post.shorten = Some(false);
    post
}

fn launch_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap()
}

#[test]
fn a_derived_key_is_fixed_by_the_content() {
    // Computed once, and again by an independent implementation of the encoding (Python's
    // hashlib). A change here means every derived key changed, and journals written by the
    // previous version no longer recognise their posts.
    let key = IdempotencyKey::derive(&launch());
    assert_eq!(key.as_str(), "auto:11c1f7e66c2c8c14ee9a26a666f89a84");
    assert!(key.is_derived());
    assert_eq!(IdempotencyKey::derive(&launch().clone()), key);
    assert_eq!(IdempotencyKey::new(key.to_string()).unwrap(), key);
}

#[test]
fn a_derived_key_changes_with_any_part_of_the_content() {
    let base = IdempotencyKey::derive(&launch());
    let variants: Vec<(&str, NewPost)> = vec![
        ("link url", {
            let mut p = launch();
            p.link = Some(Link::new("https://example.com/launch2").with_title("Launch"));
            p
        }),
        ("link title", {
            let mut p = launch();
            p.link = Some(Link::new("https://example.com/launch"));
            p
        }),
        ("no link", {
            let mut p = launch();
            p.link = None;
            p
        }),
        ("one asset's url", {
            let mut p = launch();
            p.assets[1] = Asset::video("https://example.com/c.mp4");
            p
        }),
        ("one asset's alt text", {
            let mut p = launch();
            p.assets[0] = Asset::image("https://example.com/a.png");
            p
        }),
        ("one asset's kind", {
            let mut p = launch();
            p.assets[1] = Asset::image("https://example.com/b.mp4");
            p
        }),
        ("one asset fewer", {
            let mut p = launch();
            p.assets.pop();
            p
        }),
        ("asset order", {
            let mut p = launch();
            p.assets.reverse();
            p
        }),
        ("due time by a second", {
            launch().when(When::At(launch_time() + chrono::TimeDelta::seconds(1)))
        }),
        ("due time by a nanosecond", {
            launch().when(When::At(launch_time() + chrono::TimeDelta::nanoseconds(1)))
        }),
        ("queue instead of a time", launch().when(When::Queue)),
        ("channel order", {
            let mut p = launch();
            p.channel_ids.reverse();
            p
        }),
        ("one channel fewer", {
            let mut p = launch();
            p.channel_ids.pop();
            p
        }),
        ("text", {
            let mut p = launch();
            p.text = Some("Launch day! https://example.com/launch ".into());
            p
        }),
        ("shortening", {
            let mut p = launch();
            p.shorten = None;
            p
        }),
        ("a draft", launch().as_draft()),
    ];
    let mut seen = std::collections::HashSet::from([base.clone()]);
    for (change, post) in variants {
        let key = IdempotencyKey::derive(&post);
        assert_ne!(key, base, "{change}");
        assert!(seen.insert(key), "{change} collides with another variant");
    }
    let modes = [When::Queue, When::Next, When::Now];
    let keys: std::collections::HashSet<_> = modes
        .into_iter()
        .map(|when| IdempotencyKey::derive(&launch().when(when)))
        .collect();
    assert_eq!(keys.len(), 3);
}
