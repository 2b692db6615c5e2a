//! Writes that happen once: idempotency keys, the journal, `Unknown`, and what to do after a
//! crash.
//!
//! Runs on an in-process simulator of Buffer, so it needs no account:
//!
//! ```text
//! cargo run --example exactly_once
//! ```
//!
//! For each API it shows three things, checked against the simulator's store:
//!
//! 1. a create whose answer is lost after Buffer made the post: the write path looks the post
//!    up instead of sending it again, and reports it created;
//! 2. a create abandoned mid-flight (the future dropped, as a crash or a cancelled task
//!    would), then a "new process" with the same SQLite journal asking what became of it with
//!    `reconcile`, and calling the same create again: it posts nothing twice;
//! 3. the same post sent again with the same key: the journal answers, nothing is sent.

use buffer_bridge::journal::{IdempotencyKey, SqliteJournal};
use buffer_bridge::model::{ChannelResult, NewPost, When};
use buffer_bridge::retry::Retrying;
use buffer_bridge::{Backend, BackendExt, BackendKind, graphql::GraphQl, rest::ClassicRest};
use buffer_sim::{Fault, FaultRule, Faults, Simulator};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[tokio::main]
async fn main() -> buffer_bridge::Result<()> {
    let sim = Simulator::start().await;
    let channel = sim.demo().channels[0].id.clone();
    for kind in BackendKind::ALL {
        println!("── {kind} ──");
        let journal_path = scratch_journal(kind);
        let journal = Arc::new(SqliteJournal::open(&journal_path)?);
        // A key held by a process that dies is taken over when its lease ends (120 s by
        // default, longer than a request may still be on its way); short here, for the demo.
        let client = Retrying::new(backend(&sim, kind)?)
            .journal(journal)
            .lease(Duration::from_secs(1));

        // 1. Buffer makes the post, then the connection drops before the answer.
        let route = create_route(kind);
        sim.set_faults(
            Faults::seeded(1).rule(FaultRule::new(Fault::LoseResponse).route(route).times(1)),
        );
        let post = NewPost::new(format!("Launch notes ({kind})"))
            .channel(channel.as_str())
            .when(When::Next)
            .idempotency_key(IdempotencyKey::new(format!("launch-notes-{kind}"))?);
        let outcome = client.create_post(&post).await?;
        report(
            "answer lost after the post was made",
            &outcome.channels[0].result,
        );
        println!(
            "   posts with that text in Buffer: {}",
            sim.store()
                .count_with_text(channel.as_str(), post.text.as_deref().unwrap_or_default())
        );

        // 2. A create abandoned mid-flight, then a new process with the same journal.
        sim.set_faults(
            Faults::seeded(2)
                .rule(FaultRule::new(Fault::Latency(Duration::from_millis(300))).route(route)),
        );
        let abandoned = NewPost::new(format!("Release candidate ({kind})"))
            .channel(channel.as_str())
            .idempotency_key(IdempotencyKey::new(format!("release-candidate-{kind}"))?);
        let cut_short =
            tokio::time::timeout(Duration::from_millis(100), client.create_post(&abandoned)).await;
        println!(
            "2. the create was dropped mid-flight: {}",
            if cut_short.is_err() {
                "no answer"
            } else {
                "it finished"
            }
        );
        drop(client);
        sim.clear_faults();
        tokio::time::sleep(Duration::from_millis(1200)).await;

        let restarted = Retrying::new(backend(&sim, kind)?)
            .journal(Arc::new(SqliteJournal::open(&journal_path)?));
        let key = abandoned.key();
        for outcome in restarted.reconcile(&key).await? {
            report(
                "reconcile(key) in the new process",
                &outcome.channels[0].result,
            );
        }
        let again = restarted.create_post(&abandoned).await?;
        report("the same create called again", &again.channels[0].result);
        println!(
            "   posts with that text in Buffer: {}",
            sim.store().count_with_text(
                channel.as_str(),
                abandoned.text.as_deref().unwrap_or_default()
            )
        );

        // 3. The same post, the same key: answered from the journal.
        sim.clear_requests();
        let repeat = restarted.create_post(&post).await?;
        report(
            "the first post sent again with its key",
            &repeat.channels[0].result,
        );
        println!("   create requests sent for it: {}", sim.requests_to(route));
        let _ = std::fs::remove_file(&journal_path);
    }
    Ok(())
}

fn backend(sim: &Simulator, kind: BackendKind) -> buffer_bridge::Result<Arc<dyn Backend>> {
    Ok(match kind {
        BackendKind::GraphQl => Arc::new(
            GraphQl::builder()
                .api_key(sim.api_key())
                .base_url(sim.graphql_url())
                .build()?,
        ),
        _ => Arc::new(
            ClassicRest::builder()
                .access_token(sim.access_token())
                .base_url(sim.rest_url())
                .build()?,
        ),
    })
}

fn create_route(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::GraphQl => "createPost",
        _ => "/1/updates/create.json",
    }
}

fn report(what: &str, result: &ChannelResult) {
    let said = match result {
        ChannelResult::Created(post) => format!("created {}", post.id),
        ChannelResult::Failed(error) => format!("not created: {error}"),
        ChannelResult::Unknown(error) => format!("unknown: {error}"),
    };
    println!("   {what}: {said}");
}

fn scratch_journal(kind: BackendKind) -> PathBuf {
    std::env::temp_dir().join(format!(
        "buffer-bridge-example-{}-{kind}.sqlite",
        std::process::id()
    ))
}
