//! The rate-limit header reader on arbitrary header values: every form Buffer has used
//! (structured `RateLimit`/`RateLimit-Policy`, the older trio, `X-RateLimit-*`,
//! `Retry-After`), never a panic.
//!
//! `cargo +nightly fuzz run headers` (from the repository root).
#![no_main]

use buffer_bridge::http::rate_limit::RateLimits;
use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

const NAMES: [&str; 9] = [
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "retry-after",
];

fuzz_target!(|data: &[u8]| {
    // Lines of `<name index byte><value>`, split on newlines.
    let mut headers = HeaderMap::new();
    for line in data.split(|b| *b == b'\n') {
        let Some((&index, value)) = line.split_first() else {
            continue;
        };
        let name = HeaderName::from_static(NAMES[usize::from(index) % NAMES.len()]);
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(name, value);
        }
    }
    let limits = RateLimits::from_headers(&headers);
    let _ = limits.tightest();
    let _ = limits.wait(Some("15m"));
});
