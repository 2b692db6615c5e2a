//! Where a plan's job stands, read from the journal alone: nothing is sent.

use super::job::journaled;
use super::plan::Plan;
use super::report::{ChannelReport, ChannelState, LineProblem, LineReport, Report};
use crate::Result;
use crate::journal::Journal;

/// Every line of `plan` as the journal has it: created, failed, unknown (sent, answer lost),
/// or not sent. Reads the journal only: no request, no lookup. A later run settles what is
/// unknown.
pub async fn status(plan: &Plan, journal: &dyn Journal) -> Result<Report> {
    let mut lines = Vec::with_capacity(plan.lines().len());
    for line in plan.lines() {
        lines.push(match journal.entry(&line.key).await? {
            Some(entry) => journaled(line.line, &entry, true),
            None => LineReport {
                line: line.line,
                key: line.key.to_string(),
                channels: line
                    .channels
                    .iter()
                    .map(|channel| ChannelReport::new(channel.to_string(), ChannelState::NotSent))
                    .collect(),
            },
        });
    }
    Ok(Report {
        dry_run: true,
        refused: false,
        lines,
        problems: plan
            .errors()
            .iter()
            .cloned()
            .map(LineProblem::Plan)
            .collect(),
        tally: Default::default(),
    }
    .counted())
}
