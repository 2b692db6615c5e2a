//! `buffer-bridge mcp` (an MCP server for agents, each as its access policy allows) and
//! `buffer-bridge audit` (what they did, in sentences).

use crate::Api;
use crate::connection::Connection;
use buffer_bridge::Backend;
use buffer_bridge::access::{
    Access, Agent, ApprovalQueue, AuditRecord, AuditSink, Decision, JsonlAudit, Policy,
};
use buffer_bridge::mcp::{BufferTools, serve_http_for_hosts, serve_stdio};
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Options of `mcp`.
#[derive(Args)]
pub struct McpArgs {
    /// The access policy (TOML): the agents and their grants. See examples/agents.toml.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// The agent served over stdio (default: the policy's only agent).
    #[arg(long)]
    agent: Option<String>,
    /// Serve every agent that has a key over streamable HTTP at this address (at /mcp),
    /// instead of one agent over stdio.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// With --http: a host name agents reach the server by (`mcp.example.com`, or with its
    /// port), repeatable. Without it only loopback names are answered.
    #[arg(long = "allowed-host", value_name = "HOST", requires = "http")]
    allowed_hosts: Vec<String>,
    /// Where audit records go (JSON Lines; default: beside the policy, `<name>.audit.jsonl`).
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
    /// Which API to use (default: BUFFER_BACKEND, else graphql).
    #[arg(long, value_enum)]
    backend: Option<Api>,
    /// Park writes under grants with `approval = true` in this directory until someone
    /// answers with `buffer-bridge approvals` (without it, such writes are refused).
    #[arg(long, value_name = "DIR")]
    approvals: Option<PathBuf>,
    /// How long a parked write waits for its answer, in seconds.
    #[arg(long, default_value_t = 300)]
    approval_timeout: u64,
}

/// Options of `approvals`.
#[derive(Args)]
pub struct ApprovalsArgs {
    /// The approval queue `mcp --approvals` parks writes in.
    dir: PathBuf,
    /// Let this write go ahead.
    #[arg(long, value_name = "ID", conflicts_with = "deny")]
    approve: Option<String>,
    /// Refuse this write.
    #[arg(long, value_name = "ID")]
    deny: Option<String>,
}

/// Options of `audit`.
#[derive(Args)]
pub struct AuditArgs {
    /// The audit log (JSON Lines, as `mcp` writes it).
    file: PathBuf,
    /// Only this agent's calls.
    #[arg(long)]
    agent: Option<String>,
    /// Only refused calls.
    #[arg(long)]
    denied: bool,
    /// Print the records as JSON Lines instead of sentences.
    #[arg(long)]
    json: bool,
}

/// Writes each record to the log file and its sentence to stderr (stdout carries MCP).
#[derive(Debug)]
struct Tee(JsonlAudit);

impl AuditSink for Tee {
    fn record(&self, record: &AuditRecord) {
        self.0.record(record);
        // Not eprintln!, which panics when stderr is gone: recording must never fail a call.
        let _ = writeln!(std::io::stderr(), "{record}");
    }
}

fn default_audit_path(policy: &Path) -> PathBuf {
    let stem = policy
        .file_stem()
        .map_or("agents".into(), |s| s.to_string_lossy().into_owned());
    policy.with_file_name(format!("{stem}.audit.jsonl"))
}

/// Runs the MCP server until its client (stdio) or the process (HTTP) ends.
pub async fn mcp(connection: &Connection, args: &McpArgs) -> Result<ExitCode, String> {
    let policy = Policy::from_toml_file(&args.policy).map_err(|e| e.message())?;
    let backend = connection.chosen(args.backend)?;
    let channels = buffer_bridge::BackendExt::channels(&backend)
        .await
        .map_err(|e| format!("could not list the account's channels: {e}"))?;
    let (agents, problems) = policy.resolve(&channels);
    for problem in &problems {
        eprintln!("buffer-bridge: policy: {problem}");
    }
    let audit_path = args
        .audit
        .clone()
        .unwrap_or_else(|| default_audit_path(&args.policy));
    let audit: Arc<dyn AuditSink> =
        Arc::new(Tee(JsonlAudit::open(&audit_path).map_err(|e| e.message())?));
    let approvals = match &args.approvals {
        Some(dir) => Some(Arc::new(ApprovalQueue::open(dir).map_err(|e| e.message())?)),
        None => None,
    };
    let tools_for = |agent: &Agent| {
        let mut access = Access::new(backend.clone(), agent.clone())
            .audit(audit.clone())
            .approval_timeout(std::time::Duration::from_secs(args.approval_timeout));
        if let Some(queue) = &approvals {
            access = access.approver(queue.clone());
        }
        BufferTools::new(Arc::new(access) as Arc<dyn Backend>)
    };
    match args.http {
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|e| format!("could not listen on {address}: {e}"))?;
            eprintln!(
                "buffer-bridge: MCP for {} agent(s) at http://{}/mcp; audit in {}",
                agents.iter().count(),
                listener.local_addr().map_err(|e| e.to_string())?,
                audit_path.display()
            );
            serve_http_for_hosts(listener, agents, tools_for, args.allowed_hosts.clone())
                .await
                .map_err(|e| e.message())?;
        }
        None => {
            let agent = match &args.agent {
                Some(name) => agents.get(name).map_err(|e| e.message())?,
                None => {
                    let all: Vec<&Agent> = agents.iter().collect();
                    match all.as_slice() {
                        [only] => (*only).clone(),
                        _ => {
                            return Err(
                                "the policy has several agents: pick one with --agent".into()
                            );
                        }
                    }
                }
            };
            let tools = tools_for(&agent);
            eprintln!(
                "buffer-bridge: MCP over stdio for {} ({} tools); audit in {}",
                agent.name(),
                tools.tool_names().len(),
                audit_path.display()
            );
            serve_stdio(tools).await.map_err(|e| e.message())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Lists the writes waiting for approval, or answers one.
pub fn approvals(args: &ApprovalsArgs) -> Result<ExitCode, String> {
    let queue = ApprovalQueue::open(&args.dir).map_err(|e| e.message())?;
    match (&args.approve, &args.deny) {
        (Some(id), _) => queue.approve(id).map_err(|e| e.message())?,
        (_, Some(id)) => queue.deny(id).map_err(|e| e.message())?,
        (None, None) => {
            for parked in queue.pending().map_err(|e| e.message())? {
                println!("{}  {}", parked.id, parked.sentence);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints an audit log, filtered.
pub fn audit(args: &AuditArgs) -> Result<ExitCode, String> {
    let records = JsonlAudit::read(&args.file).map_err(|e| e.message())?;
    for record in records.iter().filter(|r| {
        args.agent.as_ref().is_none_or(|a| *a == r.agent)
            && (!args.denied || matches!(r.decision, Decision::Denied { .. }))
    }) {
        if args.json {
            println!(
                "{}",
                serde_json::to_string(record).map_err(|e| e.to_string())?
            );
        } else {
            println!("{record}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
