//! Batch creates on the simulator: GraphQL packs 30 `createPost` a request across posts,
//! each post keeps its own outcome, and a 500-post batch under Buffer's GraphQL limits costs
//! 17 requests and meets no 429; the classic API sends one create per post.

use buffer_bridge::graphql::GraphQl;
use buffer_bridge::model::{CreateOutcome, NewPost};
use buffer_bridge::pacing::{Paced, Pacing};
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::retry::Retrying;
use buffer_bridge::{BackendExt, ErrorKind};
use buffer_sim::{Api, Service, Simulator};

async fn simulator() -> Simulator {
    Simulator::builder().queue_limit(10_000).start().await
}

fn graphql(sim: &Simulator) -> GraphQl {
    GraphQl::builder()
        .api_key(sim.api_key())
        .base_url(sim.graphql_url())
        .organization_id(sim.organization_id())
        .build()
        .unwrap()
}

fn channel(sim: &Simulator, service: Service) -> String {
    sim.demo().channel(service).unwrap().id.clone()
}

#[tokio::test]
async fn five_hundred_posts_cost_seventeen_graphql_requests_and_no_429() {
    let sim = simulator().await;
    let twitter = channel(&sim, Service::Twitter);
    let posts: Vec<NewPost> = (0..500)
        .map(|i| NewPost::new(format!("batch post {i}")).channel(twitter.as_str()))
        .collect();
    let backend = Retrying::new(Paced::new(graphql(&sim)));
    let outcomes = backend.create_posts(&posts).await.unwrap();
    assert_eq!(outcomes.len(), 500);
    assert!(outcomes.iter().all(CreateOutcome::is_complete));
    for (post, outcome) in posts.iter().zip(&outcomes) {
        let created = outcome.posts().next().unwrap();
        assert_eq!(
            Some(created.text.as_str()),
            post.text.as_deref(),
            "in order"
        );
    }
    let requests = sim.requests();
    assert_eq!(sim.request_count(Api::GraphQl), 17, "ceil(500 / 30)");
    assert!(requests.iter().all(|r| r.status != Some(429)));
    assert_eq!(
        sim.store().queue(&twitter).len(),
        500 + queued_before(&sim, &twitter)
    );
}

/// Posts the demo account had queued on a channel before the test.
fn queued_before(sim: &Simulator, channel: &str) -> usize {
    sim.store()
        .queue(channel)
        .iter()
        .filter(|p| !p.text.starts_with("batch post"))
        .count()
}

#[tokio::test]
async fn each_post_of_a_batch_keeps_its_own_outcome() {
    let sim = simulator().await;
    let twitter = channel(&sim, Service::Twitter);
    let instagram = channel(&sim, Service::Instagram);
    let posts = vec![
        NewPost::new("first of three").channels([twitter.as_str(), instagram.as_str()]),
        NewPost::new("second of three").channel(twitter.as_str()),
        NewPost::new("first of three").channel(twitter.as_str()),
    ];
    let outcomes = graphql(&sim).create_posts(&posts).await.unwrap();
    assert_eq!(
        sim.request_count(Api::GraphQl),
        1,
        "four createPost, one request"
    );
    let kinds: Vec<Vec<Option<ErrorKind>>> = outcomes
        .iter()
        .map(|o| {
            o.channels
                .iter()
                .map(|c| c.result.error().map(|e| e.kind()))
                .collect()
        })
        .collect();
    // Instagram needs media; the third post repeats the first on the same channel.
    assert_eq!(
        kinds,
        [
            vec![None, Some(ErrorKind::InvalidInput)],
            vec![None],
            vec![Some(ErrorKind::InvalidInput)],
        ]
    );
}

#[tokio::test]
async fn the_classic_api_sends_one_create_per_post() {
    let sim = simulator().await;
    let twitter = channel(&sim, Service::Twitter);
    let rest = ClassicRest::builder()
        .access_token(sim.access_token())
        .base_url(sim.rest_url())
        .build()
        .unwrap();
    let posts: Vec<NewPost> = (0..5)
        .map(|i| NewPost::new(format!("classic batch {i}")).channel(twitter.as_str()))
        .collect();
    let outcomes = Paced::with(rest, Pacing::classic())
        .create_posts(&posts)
        .await
        .unwrap();
    assert!(outcomes.iter().all(CreateOutcome::is_complete));
    assert_eq!(sim.request_count(Api::Rest), 5);
}
