//! `compare --writes --sim`: the write scenarios of the preflight (a post with an image and a
//! link preview to Twitter, Facebook and Instagram, then one scenario per rule of the network
//! rules table) created through both APIs, and per channel what differs: created on one and
//! refused on the other, with the reason, or created on both but not alike.
//!
//! Each API gets its own simulator, both seeded alike with one channel on every network, so
//! each side starts from the same account and neither sees the other's posts. Every post is
//! deleted once compared, so the next one takes the same queue slot on both sides. Writes run
//! only on the simulator: a comparison must never post to a real account.

use crate::look::print_json;
use crate::table::{Table, shorten};
use buffer_bridge::graphql::GraphQl;
use buffer_bridge::model::{Channel, ChannelId, ChannelResult, NewPost, Post, Service};
use buffer_bridge::preflight::{Problem, check_new_post, scenarios};
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::shadow::{Comparator, Difference, Normaliser, Verdict};
use buffer_bridge::{Backend, BackendExt, BackendKind, Error, Operation, Response};
use buffer_sim::{ChannelSpec, RateLimits, Simulator};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::process::ExitCode;
use std::sync::Arc;

/// The option that turns `compare` into a comparison of writes.
#[derive(clap::Args)]
pub struct WriteArgs {
    /// Compare writes instead of reads: create the preflight's write scenarios through both
    /// APIs on the simulator (needs --sim) and report per channel what differs.
    #[arg(long)]
    pub writes: bool,
}

/// One side of the comparison: an API on its own simulator.
struct Side {
    kind: BackendKind,
    // Kept alive for the backend to talk to.
    _sim: Simulator,
    backend: Arc<dyn Backend>,
    channels: Vec<Channel>,
}

/// What one API did with one channel's post.
#[derive(Serialize)]
struct SideOutcome {
    created: bool,
    /// Why it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<String>,
    /// What the preflight said for this channel on this API, before the create.
    preflight: Vec<Problem>,
    /// Whether the preflight predicted the outcome: an error exactly where the API refused.
    predicted: bool,
    #[serde(skip)]
    post: Option<Post>,
}

/// One channel of one scenario.
#[derive(Serialize)]
struct Row {
    scenario: String,
    network: Service,
    channel: ChannelId,
    rest: SideOutcome,
    graphql: SideOutcome,
    /// `same` or `differs`.
    verdict: &'static str,
    /// Where the two created posts differ, when both were created.
    #[serde(rename = "diff", skip_serializing_if = "Vec::is_empty")]
    differences: Vec<Difference>,
}

#[derive(Serialize)]
struct Summary {
    creates: usize,
    same: usize,
    differs: usize,
    /// Channels GraphQL refused where classic created the post.
    refused_only_on_graphql: usize,
    /// Channels classic refused where GraphQL created the post.
    refused_only_on_rest: usize,
    /// Outcomes the preflight did not predict (a gap in the rules table).
    unpredicted: usize,
}

#[derive(Serialize)]
struct Report<'a> {
    writes: &'a [Row],
    summary: Summary,
}

