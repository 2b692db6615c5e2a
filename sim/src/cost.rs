//! What listing costs, counted rather than timed: every post rendered into a response is
//! counted, so a test can check that reading a listing page by page renders each post once,
//! not the whole store for every page.

use std::cell::Cell;

thread_local! {
    static RENDERED: Cell<usize> = const { Cell::new(0) };
}

/// Called by the renderers for each post they turn into JSON.
pub(crate) fn post_rendered() {
    RENDERED.with(|n| n.set(n.get() + 1));
}

/// Posts rendered on this thread since the last call.
fn take_rendered() -> usize {
    RENDERED.with(|n| n.replace(0))
}

mod tests {
    use std::cmp::Ordering;

    use chrono::{TimeDelta, TimeZone, Utc};
    use serde_json::{Value, json};

    use super::take_rendered;
    use crate::graphql::{self, GraphQlRequest};
    use crate::limits::{Limiter, RateLimits};
    use crate::model::{Post, PostStatus};
    use crate::rest::{self, RestRequest};
    use crate::store::{Store, StoreConfig};
    use crate::{SimClock, demo};

    /// Sent posts on the listed channel; enough that rendering the store per page would show.
    const LISTED: usize = 2_000;
    const PAGE: usize = 100;

    /// A frozen store with the demo account, `LISTED` sent posts on its first channel (some
    /// sharing a time, to exercise ties) and posts on another channel that must not show.
    fn large_store() -> (Store, Limiter, String) {
        let start = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).single();
        let clock = SimClock::new(start.unwrap_or_else(Utc::now), 0.0);
        let store = Store::new(clock.clone(), StoreConfig::default(), 7);
        let demo = demo::seed(&store, "token", "key", true);
        let (listed, other) = (&demo.channels[0].id, &demo.channels[1].id);
        let long_ago = clock.now() - TimeDelta::days(400);
        for i in 0..LISTED {
            let at = long_ago + TimeDelta::minutes((i / 3) as i64);
            let added = store.add_sent_post(listed, &format!("listed {i}"), at);
            assert!(added.is_ok(), "{added:?}");
        }
        for i in 0..300 {
            let added = store.add_sent_post(other, &format!("other {i}"), long_ago);
            assert!(added.is_ok(), "{added:?}");
        }
        let limits = RateLimits {
            enabled: false,
            ..RateLimits::default()
        };
        (store, Limiter::new(limits, clock), listed.clone())
    }

    fn sent_on(store: &Store, channel: &str) -> Vec<Post> {
        store
            .channel_posts(channel)
            .into_iter()
            .filter(|p| p.status == PostStatus::Sent)
            .collect()
    }

    fn body(reply: &crate::reply::Reply) -> Value {
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        serde_json::from_slice(&reply.body).unwrap_or(Value::Null)
    }

    #[test]
    fn graphql_pages_render_each_post_once_in_the_full_sort_order() {
        let (store, limiter, channel) = large_store();
        let org = store.organizations()[0].id.clone();
        let query = "query Sent($org: OrganizationId!, $channel: ChannelId!, $after: String) {
          posts(input: { organizationId: $org, filter: { channelIds: [$channel], status: [sent] },
                         sort: [{ field: dueAt, direction: desc }] }, first: 100, after: $after) {
            edges { cursor node { id } }
            pageInfo { hasNextPage endCursor }
          }
        }";
        take_rendered();
        let (mut walked, mut after, mut pages) = (Vec::new(), Value::Null, 0);
        loop {
            let request = json!({ "query": query, "variables": {
                "org": org, "channel": channel, "after": after } });
            let request = request.to_string();
            let reply = graphql::handle(
                &store,
                &limiter,
                &GraphQlRequest {
                    method: "POST",
                    bearer: Some("key"),
                    body: request.as_bytes(),
                    null_field: None,
                },
            );
            let connection = body(&reply)["data"]["posts"].clone();
            let edges = connection["edges"].as_array().cloned().unwrap_or_default();
            assert!(edges.len() <= PAGE);
            walked.extend(edges.iter().map(|e| e["node"]["id"].clone()));
            pages += 1;
            if connection["pageInfo"]["hasNextPage"] != json!(true) {
                break;
            }
            after = connection["pageInfo"]["endCursor"].clone();
        }
        let expected = sent_on(&store, &channel);
        assert_eq!(pages, expected.len().div_ceil(PAGE));
        // Rendering the whole listing for every page would be about 20 times as many.
        assert_eq!(take_rendered(), expected.len());
        let mut expected: Vec<&Post> = expected.iter().collect();
        expected.sort_by(|a, b| {
            b.due_at
                .cmp(&a.due_at)
                .then(a.created_at.cmp(&b.created_at))
                .then(a.id.cmp(&b.id))
        });
        let expected: Vec<Value> = expected.iter().map(|p| json!(p.id)).collect();
        assert_eq!(walked, expected);
    }

    #[test]
    fn rest_pages_render_each_post_once_in_the_stable_sort_order() {
        let (store, limiter, channel) = large_store();
        let path = format!("/1/profiles/{channel}/updates/sent.json");
        take_rendered();
        let (mut walked, mut page) = (Vec::new(), 1);
        let total = loop {
            let query = format!("page={page}&count={PAGE}");
            let reply = rest::handle(
                &store,
                &limiter,
                &RestRequest {
                    method: "GET",
                    path: &path,
                    query: &query,
                    bearer: Some("token"),
                    body: b"",
                },
            );
            let answer = body(&reply);
            let updates = answer["updates"].as_array().cloned().unwrap_or_default();
            walked.extend(updates.iter().map(|u| u["id"].clone()));
            page += 1;
            if updates.len() < PAGE {
                break answer["total"].clone();
            }
        };
        let mut expected = sent_on(&store, &channel);
        assert_eq!(total, json!(expected.len()));
        assert_eq!(take_rendered(), expected.len());
        // Newest first; a stable sort keeps creation order among equal times.
        expected.sort_by(|a, b| match b.sent_at.cmp(&a.sent_at) {
            Ordering::Equal => b.created_at.cmp(&a.created_at),
            other => other,
        });
        let expected: Vec<Value> = expected.iter().map(|p| json!(p.id)).collect();
        assert_eq!(walked, expected);
    }
}
