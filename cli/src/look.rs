//! The quick looks: `capabilities`, `channels`, `queue`.

use crate::table::Table;
use crate::{Api, Connection};
use buffer_bridge::model::{PageRequest, PostList, PostQuery};
use buffer_bridge::{BackendExt, BackendKind, Capabilities, Operation};
use std::process::ExitCode;

/// Every operation, with each API's support and, where it lacks one, what to do instead.
pub fn capabilities(json: bool) -> Result<ExitCode, String> {
    if json {
        let rows: Vec<_> = Operation::ALL
            .iter()
            .map(|op| {
                let mut row = serde_json::json!({ "operation": op, "writes": op.writes() });
                for kind in BackendKind::ALL {
                    row[kind.as_str()] = serde_json::json!({
                        "supported": Capabilities::of(kind).supports(*op),
                        "hint": op.unsupported_hint(kind),
                    });
                }
                row
            })
            .collect();
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new(["operation", "kind", "rest", "graphql"]);
    let mut hints = Vec::new();
    for op in Operation::ALL {
        let mut cell = |kind: BackendKind| match op.unsupported_hint(kind) {
            None => "yes".to_owned(),
            Some(hint) => {
                hints.push((*op, kind, hint));
                format!("no [{}]", hints.len())
            }
        };
        let rest = cell(BackendKind::ClassicRest);
        let graphql = cell(BackendKind::GraphQl);
        let kind = if op.writes() { "write" } else { "read" };
        table.row([op.as_str().to_owned(), kind.to_owned(), rest, graphql]);
    }
    print!("{table}");
    println!();
    for (index, (op, kind, hint)) in hints.iter().enumerate() {
        println!("[{}] {op} on {kind}: {hint}", index + 1);
    }
    Ok(ExitCode::SUCCESS)
}

/// The account's channels.
pub async fn channels(
    connection: &Connection,
    api: Option<Api>,
    json: bool,
) -> Result<ExitCode, String> {
    let backend = connection.chosen(api)?;
    let channels = backend.channels().await.map_err(|e| e.to_string())?;
    if json {
        print_json(&channels)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new(["id", "service", "name", "timezone", "schedule"]);
    for channel in &channels {
        let slots: usize = channel.schedules.iter().map(|s| s.times.len()).sum();
        table.row([
            channel.id.to_string(),
            channel.service.to_string(),
            channel
                .display_name
                .clone()
                .unwrap_or_else(|| channel.name.clone()),
            channel.timezone.clone().unwrap_or_default(),
            format!("{slots} slots a week"),
        ]);
    }
    print!("{table}");
    println!(
        "{} channels, from the {} API",
        channels.len(),
        backend.kind()
    );
    Ok(ExitCode::SUCCESS)
}

/// The queued posts of every channel, or of one.
pub async fn queue(
    connection: &Connection,
    api: Option<Api>,
    channel: Option<String>,
    count: u32,
    json: bool,
) -> Result<ExitCode, String> {
    let backend = connection.chosen(api)?;
    let channel_ids = match channel {
        Some(id) => vec![id.into()],
        None => backend
            .channels()
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|c| c.id)
            .collect(),
    };
    let mut posts = Vec::new();
    for id in channel_ids {
        let query =
            PostQuery::new(id, PostList::Queue).page(PageRequest::first(count.clamp(1, 100)));
        let page = backend.posts(&query).await.map_err(|e| e.to_string())?;
        posts.extend(page.items);
    }
    if json {
        print_json(&posts)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new(["due", "channel", "status", "text"]);
    for post in &posts {
        table.row([
            post.due_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default(),
            post.channel_id.to_string(),
            post.status.to_string(),
            crate::table::shorten(&post.text, 60),
        ]);
    }
    print!("{table}");
    println!(
        "{} queued posts, from the {} API",
        posts.len(),
        backend.kind()
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}
