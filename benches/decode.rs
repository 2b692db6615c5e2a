//! Decode and translate paths of both backends, against plain `serde_json` into plain structs.
//!
//! `cargo bench --bench decode`. Bodies are 100-post pages recorded from the simulator at
//! start-up; no network is used while measuring.

mod support;

use buffer_bridge::graphql::GraphQl;
use buffer_bridge::model::{Asset, Link, NewPost, When};
use buffer_bridge::rest::ClassicRest;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn backends() -> (ClassicRest, GraphQl) {
    let rest = ClassicRest::builder()
        .access_token("bench")
        .base_url("http://127.0.0.1:9/1/")
        .build()
        .expect("a loopback base URL is valid");
    let graphql = GraphQl::builder()
        .api_key("bench")
        .base_url("http://127.0.0.1:9/")
        .build()
        .expect("a loopback base URL is valid");
    (rest, graphql)
}

fn decode(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let (rest_body, graphql_body) = runtime.block_on(support::page_bodies(100));
    let (rest, graphql) = backends();
    assert_eq!(
        rest.decode_posts_page(200, &rest_body)
            .map(|p| p.len())
            .ok(),
        Some(100)
    );
    assert_eq!(
        graphql
            .decode_posts_page(200, &graphql_body)
            .map(|p| p.len())
            .ok(),
        Some(100)
    );

    let mut group = c.benchmark_group("decode a 100-post page");
    group.bench_function("rest: buffer-bridge", |b| {
        b.iter(|| rest.decode_posts_page(200, black_box(&rest_body)))
    });
    group.bench_function("rest: plain serde", |b| {
        b.iter(|| support::raw_rest(black_box(&rest_body)))
    });
    group.bench_function("graphql: buffer-bridge", |b| {
        b.iter(|| graphql.decode_posts_page(200, black_box(&graphql_body)))
    });
    group.bench_function("graphql: plain serde", |b| {
        b.iter(|| support::raw_graphql(black_box(&graphql_body)))
    });
    group.finish();
}

fn translate(c: &mut Criterion) {
    let (rest, graphql) = backends();
    let post = NewPost::new("Launch day: everything we shipped https://example.com/launch")
        .channels([
            "4eb854340acb04e870000010",
            "4eb9276e0acb04bb81000067",
            "4ecbc87b512f7e1f0c000003",
        ])
        .asset(Asset::image("https://example.com/launch.png"))
        .link(Link::new("https://example.com/launch").with_title("Launch"))
        .when(When::Next);
    c.bench_function("rest: form-encode a 3-channel create", |b| {
        b.iter(|| rest.encode_create_form(black_box(&post)))
    });
    let batch: Vec<NewPost> = (0..500)
        .map(|i| NewPost::new(format!("batch post {i}")).channel("4eb854340acb04e870000010"))
        .collect();
    c.bench_function("graphql: build the 17 requests of a 500-post batch", |b| {
        b.iter(|| graphql.encode_create_batches(black_box(&batch)))
    });
}

criterion_group!(benches, decode, translate);
criterion_main!(benches);
