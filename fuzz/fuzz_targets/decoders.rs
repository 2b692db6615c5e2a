//! Both backends' page decoders on arbitrary bytes: a value or a typed error, never a panic.
//! The first byte picks the HTTP status the body comes with.
//!
//! `cargo +nightly fuzz run decoders` (from the repository root).
#![no_main]

use buffer_bridge::graphql::GraphQl;
use buffer_bridge::rest::ClassicRest;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const STATUSES: [u16; 8] = [200, 200, 400, 401, 404, 429, 500, 503];

fn backends() -> &'static (ClassicRest, GraphQl) {
    static BACKENDS: OnceLock<(ClassicRest, GraphQl)> = OnceLock::new();
    BACKENDS.get_or_init(|| {
        let rest = ClassicRest::builder()
            .access_token("fuzz")
            .base_url("http://127.0.0.1:9/1/")
            .build()
            .expect("a loopback URL");
        let graphql = GraphQl::builder()
            .api_key("fuzz")
            .base_url("http://127.0.0.1:9/")
            .build()
            .expect("a loopback URL");
        (rest, graphql)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(first) % STATUSES.len()];
    let (rest, graphql) = backends();
    let _ = rest.decode_posts_page(status, body);
    let _ = graphql.decode_posts_page(status, body);
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = text.parse::<buffer_bridge::model::PageToken>();
    }
});
