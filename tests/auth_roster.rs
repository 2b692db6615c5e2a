//! An application with 1,000 users moves them to GraphQL one by one: 400 have authorized,
//! 600 still post through the classic API, and after the classic API retires the 600 are
//! told to authorize without a request being sent. Counts are read from the simulator.

mod auth_support;

use auth_support::{follow, oauth, start};
use buffer_bridge::auth::{MemoryStore, MigrationReport, Roster, UserBackend};
use buffer_bridge::model::NewPost;
use buffer_bridge::{Backend, BackendExt, Error};
use buffer_sim::{ChannelSpec, Service};
use chrono::{TimeZone, Utc};
use futures::StreamExt;
use std::sync::Arc;

const USERS: usize = 1_000;
const AUTHORIZED: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_users_post_through_the_api_each_can_use_and_the_classic_ones_stop_at_retirement()
 {
    let (sim, client) = start().await;
    let roster = Roster::new(oauth(&sim, &client), Arc::new(MemoryStore::new()))
        .graphql_url(sim.graphql_url())
        .classic_url(sim.rest_url())
        .hint_user_ids(true);
    let mut users = Vec::new();
    for i in 0..USERS {
        let email = format!("user{i}@example.invalid");
        let account = sim
            .store()
            .add_account(&email, &format!("classic-{i}"), &format!("key-{i}"));
        let organization = sim.store().add_organization(&account.id, "org");
        let channel = sim.store().add_channel(ChannelSpec::new(
            &organization.id,
            Service::Twitter,
            &format!("handle{i}"),
        ));
        roster.add_classic_user(&email, format!("classic-{i}"));
        users.push((email, channel.id));
    }
    for (email, _) in &users[..AUTHORIZED] {
        let redirect = follow(&roster.authorize(email)).await;
        assert_eq!(&roster.complete(&redirect).await.unwrap(), email);
    }
    assert_eq!(
        roster.report().await.unwrap(),
        expected_report(AUTHORIZED, USERS - AUTHORIZED, 0)
    );

    sim.clear_requests();
    let roster = &roster;
    let outcomes: Vec<(usize, Arc<dyn Backend>)> = futures::stream::iter(users.iter().enumerate())
        .map(|(i, (email, channel))| async move {
            let backend = roster.backend(email).await.unwrap();
            let post = NewPost::new(format!("hello from user {i}")).channel(channel.as_str());
            let outcome = backend.create_post(&post).await.unwrap();
            assert_eq!(outcome.failures().count() + outcome.unknowns().count(), 0);
            (i, backend)
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert_eq!(sim.requests_to("createPost"), AUTHORIZED);
    assert_eq!(
        sim.requests_to("/1/updates/create.json"),
        USERS - AUTHORIZED
    );
    assert!(sim.requests().iter().all(|e| e.status == Some(200)));
    for (i, (_, channel)) in users.iter().enumerate() {
        let posts = sim.store().channel_posts(channel);
        assert_eq!(posts.len(), 1, "user {i}");
        assert_eq!(posts[0].text, format!("hello from user {i}"));
    }

    // 2027-02-01: the classic backends handed out fail fast, and the roster sends the 600
    // to authorize.
    sim.clock()
        .set(Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 1).unwrap());
    sim.clear_requests();
    for (i, backend) in &outcomes {
        if *i < AUTHORIZED {
            continue;
        }
        let post = NewPost::new("after the retirement").channel(users[*i].1.as_str());
        let error = backend.create_post(&post).await.unwrap_err();
        assert!(matches!(error, Error::Retired { .. }), "{error}");
        match roster.backend(&users[*i].0).await {
            Err(Error::NeedsConsent { authorize_url, .. }) => {
                assert!(authorize_url.starts_with(&format!("{}/auth?", sim.issuer_url())));
            }
            Err(other) => panic!("user {i}: {other}"),
            Ok(_) => panic!("user {i} still has a backend"),
        }
        assert_eq!(
            roster.backend_of(&users[*i].0).await.unwrap(),
            UserBackend::NeedsConsent
        );
    }
    assert_eq!(
        sim.requests().len(),
        0,
        "nothing was sent for a retired API"
    );
    assert_eq!(
        roster.report().await.unwrap(),
        expected_report(AUTHORIZED, 0, USERS - AUTHORIZED)
    );
    // The authorized users go on, with their tokens refreshed after two months.
    let backend = roster.backend(&users[0].0).await.unwrap();
    backend.channels().await.unwrap();
    assert_eq!(sim.oauth().stats().refreshes, 1);
}

fn expected_report(graphql: usize, classic: usize, needs_consent: usize) -> MigrationReport {
    let mut report = MigrationReport::default();
    report.users = USERS;
    report.graphql = graphql;
    report.classic = classic;
    report.needs_consent = needs_consent;
    report
}