/// Runs the write scenarios on both APIs and prints what differs. Exit status 1 when the
/// preflight failed to predict an outcome, or with `strict` when anything differs.
pub async fn run(sim: bool, json: bool, strict: bool) -> Result<ExitCode, String> {
    if !sim {
        return Err(
            "compare --writes creates posts, so it runs only on the simulator: add \
                    --sim (to check a post for your own channels, use NewPost::check)"
                .to_owned(),
        );
    }
    let rest = Side::start(BackendKind::ClassicRest, None).await?;
    let start = rest._sim.clock().now();
    let graphql = Side::start(BackendKind::GraphQl, Some(start)).await?;
    let comparator = Comparator::default()
        .normalise(Normaliser::mask("data.id", "<post id>").for_operation(Operation::Post));

    let mut rows = Vec::new();
    let plans = scenarios(&rest.channels, start)
        .into_iter()
        .zip(scenarios(&graphql.channels, start));
    for (on_rest, on_graphql) in plans {
        for (rest_post, graphql_post) in on_rest.posts.iter().zip(&on_graphql.posts) {
            let rest_outcomes = rest.create(rest_post, start).await?;
            let graphql_outcomes = graphql.create(graphql_post, start).await?;
            for ((channel, rest_side), (_, graphql_side)) in
                rest_outcomes.into_iter().zip(graphql_outcomes)
            {
                let network = rest.service_of(&channel);
                rows.push(compared(
                    &comparator,
                    &on_rest.name,
                    network,
                    channel,
                    rest_side,
                    graphql_side,
                ));
            }
            rest.delete_created(&rows).await?;
            graphql.delete_created(&rows).await?;
        }
    }

    let summary = summary(&rows);
    let exit = if summary.unpredicted > 0 || (strict && summary.differs > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    if json {
        print_json(&Report {
            writes: &rows,
            summary,
        })?;
    } else {
        print(&rows, &summary);
    }
    Ok(exit)
}

impl Side {
    /// A simulator with one channel on every network, its clock standing still (at `start`,
    /// else now) and its rate limits off, and a backend of `kind` on it.
    async fn start(kind: BackendKind, start: Option<DateTime<Utc>>) -> Result<Side, String> {
        let mut builder = Simulator::builder()
            .demo(false)
            .clock_scale(0.0)
            .rate_limits(RateLimits {
                enabled: false,
                ..RateLimits::default()
            });
        if let Some(start) = start {
            builder = builder.start_time(start);
        }
        let sim = builder.start().await;
        for service in buffer_sim::Service::ALL {
            let spec = ChannelSpec::new(sim.organization_id(), service, service.as_str());
            sim.store().add_channel(spec);
        }
        let built = match kind {
            BackendKind::ClassicRest => ClassicRest::builder()
                .access_token(sim.access_token())
                .base_url(sim.rest_url())
                .build()
                .map(|b| Arc::new(b) as Arc<dyn Backend>),
            BackendKind::GraphQl => GraphQl::builder()
                .api_key(sim.api_key())
                .base_url(sim.graphql_url())
                .build()
                .map(|b| Arc::new(b) as Arc<dyn Backend>),
        };
        let backend = built.map_err(|e| e.to_string())?;
        let channels = backend.channels().await.map_err(|e| e.to_string())?;
        Ok(Side {
            kind,
            _sim: sim,
            backend,
            channels,
        })
    }

    fn service_of(&self, id: &ChannelId) -> Service {
        self.channels
            .iter()
            .find(|c| &c.id == id)
            .map_or_else(|| Service::Unknown(String::new()), |c| c.service.clone())
    }

    /// Checks `post`, creates it, and tells per channel what happened.
    async fn create(
        &self,
        post: &NewPost,
        now: DateTime<Utc>,
    ) -> Result<Vec<(ChannelId, SideOutcome)>, String> {
        let problems = check_new_post(post, &self.channels, self.kind, now);
        let answer = self.backend.create_post(post).await;
        let mut outcomes = Vec::new();
        for id in &post.channel_ids {
            let result: Result<Post, Error> = match &answer {
                Err(error) => Err(error.clone()),
                Ok(outcome) => outcome
                    .channels
                    .iter()
                    .find(|c| &c.channel_id == id)
                    .map(|c| c.result.clone())
                    .ok_or_else(|| format!("the {} create did not report channel {id}", self.kind))
                    .and_then(|result| match result {
                        ChannelResult::Unknown(error) => Err(format!(
                            "the {} create's outcome on channel {id} is unknown: {error}",
                            self.kind
                        )),
                        known => Ok(known.into_result()),
                    })?,
            };
            let preflight: Vec<Problem> = problems
                .iter()
                .filter(|p| &p.channel_id == id)
                .cloned()
                .collect();
            let expected_refusal = preflight.iter().any(Problem::is_error);
            let (post, refused) = match result {
                Ok(post) => (Some(post), None),
                Err(error) => (None, Some(reason(&error))),
            };
            outcomes.push((
                id.clone(),
                SideOutcome {
                    created: post.is_some(),
                    predicted: expected_refusal == refused.is_some(),
                    refused,
                    preflight,
                    post,
                },
            ));
        }
        Ok(outcomes)
    }

    /// Deletes this side's posts of the rows, so the next create finds the same queue.
    async fn delete_created(&self, rows: &[Row]) -> Result<(), String> {
        for row in rows {
            let side = match self.kind {
                BackendKind::ClassicRest => &row.rest,
                BackendKind::GraphQl => &row.graphql,
            };
            if let Some(post) = &side.post {
                match self.backend.delete_post(&post.id).await {
                    Ok(()) | Err(Error::NotFound { .. }) => {}
                    Err(error) => return Err(format!("{}: {error}", self.kind)),
                }
            }
        }
        Ok(())
    }
}

/// Buffer's (or the backend's) words, with the classic code when there is one.
fn reason(error: &Error) -> String {
    match error.legacy_code() {
        Some(code) => format!("{} ({code})", error.message()),
        None => error.message(),
    }
}

fn compared(
    comparator: &Comparator,
    scenario: &str,
    network: Service,
    channel: ChannelId,
    rest: SideOutcome,
    graphql: SideOutcome,
) -> Row {
    let differences = match (&rest.post, &graphql.post) {
        (Some(a), Some(b)) => {
            let outcome = comparator.compare(
                Operation::Post,
                &Ok(Response::Post(a.clone())),
                &Ok(Response::Post(b.clone())),
            );
            match outcome.verdict {
                Verdict::Match => Vec::new(),
                _ => outcome.differences,
            }
        }
        _ => Vec::new(),
    };
    let same = rest.created == graphql.created && differences.is_empty();
    Row {
        scenario: scenario.to_owned(),
        network,
        channel,
        rest,
        graphql,
        verdict: if same { "same" } else { "differs" },
        differences,
    }
}

fn summary(rows: &[Row]) -> Summary {
    let count = |f: &dyn Fn(&Row) -> bool| rows.iter().filter(|r| f(r)).count();
    Summary {
        creates: rows.len(),
        same: count(&|r| r.verdict == "same"),
        differs: count(&|r| r.verdict == "differs"),
        refused_only_on_graphql: count(&|r| r.rest.created && !r.graphql.created),
        refused_only_on_rest: count(&|r| !r.rest.created && r.graphql.created),
        unpredicted: count(&|r| !r.rest.predicted || !r.graphql.predicted),
    }
}

fn cell(side: &SideOutcome) -> String {
    let warnings = side.preflight.iter().filter(|p| !p.is_error()).count();
    let warned = match warnings {
        0 => String::new(),
        n => format!(" ({n} warning{})", if n == 1 { "" } else { "s" }),
    };
    let unpredicted = if side.predicted {
        ""
    } else {
        " [not predicted]"
    };
    match &side.refused {
        None => format!("created{warned}{unpredicted}"),
        Some(reason) => format!("refused: {}{unpredicted}", shorten(reason, 52)),
    }
}

fn print(rows: &[Row], summary: &Summary) {
    let mut table = Table::new(["scenario", "network", "rest", "graphql", "verdict", "note"]);
    for row in rows {
        let note = row
            .differences
            .first()
            .map(|d| {
                let more = row.differences.len() - 1;
                match more {
                    0 => d.path.to_string(),
                    n => format!("{} (+{n} more)", d.path),
                }
            })
            .unwrap_or_default();
        table.row([
            row.scenario.clone(),
            row.network.to_string(),
            cell(&row.rest),
            cell(&row.graphql),
            row.verdict.to_owned(),
            note,
        ]);
    }
    print!("{table}");
    println!(
        "\n{} creates per API: {} same, {} differ ({} refused only on GraphQL, {} only on \
         classic); {} outcome(s) the preflight did not predict",
        summary.creates,
        summary.same,
        summary.differs,
        summary.refused_only_on_graphql,
        summary.refused_only_on_rest,
        summary.unpredicted
    );
    println!(
        "Before a create, post.check(&channels, BackendKind::GraphQl) lists the same problems \
         for your own channels; README.md's \"What changes when you switch\" sums them up."
    );
}
