//! `buffer-sim`: serve a fake Buffer (classic REST under `/1/`, GraphQL at `/`) with a seeded
//! demo account until Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use buffer_sim::{Fault, FaultRule, Faults, NullScope, RateLimits, Simulator};
use clap::Parser;

/// A stateful fake Buffer that speaks both of Buffer's APIs on one address.
#[derive(Debug, Parser)]
#[command(name = "buffer-sim", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Classic REST access token the demo account accepts.
    #[arg(long, default_value = "sim-access-token")]
    token: String,
    /// GraphQL API key the demo account accepts.
    #[arg(long, default_value = "sim-api-key")]
    api_key: String,
    /// Start with an account and organization but no channels or posts.
    #[arg(long)]
    empty: bool,
    /// Seed for ids, shuffles and faults.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Simulated seconds per real second (0 freezes the clock).
    #[arg(long, default_value_t = 1.0)]
    clock_scale: f64,
    /// Scheduled posts a channel may hold (REST 1023 / LimitReachedError beyond).
    #[arg(long, default_value_t = 100)]
    queue_limit: usize,
    /// Hours during which the same text on a channel counts as a duplicate (REST 1025).
    #[arg(long, default_value_t = 24)]
    duplicate_hours: u64,
    /// Accept the same text twice on a channel (Buffer refuses recent duplicates).
    #[arg(long)]
    allow_duplicates: bool,
    /// Largest request body read; a larger one is refused with 413.
    #[arg(long, default_value_t = buffer_sim::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Milliseconds a client may take to send a request head, then its body; keep-alive
    /// connections idle this long are closed.
    #[arg(long, default_value_t = buffer_sim::DEFAULT_READ_TIMEOUT.as_millis() as u64)]
    read_timeout_ms: u64,
    /// Connections open at once; more wait until one closes.
    #[arg(long, default_value_t = buffer_sim::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Classic REST requests per token per minute.
    #[arg(long, default_value_t = 60)]
    rest_per_minute: u32,
    /// GraphQL requests per key per 15 minutes.
    #[arg(long, default_value_t = 100)]
    graphql_per_15min: u32,
    /// GraphQL requests per key per 24 hours.
    #[arg(long, default_value_t = 250)]
    graphql_per_day: u32,
    /// GraphQL requests per key per 30 days.
    #[arg(long, default_value_t = 3000)]
    graphql_per_30days: u32,
    /// Do not enforce rate limits (headers are still sent).
    #[arg(long)]
    no_rate_limits: bool,
    /// Fault: milliseconds added to every answer.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fault: share (0..1) of requests answered with an HTML 503.
    #[arg(long, default_value_t = 0.0)]
    server_errors: f64,
    /// Fault: share (0..1) of requests that start a burst of 429s.
    #[arg(long, default_value_t = 0.0)]
    rate_limit_bursts: f64,
    /// Fault: length of each 429 burst.
    #[arg(long, default_value_t = 3)]
    burst_length: u32,
    /// Fault: share (0..1) of connections closed without an answer.
    #[arg(long, default_value_t = 0.0)]
    drop_connections: f64,
    /// Fault: share (0..1) of requests handled but answered by a closed connection.
    #[arg(long, default_value_t = 0.0)]
    lost_responses: f64,
    /// Fault: share (0..1) of bodies cut in half.
    #[arg(long, default_value_t = 0.0)]
    truncated_bodies: f64,
    /// Fault: share (0..1) of answers replaced by an HTML page.
    #[arg(long, default_value_t = 0.0)]
    html_bodies: f64,
    /// Fault: share (0..1) of GraphQL requests handled, then answered `data: null` with a
    /// non-null field error (the mutation ran, its answer is lost).
    #[arg(long, default_value_t = 0.0)]
    null_answers: f64,
    /// Limit the faults to one API: `rest` or `graphql`.
    #[arg(long, value_parser = ["rest", "graphql"])]
    faults_api: Option<String>,
    /// Limit the faults to one route: a classic path prefix (`/1/updates/create.json`) or a
    /// GraphQL operation name or root field (`createPost`).
    #[arg(long, conflicts_with = "faults_api")]
    faults_route: Option<String>,
}

impl Args {
    fn faults(&self) -> Faults {
        let api = match self.faults_api.as_deref() {
            Some("rest") => Some(buffer_sim::Api::Rest),
            Some("graphql") => Some(buffer_sim::Api::GraphQl),
            _ => None,
        };
        let rules = [
            (
                Fault::Latency(Duration::from_millis(self.latency_ms)),
                if self.latency_ms > 0 { 1.0 } else { 0.0 },
            ),
            (Fault::ServerError(503), self.server_errors),
            (
                Fault::RateLimitBurst(self.burst_length.max(1)),
                self.rate_limit_bursts,
            ),
            (Fault::Drop, self.drop_connections),
            (Fault::LoseResponse, self.lost_responses),
            (Fault::Truncate, self.truncated_bodies),
            (Fault::Html, self.html_bodies),
            (Fault::NullField(NullScope::Data), self.null_answers),
        ];
        rules.into_iter().filter(|(_, share)| *share > 0.0).fold(
            Faults::seeded(self.seed),
            |faults, (fault, share)| {
                let rule = FaultRule::new(fault).share(share);
                faults.rule(match (&self.faults_route, api) {
                    (Some(route), _) => rule.route(route),
                    (None, Some(api)) => rule.api(api),
                    (None, None) => rule,
                })
            },
        )
    }
}

/// Where the simulator listens and what it seeded.
fn banner(sim: &Simulator, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "buffer-sim listening on {}", sim.addr())?;
    writeln!(
        out,
        "  classic REST: {}  (access token: {})",
        sim.rest_url(),
        sim.access_token()
    )?;
    writeln!(
        out,
        "  GraphQL:      {}  (API key: {})",
        sim.graphql_url(),
        sim.api_key()
    )?;
    writeln!(
        out,
        "  OAuth:        {}  (register clients at /reg; consent is automatic)",
        sim.issuer_url()
    )?;
    writeln!(out, "  organization: {}", sim.organization_id())?;
    for channel in &sim.demo().channels {
        writeln!(
            out,
            "  channel {} {} ({})",
            channel.id,
            channel.service.as_str(),
            channel.name
        )?;
    }
    writeln!(out, "Press Ctrl-C to stop.")?;
    out.flush()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let sim = Simulator::builder()
        .addr(args.addr)
        .access_token(args.token.clone())
        .api_key(args.api_key.clone())
        .demo(!args.empty)
        .seed(args.seed)
        .clock_scale(args.clock_scale)
        .queue_limit(args.queue_limit)
        .duplicate_window(Duration::from_secs(
            args.duplicate_hours.saturating_mul(3600),
        ))
        .reject_duplicates(!args.allow_duplicates)
        .max_body_bytes(args.max_body_bytes)
        .read_timeout(Duration::from_millis(args.read_timeout_ms))
        .max_connections(args.max_connections)
        .rate_limits(RateLimits {
            rest_per_minute: args.rest_per_minute,
            graphql_per_15_minutes: args.graphql_per_15min,
            graphql_per_day: args.graphql_per_day,
            graphql_per_30_days: args.graphql_per_30days,
            enabled: !args.no_rate_limits,
        })
        .faults(args.faults())
        .try_start()
        .await?;
    // A closed stdout (the parent stopped reading) must not stop the server.
    let _ = banner(&sim, &mut std::io::stdout().lock());
    sim.run_until(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}
