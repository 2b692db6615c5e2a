//! A [Model Context Protocol](https://modelcontextprotocol.io) server over any backend, so AI
//! agents use Buffer through tools, each agent only as its [access](crate::access) policy
//! allows. Behind the `mcp` feature; `buffer-bridge mcp` runs it.
//!
//! The tools are those of Buffer's hosted MCP server (`get_account`, `list_channels`,
//! `get_channel`, `list_posts`, `get_post`, `create_post`, `edit_post`, `delete_post`,
//! `list_ideas`, `create_idea`, `get_posting_limits`) plus what only the classic API has while
//! it lasts (`move_post_to_top`, `reorder_queue`, `get_schedules`, `list_interactions`). There
//! is no raw query or mutation tool: every call is one typed operation the policy can judge.
//! A client lists only the tools its backend (an [`Access`](crate::access::Access) layer for
//! an agent) may ever run.
//!
//! Over stdio the server is one agent's ([`serve_stdio`]). Over HTTP ([`serve_http`]) each
//! agent authenticates with its own bearer key, whose SHA-256 is in the policy; the Buffer
//! credential never leaves the server.

mod http;
mod tools;

pub use http::{serve_http, serve_http_for_hosts};
pub use tools::BufferTools;

use crate::{Error, Result};
use rmcp::ServiceExt;

/// Serves `tools` over this process's stdin and stdout until the client closes them.
pub async fn serve_stdio(tools: BufferTools) -> Result<()> {
    let running = tools
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| Error::transport(format!("the MCP client did not start: {e}"), None))?;
    running
        .waiting()
        .await
        .map_err(|e| Error::transport(format!("the MCP session failed: {e}"), None))?;
    Ok(())
}
