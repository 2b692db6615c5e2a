//! A side-by-side run: answer from the classic API, compare GraphQL in the background.
//!
//! Runs on an in-process simulator of Buffer, so it needs no account:
//!
//! ```text
//! cargo run --example side_by_side
//! ```
//!
//! It reads the account through a `Shadow` twice: once with both APIs healthy, printing every
//! comparison, and once with the GraphQL side failing and slow, to show that what the caller
//! gets does not change.

use buffer_bridge::graphql::GraphQl;
use buffer_bridge::model::{PostList, PostQuery};
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::shadow::{Comparison, MemoryReporter, Shadow, Verdict};
use buffer_bridge::{Backend, BackendExt};
use buffer_sim::{Api, Fault, FaultRule, Faults, Simulator};
use std::sync::Arc;
use std::time::Duration;

#[tokio::main]
async fn main() -> buffer_bridge::Result<()> {
    let sim = Simulator::start().await;
    let rest: Arc<dyn Backend> = Arc::new(
        ClassicRest::builder()
            .access_token(sim.access_token())
            .base_url(sim.rest_url())
            .build()?,
    );
    let graphql: Arc<dyn Backend> = Arc::new(
        GraphQl::builder()
            .api_key(sim.api_key())
            .base_url(sim.graphql_url())
            .build()?,
    );

    let reporter = MemoryReporter::new();
    let shadow = Shadow::builder(rest.clone(), graphql.clone())
        .reporter(reporter.clone())
        .candidate_timeout(Duration::from_secs(2))
        .build();

    println!("== both APIs healthy ==");
    let healthy = read_everything(&shadow).await?;
    shadow.settled().await;
    for comparison in reporter.take() {
        print_comparison(&comparison);
    }

    println!("\n== GraphQL failing (503s, dropped connections, 300 ms latency) ==");
    sim.set_faults(
        Faults::seeded(7)
            .rule(FaultRule::new(Fault::Latency(Duration::from_millis(300))).api(Api::GraphQl))
            .rule(
                FaultRule::new(Fault::ServerError(503))
                    .api(Api::GraphQl)
                    .share(0.5),
            )
            .rule(FaultRule::new(Fault::Drop).api(Api::GraphQl).share(0.5)),
    );
    let faulty = read_everything(&shadow).await?;
    shadow.settled().await;
    let failed = reporter
        .take()
        .iter()
        .filter(|c| c.verdict() == Verdict::Failed)
        .count();
    println!("the candidate failed {failed} comparisons;");
    println!(
        "the caller's answers are {}",
        if healthy == faulty {
            "unchanged"
        } else {
            "DIFFERENT (a bug)"
        }
    );
    Ok(())
}

/// Reads the account, its channels and each channel's queue; returns the answers as JSON.
async fn read_everything(backend: &dyn Backend) -> buffer_bridge::Result<String> {
    let mut answers = Vec::new();
    answers.push(serde_json::to_value(backend.account().await?).unwrap_or_default());
    let channels = backend.channels().await?;
    answers.push(serde_json::to_value(&channels).unwrap_or_default());
    for channel in &channels {
        let queue = backend
            .posts(&PostQuery::new(channel.id.clone(), PostList::Queue))
            .await?;
        // Page tokens name the backend that made them; compare the posts.
        answers.push(serde_json::to_value(&queue.items).unwrap_or_default());
    }
    Ok(serde_json::Value::Array(answers).to_string())
}

fn print_comparison(comparison: &Comparison) {
    let target = comparison
        .request
        .channels()
        .first()
        .map(|id| format!(" {id}"))
        .unwrap_or_default();
    println!(
        "{}{target}: {} ({} ms | {} ms)",
        comparison.operation,
        comparison.verdict(),
        comparison.primary.elapsed.as_millis(),
        comparison.candidate.elapsed.as_millis()
    );
    for difference in &comparison.outcome.differences {
        println!(
            "    {}: {} | {}",
            difference.path,
            shown(difference.primary.as_ref()),
            shown(difference.candidate.as_ref())
        );
    }
    if let Some(detail) = &comparison.outcome.detail {
        println!("    {detail}");
    }
}

fn shown(value: Option<&serde_json::Value>) -> String {
    value.map_or_else(|| "(absent)".to_owned(), ToString::to_string)
}
