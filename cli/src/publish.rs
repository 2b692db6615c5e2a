//! `buffer-bridge publish PLAN`: a plan file run as a job, checked first, paced, resumable and
//! exactly once, with a progress bar and a final table (or JSON).

use crate::Api;
use crate::connection::Connection;
use crate::table::{Table, shorten};
use buffer_bridge::journal::{Journal, SqliteJournal};
use buffer_bridge::publish::{
    ChannelState, EXAMPLE_PLAN, Job, MediaCheck, Plan, Report, Stagger, Start, status,
};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Options of `publish`.
#[derive(Args)]
pub struct PublishArgs {
    /// The plan: JSON Lines, or CSV when the name ends in .csv (see --example-plan).
    #[arg(required_unless_present = "example_plan")]
    plan: Option<PathBuf>,
    /// Which API to publish through (default: BUFFER_BACKEND, else graphql).
    #[arg(long, value_enum)]
    backend: Option<Api>,
    /// Do everything but send: resolve channels, run preflight, report what would be sent.
    #[arg(long)]
    dry_run: bool,
    /// Send the valid lines even when some are invalid (by default one stops the job).
    #[arg(long)]
    skip_invalid: bool,
    /// Spread lines that give no time this far apart (45m, 2h, 1h30m, 1d).
    #[arg(long, value_name = "SPAN", value_parser = parse_span)]
    stagger: Option<Duration>,
    /// Where the stagger starts: "2026-12-02 09:00 Europe/Berlin" or an ISO 8601 time with an
    /// offset (default: now, to the minute; a rerun keeps the times of the lines it sent).
    #[arg(long, value_name = "TIME", requires = "stagger")]
    start: Option<String>,
    /// Create drafts for a person to approve in Buffer (GraphQL only).
    #[arg(long)]
    as_drafts: bool,
    /// The journal of what was sent (default: beside the plan, PLAN.journal.sqlite, or
    /// PLAN.sim.journal.sqlite with --sim).
    #[arg(long, value_name = "PATH")]
    journal: Option<PathBuf>,
    /// Before sending, fetch each asset URL's headers (HEAD, or a ranged GET) and report
    /// unreachable URLs, wrong types, pictures too large and signed URLs expiring before the
    /// post is due.
    #[arg(long)]
    check_media: bool,
    /// Print where the job stands from the journal, sending nothing.
    #[arg(long)]
    status: bool,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Print a small example plan and exit.
    #[arg(long)]
    example_plan: bool,
}

/// Runs `publish`; exit status 0 when every line is created (or would be, in a dry run), 1
/// when some line is not.
pub async fn run(sim: bool, config: Option<&Path>, args: PublishArgs) -> Result<ExitCode, String> {
    if args.example_plan {
        print!("{EXAMPLE_PLAN}");
        return Ok(ExitCode::SUCCESS);
    }
    let Some(plan_path) = &args.plan else {
        return Err("give a plan file (or --example-plan)".to_owned());
    };
    let plan = Plan::read(plan_path).map_err(|e| e.message())?;
    let journal_path = args.journal.clone().unwrap_or_else(|| {
        let suffix = if sim {
            "sim.journal.sqlite"
        } else {
            "journal.sqlite"
        };
        // Beside the file itself: a plan named through a symlink or `..` is the same plan,
        // with the same journal.
        let plan_file = std::fs::canonicalize(plan_path).unwrap_or_else(|_| plan_path.clone());
        let mut path = plan_file.into_os_string();
        path.push(format!(".{suffix}"));
        PathBuf::from(path)
    });
    let journal: Arc<dyn Journal> = Arc::new(
        SqliteJournal::open(&journal_path)
            .map_err(|e| format!("the journal {}: {}", journal_path.display(), e.message()))?,
    );
    if args.status {
        let report = status(&plan, journal.as_ref())
            .await
            .map_err(|e| e.message())?;
        return print(&report, args.json, false, &journal_path);
    }
    let connection = Connection::open(sim, config).await?;
    if sim && !args.json {
        eprintln!(
            "The simulator runs inside this command and forgets its posts when it ends; the \
             journal ({}) remembers what was created, so a rerun sends nothing.",
            journal_path.display()
        );
    }
    let backend = connection.write_path(args.backend, &journal_path)?;
    let mut job = Job::new(plan, backend, journal)
        .dry_run(args.dry_run)
        .skip_invalid(args.skip_invalid)
        .as_drafts(args.as_drafts);
    if args.check_media {
        job = job.check_media(MediaCheck::new().map_err(|e| e.message())?);
    }
    if let Some(every) = args.stagger {
        let start = match &args.start {
            Some(text) => Start::parse(text).map_err(|e| format!("--start: {}", e.message()))?,
            None => Start::at(next_minute()),
        };
        job = job.stagger(Stagger::new(start, every));
    }
    let bar = if args.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {bar:30} {pos}/{len} lines  {per_sec}  ETA {eta}  {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    };
    let shown = bar.clone();
    let report = job
        .on_progress(move |progress| {
            shown.set_length(progress.total as u64);
            shown.set_position(progress.done as u64);
            shown.set_message(format!(
                "{} created, {} failed, {} unknown",
                progress.created, progress.failed, progress.unknown
            ));
        })
        .run()
        .await
        .map_err(|e| e.to_string());
    bar.finish_and_clear();
    let report = report?;
    if let Some(served) = connection.requests_served()
        && !args.json
    {
        eprintln!("The simulator served {served} requests.");
    }
    print(&report, args.json, args.dry_run, &journal_path)
}

