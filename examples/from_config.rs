//! Choosing a backend from configuration: a TOML file or the environment.
//!
//! ```text
//! cargo run --example from_config             # on an in-process simulator
//! cargo run --example from_config -- --env    # on Buffer, from the BUFFER_* variables
//! ```
//!
//! The application only ever sees a [`Client`], one `Backend`: moving from the classic API to
//! GraphQL is a change of configuration (`backend = "rest"` → `"shadow"` → `"router"` →
//! `"graphql"`). Retries, pacing and exactly-once writes are on unless configured off; a
//! shadow's comparisons go to `tracing`, memory or a JSON-lines file.

use buffer_bridge::config::{BackendConfig, Client};
use buffer_bridge::{Backend, BackendExt};
use buffer_sim::Simulator;

#[tokio::main]
async fn main() -> buffer_bridge::Result<()> {
    if std::env::args().any(|arg| arg == "--env") {
        // Names the variable to set when one is missing, e.g.
        // "BUFFER_API_KEY is not set; the graphql backend needs it".
        let backend = BackendConfig::from_env()?.build()?;
        return show(backend).await;
    }

    let sim = Simulator::start().await;

    // A TOML file (here a string, as `BackendConfig::from_toml_file` would read it).
    let file = format!(
        r#"
        backend = "router"
        timeout_secs = 10

        [rest]
        access_token = "{token}"
        url = "{rest}"

        [graphql]
        api_key = "{key}"
        url = "{graphql}"

        [router]
        default = "rest"
        routes = {{ reads = "graphql", create_post = "graphql" }}
        "#,
        token = sim.access_token(),
        rest = sim.rest_url(),
        key = sim.api_key(),
        graphql = sim.graphql_url(),
    );
    let config = BackendConfig::from_toml_str(&file)?;
    // Debug never shows the token or the key.
    println!("from TOML: {config:?}\n");
    show(config.build()?).await?;

    // The same from environment variables, given as pairs so nothing touches the process
    // environment (`BackendConfig::from_env()` reads the real one).
    let vars = [
        ("BUFFER_BACKEND", "shadow".to_owned()),
        ("BUFFER_ACCESS_TOKEN", sim.access_token().to_owned()),
        ("BUFFER_REST_URL", sim.rest_url()),
        ("BUFFER_API_KEY", sim.api_key().to_owned()),
        ("BUFFER_GRAPHQL_URL", sim.graphql_url()),
        ("BUFFER_SHADOW_REPORT", "memory".to_owned()),
    ];
    println!("\nfrom the environment (shadow):");
    let shadow = BackendConfig::from_vars(vars)?.build()?;
    show(shadow.clone()).await?;
    shadow.settled().await;
    for comparison in shadow.comparisons() {
        println!(
            "  compared {}: {}",
            comparison.operation,
            comparison.verdict().as_str()
        );
    }

    // A missing setting is an error that says what to set.
    let error = BackendConfig::from_vars([("BUFFER_BACKEND", "graphql")])?
        .build()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    println!("\nwithout a key: {error}");
    Ok(())
}

async fn show(backend: Client) -> buffer_bridge::Result<()> {
    let channels = backend.channels().await?;
    println!(
        "{} channels through {} ({})",
        channels.len(),
        backend.describe(),
        channels
            .iter()
            .map(|c| format!("{} on {}", c.name, c.service))
            .collect::<Vec<_>>()
            .join(", "),
    );
    Ok(())
}
