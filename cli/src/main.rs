//! `buffer-bridge`: look at a Buffer account through both of Buffer's APIs, and compare them.
//!
//! Settings come from the `BUFFER_*` environment variables (or a TOML file with `--config`);
//! `--sim` runs everything against an in-process simulator instead, so every command works
//! without an account.

mod agents;
mod compare;
mod connection;
mod login;
mod look;
mod publish;
mod table;
mod writes;

use buffer_bridge::BackendKind;
use clap::{Args, Parser, Subcommand, ValueEnum};
use connection::Connection;
use std::path::PathBuf;
use std::process::ExitCode;

const SETTINGS_HELP: &str = "\
Settings (environment, or the same keys in a TOML file given with --config):
  BUFFER_ACCESS_TOKEN     classic REST OAuth access token
  BUFFER_API_KEY          GraphQL API key (publish.buffer.com/settings/api)
  BUFFER_REST_URL, BUFFER_GRAPHQL_URL, BUFFER_ORGANIZATION_ID, BUFFER_TIMEOUT_SECS
  BUFFER_BACKEND          rest | graphql | shadow | router (for channels and queue)
Without BUFFER_API_KEY, GraphQL uses the grant of `buffer-bridge login` (kept in
$BUFFER_BRIDGE_HOME, default ~/.config/buffer-bridge).
Or pass --sim to use an in-process simulator of Buffer.";

/// Look at a Buffer account through the classic REST API and the GraphQL API, and compare them.
#[derive(Parser)]
#[command(name = "buffer-bridge", version, after_help = SETTINGS_HELP)]
struct Cli {
    /// Run against an in-process simulator of Buffer instead of Buffer itself.
    #[arg(long, global = true)]
    sim: bool,
    /// Read settings from this TOML file instead of the BUFFER_* environment variables.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every read operation over every channel on both APIs and report each difference
    /// (with --writes: the write scenarios, on the simulator).
    Compare {
        #[command(flatten)]
        reads: compare::CompareArgs,
        #[command(flatten)]
        writes: writes::WriteArgs,
    },
    /// Print which operations each API supports, and what to do where one lacks an operation.
    Capabilities {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Publish a plan file (JSON Lines or CSV, one post a line): every line checked first,
    /// paced, resumable and exactly once; run it again and it sends only what is left.
    Publish(publish::PublishArgs),
    /// List the account's channels.
    Channels(LookArgs),
    /// Serve Buffer to AI agents over the Model Context Protocol (stdio, or HTTP with
    /// --http), each agent only as its access policy allows, every call audited.
    Mcp(agents::McpArgs),
    /// Print an audit log written by `mcp`, as sentences.
    Audit(agents::AuditArgs),
    /// List the writes `mcp --approvals` holds for a person, or approve or deny one.
    Approvals(agents::ApprovalsArgs),
    /// Show the queued posts of every channel, or of one.
    Queue {
        #[command(flatten)]
        look: LookArgs,
        /// Only this channel (its id).
        #[arg(long)]
        channel: Option<String>,
        /// How many posts per channel.
        #[arg(long, default_value_t = 20)]
        count: u32,
    },
    /// Authorize buffer-bridge on Buffer's GraphQL API (OAuth with PKCE; a loopback listener
    /// receives the redirect) and keep the grant for the other commands.
    Login(login::LoginArgs),
    /// Revoke and forget the grant of `login`.
    Logout,
    /// Show the account the chosen API speaks for.
    Whoami {
        /// Which API to ask (default: BUFFER_BACKEND, else graphql).
        #[arg(long, value_enum)]
        backend: Option<Api>,
    },
}

/// Options of the quick-look commands.
#[derive(Args)]
struct LookArgs {
    /// Which API to ask (default: BUFFER_BACKEND, else graphql).
    #[arg(long, value_enum)]
    backend: Option<Api>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// One of Buffer's two APIs, as named on the command line.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Api {
    /// The classic REST API.
    Rest,
    /// The GraphQL API.
    Graphql,
}

impl From<Api> for BackendKind {
    fn from(api: Api) -> Self {
        match api {
            Api::Rest => BackendKind::ClassicRest,
            Api::Graphql => BackendKind::GraphQl,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        Command::Publish(args) => {
            return finish(publish::run(cli.sim, cli.config.as_deref(), args).await);
        }
        command => command,
    };
    match &command {
        Command::Capabilities { json } => return finish(look::capabilities(*json)),
        Command::Audit(args) => return finish(agents::audit(args)),
        Command::Approvals(args) => return finish(agents::approvals(args)),
        Command::Compare { reads, writes } if writes.writes => {
            return finish(writes::run(cli.sim, reads.json, reads.strict).await);
        }
        Command::Login(args) => return finish(login::login(args, cli.sim).await),
        Command::Logout => return finish(login::logout().await),
        _ => {}
    }
    let connection = match Connection::open(cli.sim, cli.config.as_deref()).await {
        Ok(connection) => connection,
        Err(message) => return finish(Err(message)),
    };
    finish(match command {
        Command::Compare { reads, .. } => compare::run(&connection, &reads).await,
        Command::Channels(look) => look::channels(&connection, look.backend, look.json).await,
        Command::Queue {
            look,
            channel,
            count,
        } => look::queue(&connection, look.backend, channel, count, look.json).await,
        Command::Mcp(args) => agents::mcp(&connection, &args).await,
        Command::Whoami { backend } => match connection.chosen(backend) {
            Ok(backend) => login::whoami(backend).await,
            Err(message) => Err(message),
        },
        Command::Capabilities { .. }
        | Command::Audit(_)
        | Command::Approvals(_)
        | Command::Publish(_)
        | Command::Login(_)
        | Command::Logout => Ok(ExitCode::SUCCESS),
    })
}

/// Prints an error on stderr and turns it into exit status 2 (1 means "differences found").
fn finish(result: Result<ExitCode, String>) -> ExitCode {
    result.unwrap_or_else(|message| {
        eprintln!("buffer-bridge: {message}");
        ExitCode::from(2)
    })
}