/// The next whole minute: the default start of a stagger.
fn next_minute() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now().timestamp();
    chrono::DateTime::from_timestamp(now - now % 60 + 60, 0).unwrap_or_else(chrono::Utc::now)
}

/// Prints the report as a table or JSON; exit status 1 unless every line is created (or, in a
/// dry run, would be sent).
fn print(report: &Report, json: bool, dry_run: bool, journal: &Path) -> Result<ExitCode, String> {
    if json {
        let text = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        if !report.problems.is_empty() {
            println!("Problems found before sending:");
            for problem in &report.problems {
                let severity = if problem.is_error() {
                    "error"
                } else {
                    "warning"
                };
                println!("  {severity}: {problem}");
            }
            println!();
        }
        let mut table = Table::new(["line", "channel", "state", "post", "due", "note"]);
        for line in &report.lines {
            for channel in &line.channels {
                let state = match (channel.state, channel.earlier) {
                    (ChannelState::Created, true) => "created earlier".to_owned(),
                    (ChannelState::NotSent, _) if dry_run && !report.refused => {
                        "would send".to_owned()
                    }
                    (state, _) => state.as_str().replace('_', " "),
                };
                table.row([
                    line.line.to_string(),
                    channel.channel.clone(),
                    state,
                    channel.post_id.clone().unwrap_or_default(),
                    channel
                        .due_at
                        .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_else(|| "queue".to_owned()),
                    shorten(channel.error.as_deref().unwrap_or_default(), 60),
                ]);
            }
        }
        print!("{table}");
        let t = &report.tally;
        println!(
            "\n{} created ({} earlier), {} failed, {} unknown, {} not sent. Journal: {}",
            t.created,
            t.earlier,
            t.failed,
            t.unknown,
            t.not_sent,
            journal.display()
        );
        if report.refused {
            println!(
                "Nothing was sent: fix the lines above, or pass --skip-invalid to send the rest."
            );
        } else if t.unknown > 0 || t.failed > 0 {
            println!(
                "Run the same command again: it reconciles unknown lines and resends failed ones."
            );
        }
    }
    let fine = !report.refused
        && report.lines.iter().all(|line| {
            line.channels.iter().all(|c| {
                c.state == ChannelState::Created || (dry_run && c.state == ChannelState::NotSent)
            })
        });
    Ok(if fine {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Reads a span such as `45m`, `2h`, `1h30m`, `90s` or `1d`.
fn parse_span(text: &str) -> Result<Duration, String> {
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(format!("{text:?}: use a span such as 45m, 2h, 1h30m or 1d")),
        };
        let n: u64 = number
            .parse()
            .map_err(|_| format!("{text:?}: a number goes before each unit"))?;
        total = total.saturating_add(n.saturating_mul(unit));
        number.clear();
    }
    if !number.is_empty() || total == 0 {
        return Err(format!(
            "{text:?}: use a span such as 45m, 2h, 1h30m or 1d (a unit after each number)"
        ));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::parse_span;
    use std::time::Duration;

    #[test]
    fn spans() {
        assert_eq!(parse_span("45m"), Ok(Duration::from_secs(2700)));
        assert_eq!(parse_span("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_span("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_span("45").is_err());
        assert!(parse_span("0m").is_err());
        assert!(parse_span("m").is_err());
        assert!(parse_span("5 weeks").is_err());
    }
}
