//! Moving from the classic API to GraphQL one step at a time with a `Router`.
//!
//! ```text
//! cargo run --example migrate_incrementally
//! ```
//!
//! Runs on an in-process simulator of Buffer and shows, at each step of the migration plan in
//! MIGRATION.md, which API served each call.

use buffer_bridge::graphql::GraphQl;
use buffer_bridge::model::{Day, NewPost, PostList, PostQuery, Schedule};
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::router::Router;
use buffer_bridge::{Backend, BackendExt, Operation};
use buffer_sim::{Api, Simulator};
use std::sync::Arc;

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

    let steps = [
        (
            "1. everything on the classic API",
            Router::new(rest.clone()),
        ),
        (
            "2. reads on GraphQL",
            Router::new(rest.clone()).route_reads_to(graphql.clone()),
        ),
        (
            "3. reads and creates on GraphQL",
            Router::new(rest.clone())
                .route_reads_to(graphql.clone())
                .route(Operation::CreatePost, graphql.clone()),
        ),
        ("4. everything on GraphQL", Router::new(graphql.clone())),
    ];

    for (step, router) in steps {
        println!("{step}");
        let channels = served(&sim, "channels", router.channels()).await?;
        let channel = channels[0].id.clone();
        served(
            &sim,
            "posts",
            router.posts(&PostQuery::new(channel.clone(), PostList::Queue)),
        )
        .await?;
        let post = NewPost::new(format!("Written during {step}")).channel(channel.clone());
        served(&sim, "create_post", router.create_post(&post)).await?;
        // GraphQL cannot change schedules: this falls back to the classic API at every step
        // where the classic API is still configured, and fails with a hint after that.
        let schedule = [Schedule::new(Day::Mon, ["12:45"])];
        if let Err(error) = served(
            &sim,
            "update_schedules",
            router.update_schedules(&channel, &schedule),
        )
        .await
        {
            println!("    update_schedules: {error}");
        }
        println!();
    }
    Ok(())
}

/// Runs one call and prints which API answered it (from the simulator's request log).
async fn served<T>(
    sim: &Simulator,
    name: &str,
    call: impl std::future::Future<Output = buffer_bridge::Result<T>>,
) -> buffer_bridge::Result<T> {
    let before = (
        sim.request_count(Api::Rest),
        sim.request_count(Api::GraphQl),
    );
    let answer = call.await;
    let rest = sim.request_count(Api::Rest) - before.0;
    let graphql = sim.request_count(Api::GraphQl) - before.1;
    if answer.is_ok() {
        println!("    {name:<17} rest {rest} request(s), graphql {graphql} request(s)");
    }
    answer
}
