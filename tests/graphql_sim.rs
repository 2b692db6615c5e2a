//! The GraphQL backend against the simulator: an independent fake of Buffer that validates
//! every document against `schema.graphql` and executes it with a real GraphQL engine, so
//! these tests catch documents, variables and mappings that only a wire test would accept.

use buffer_bridge::BackendExt;
use buffer_bridge::graphql::GraphQl;
use buffer_bridge::model::{
    ChannelId, NewPost, OrganizationId, PageRequest, PostEdit, PostList, PostQuery, When,
};
use buffer_bridge::{Error, ErrorKind};
use buffer_sim::Simulator;
use futures::TryStreamExt;

fn backend(sim: &Simulator) -> GraphQl {
    GraphQl::builder()
        .api_key(sim.api_key())
        .base_url(sim.graphql_url())
        .build()
        .unwrap()
}

#[tokio::test]
async fn reads_map_the_seeded_account() {
    let sim = Simulator::start().await;
    let buffer = backend(&sim);
    let account = buffer.account().await.unwrap();
    assert_eq!(account.organizations.len(), 1);
    assert_eq!(account.organizations[0].id.as_str(), sim.organization_id());

    let channels = buffer.channels().await.unwrap();
    let ids: Vec<&str> = channels.iter().map(|c| c.id.as_str()).collect();
    let seeded: Vec<&str> = sim.demo().channels.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), seeded.len());
    assert!(seeded.iter().all(|id| ids.contains(id)));

    let first = &channels[0];
    let schedules = buffer.schedules(&first.id).await.unwrap();
    assert_eq!(
        schedules, first.schedules,
        "schedules agree with the channel listing"
    );
    assert_eq!(buffer.channel(&first.id).await.unwrap().id, first.id);

    let limits = buffer
        .daily_posting_limits(std::slice::from_ref(&first.id))
        .await
        .unwrap();
    assert_eq!(limits[0].channel_id, first.id);
    let budget = buffer
        .rate_limits()
        .expect("the simulator sends rate-limit headers");
    assert!(budget.tightest().is_some());
}

#[tokio::test]
async fn offset_pages_tokens_and_the_stream_see_the_same_queue() {
    let sim = Simulator::start().await;
    let buffer = backend(&sim);
    let channel = buffer.channels().await.unwrap()[0].id.clone();
    let texts: Vec<String> = (0..7).map(|i| format!("queued {i}")).collect();
    for text in &texts {
        let outcome = buffer
            .create_post(&NewPost::new(text.clone()).channel(channel.clone()))
            .await
            .unwrap();
        assert!(outcome.is_complete(), "{:?}", outcome.failures().next());
    }
    let query = PostQuery::new(channel.clone(), PostList::Queue);
    let whole = buffer
        .posts(&query.clone().page(PageRequest::first(100)))
        .await
        .unwrap();
    let whole: Vec<String> = whole.items.iter().map(|p| p.id.to_string()).collect();
    assert!(whole.len() >= texts.len());

    // Offsets of size 3, read out of order, then by token, then as a stream.
    let mut by_offset = Vec::new();
    for page in [3, 1, 2] {
        let got = buffer
            .posts(&query.clone().page(PageRequest::offset(page, 3)))
            .await
            .unwrap();
        by_offset.push((
            page,
            got.items
                .iter()
                .map(|p| p.id.to_string())
                .collect::<Vec<_>>(),
        ));
    }
    by_offset.sort();
    let by_offset: Vec<String> = by_offset.into_iter().flat_map(|(_, ids)| ids).collect();
    assert_eq!(by_offset, whole[..by_offset.len()]);

    let mut by_token = Vec::new();
    let mut request = PageRequest::first(2);
    loop {
        let page = buffer.posts(&query.clone().page(request)).await.unwrap();
        by_token.extend(page.items.iter().map(|p| p.id.to_string()));
        match page.next {
            Some(token) => request = PageRequest::after(token, 2),
            None => break,
        }
    }
    assert_eq!(by_token, whole);

    let streamed: Vec<String> = buffer
        .all_posts(query.page(PageRequest::first(4)))
        .map_ok(|p| p.id.to_string())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed, whole);
}

#[tokio::test]
async fn a_multi_channel_create_reports_each_channel_and_the_posts_can_be_changed() {
    let sim = Simulator::start().await;
    let buffer = backend(&sim);
    let channels: Vec<ChannelId> = buffer
        .channels()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    let outcome = buffer
        .create_post(&NewPost::new("to every channel").channels(channels.clone()))
        .await
        .unwrap();
    assert_eq!(outcome.channels.len(), channels.len());
    for channel in &outcome.channels {
        if let Some(post) = channel.result.post() {
            assert_eq!(post.channel_id, channel.channel_id);
        }
    }
    for (_, error) in outcome.failures() {
        // A network refusing text-only posts (Instagram) is refused for its channel only.
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    }
    let post = outcome
        .posts()
        .next()
        .expect("text-only posts work somewhere")
        .clone();

    let edited = buffer
        .edit_post(&post.id, &PostEdit::default().text("edited"))
        .await
        .unwrap();
    assert_eq!(edited.text, "edited");
    assert_eq!(buffer.post(&post.id).await.unwrap().text, "edited");
    let moved = buffer.move_post_to_top(&post.id).await.unwrap();
    assert_eq!(moved.id, post.id);
    buffer.delete_post(&post.id).await.unwrap();
    let gone = buffer.post(&post.id).await.unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound);

    let now = buffer
        .create_post(
            &NewPost::new("right away")
                .channel(post.channel_id.clone())
                .when(When::Next),
        )
        .await
        .unwrap()
        .into_result()
        .unwrap();
    buffer.share_post(&now[0].id).await.unwrap();
}

#[tokio::test]
async fn ideas_round_trip() {
    let sim = Simulator::start().await;
    let buffer = backend(&sim);
    let organization = OrganizationId::new(sim.organization_id());
    let before = buffer
        .ideas(&organization, PageRequest::first(100))
        .await
        .unwrap()
        .items
        .len();
    let idea = buffer
        .create_idea(
            &buffer_bridge::model::NewIdea::new(organization.clone(), "an idea").title("Idea"),
        )
        .await
        .unwrap();
    assert_eq!(idea.title.as_deref(), Some("Idea"));
    let after = buffer
        .ideas(&organization, PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(after.items.len(), before + 1);
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized() {
    let sim = Simulator::start().await;
    let buffer = GraphQl::builder()
        .api_key("not-the-key")
        .base_url(sim.graphql_url())
        .build()
        .unwrap();
    let error = buffer.channels().await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
}
