//! The rate-limit budget a response announces, read from whichever header form Buffer sends.
//!
//! Buffer has changed its rate-limit headers at least twice, so every known form is read:
//!
//! - structured fields, one list member per window: `RateLimit: "100-in-15min";r=98;t=897`
//!   with `RateLimit-Policy: "100-in-15min";q=100;w=900`, joined by the quoted name. Windows
//!   are told apart by their length `w` (900, 86400, 2592000 seconds), as Buffer advises,
//!   because names change;
//! - the older `RateLimit-Limit` / `RateLimit-Remaining` / `RateLimit-Reset` trio, where the
//!   reset is an ISO 8601 time (or a number of seconds);
//! - `X-RateLimit-Limit` / `-Remaining` / `-Reset`, which the official CLI falls back to;
//! - `Retry-After`, in seconds or as an HTTP date.
//!
//! The classic REST API (60 requests a minute) and any pacing layer can read the same type.

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde::Serialize;
use std::time::Duration;

/// The budget of one rate-limit window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RateWindow {
    /// The policy's name as sent (`"100-in-15min"`); names vary, so match on [`window`](Self::window).
    pub name: Option<String>,
    /// The window's length (`w`), when the server says.
    pub window: Option<Duration>,
    /// Requests allowed per window (`q`).
    pub limit: Option<u64>,
    /// Requests left in the current window (`r`).
    pub remaining: Option<u64>,
    /// Time until the window resets (`t`).
    pub reset_after: Option<Duration>,
}

impl RateWindow {
    /// Whether no request is left in this window.
    pub fn is_exhausted(&self) -> bool {
        self.remaining == Some(0)
    }
}

/// The rate-limit budget announced by one response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RateLimits {
    /// One entry per window the server reported, in header order.
    pub windows: Vec<RateWindow>,
    /// How long the server asked to wait (`Retry-After`), when it did.
    pub retry_after: Option<Duration>,
}

/// A 15-minute window, Buffer's shortest.
pub const FIFTEEN_MINUTES: Duration = Duration::from_secs(900);
/// A one-day window.
pub const ONE_DAY: Duration = Duration::from_secs(86_400);
/// A 30-day window.
pub const THIRTY_DAYS: Duration = Duration::from_secs(2_592_000);

/// The length of a window named as in Buffer's 429 bodies (`15m`, `24h`, `30d`).
pub fn window_length(name: &str) -> Option<Duration> {
    let name = name.trim();
    let (number, unit) = name.split_at(name.find(|c: char| !c.is_ascii_digit())?);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    // The name comes from the server: an absurd number is no window rather than an overflow.
    Some(Duration::from_secs(number.checked_mul(seconds)?))
}

impl RateLimits {
    /// Reads every rate-limit header of a response, with the current time for date forms.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self::from_headers_at(headers, Utc::now())
    }

    /// Reads every rate-limit header of a response; `now` turns reset dates into durations.
    pub fn from_headers_at(headers: &HeaderMap, now: DateTime<Utc>) -> Self {
        let mut windows = structured_windows(headers);
        if windows.is_empty() {
            windows.extend(
                ["ratelimit", "x-ratelimit"]
                    .into_iter()
                    .filter_map(|prefix| legacy_window(headers, prefix, now))
                    .take(1),
            );
        }
        let retry_after = header_text(headers, "retry-after")
            .into_iter()
            .find_map(|value| parse_retry_after(&value, now));
        Self {
            windows,
            retry_after,
        }
    }

    /// Whether the response carried no rate-limit header at all.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty() && self.retry_after.is_none()
    }

    /// The window of a given length (900 s, 86 400 s, 2 592 000 s on Buffer).
    pub fn window(&self, length: Duration) -> Option<&RateWindow> {
        self.windows.iter().find(|w| w.window == Some(length))
    }

    /// The window with the fewest requests left: the one that will stop the client first.
    pub fn tightest(&self) -> Option<&RateWindow> {
        self.windows
            .iter()
            .filter(|w| w.remaining.is_some())
            .min_by_key(|w| w.remaining)
    }

    /// How long to wait after a refusal: `Retry-After` when sent, else the reset time of the
    /// window the server named (`15m`, `24h`, `30d`), else that of an exhausted window.
    pub fn wait(&self, window_name: Option<&str>) -> Option<Duration> {
        self.retry_after
            .or_else(|| {
                window_name
                    .and_then(window_length)
                    .and_then(|length| self.window(length))
                    .and_then(|w| w.reset_after)
            })
            .or_else(|| {
                self.windows
                    .iter()
                    .filter(|w| w.is_exhausted())
                    .filter_map(|w| w.reset_after)
                    .max()
            })
    }
}

/// Every value of a header, as text (values that are not text are skipped).
fn header_text(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

/// One member of a structured-field list: its value and its parameters.
struct Member {
    value: String,
    params: Vec<(String, String)>,
}

impl Member {
    fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn number(&self, key: &str) -> Option<u64> {
        self.param(key)?.parse().ok()
    }
}

/// Splits `text` on `separator` outside quoted strings and `:byte-sequences:`.
fn split_outside_quotes(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut in_quotes, mut in_bytes, mut escaped, mut start) = (false, false, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' if !in_bytes => in_quotes = !in_quotes,
            ':' if !in_quotes => in_bytes = !in_bytes,
            c if c == separator && !in_quotes && !in_bytes => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn unquote(text: &str) -> String {
    let text = text.trim();
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => text.to_owned(),
    }
}

/// The most members read from one structured header: Buffer sends three, and a server
/// listing thousands must not cost thousands of windows joined by name.
const MAX_MEMBERS: usize = 32;

/// Parses the first [`MAX_MEMBERS`] members of the lines of a structured-field list header.
fn members(headers: &HeaderMap, name: &str) -> Vec<Member> {
    header_text(headers, name)
        .iter()
        .flat_map(|line| split_outside_quotes(line, ','))
        .filter(|member| !member.trim().is_empty())
        .take(MAX_MEMBERS)
        .map(|member| {
            let mut pieces = split_outside_quotes(member, ';').into_iter();
            let value = unquote(pieces.next().unwrap_or_default());
            let params = pieces
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (k.trim().to_owned(), unquote(v)),
                    None => (p.trim().to_owned(), "?1".to_owned()),
                })
                .collect();
            Member { value, params }
        })
        .collect()
}

/// Windows from the structured `RateLimit-Policy` and `RateLimit` headers, joined by name.
/// Only members with parameters count: the older form's bare numbers are read elsewhere.
fn structured_windows(headers: &HeaderMap) -> Vec<RateWindow> {
    let mut windows: Vec<RateWindow> = members(headers, "ratelimit-policy")
        .into_iter()
        .filter(|m| !m.params.is_empty())
        .map(|policy| RateWindow {
            window: policy.number("w").map(Duration::from_secs),
            limit: policy.number("q"),
            name: Some(policy.value),
            ..RateWindow::default()
        })
        .collect();
    for state in members(headers, "ratelimit")
        .into_iter()
        .filter(|m| !m.params.is_empty())
    {
        let remaining = state.number("r");
        let reset_after = state.number("t").map(Duration::from_secs);
        match windows
            .iter_mut()
            .find(|w| w.name.as_deref() == Some(state.value.as_str()))
        {
            Some(window) => {
                window.remaining = remaining;
                window.reset_after = reset_after;
            }
            None => windows.push(RateWindow {
                name: Some(state.value),
                remaining,
                reset_after,
                ..RateWindow::default()
            }),
        }
    }
    windows
}

/// The leading number of a header value such as `1000` or `100, 100;w=900`.
fn leading_number(value: &str) -> Option<u64> {
    let digits: String = value
        .trim()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// A reset given as seconds to wait, a Unix time, or an ISO 8601 time.
fn parse_reset(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(number) = value.parse::<u64>() {
        // Past a billion seconds it is a Unix time, not a wait (31 years would be absurd).
        let now_secs = u64::try_from(now.timestamp()).unwrap_or_default();
        return Some(Duration::from_secs(if number > 1_000_000_000 {
            number.saturating_sub(now_secs)
        } else {
            number
        }));
    }
    let at = DateTime::parse_from_rfc3339(value).ok()?;
    Some((at.with_timezone(&Utc) - now).to_std().unwrap_or_default())
}

/// The older `<prefix>-Limit` / `-Remaining` / `-Reset` form, when any of the three is there.
fn legacy_window(headers: &HeaderMap, prefix: &str, now: DateTime<Utc>) -> Option<RateWindow> {
    let get = |suffix: &str| {
        header_text(headers, &format!("{prefix}-{suffix}"))
            .into_iter()
            .next()
    };
    let limit = get("limit");
    let remaining = get("remaining");
    let reset = get("reset");
    if limit.is_none() && remaining.is_none() && reset.is_none() {
        return None;
    }
    Some(RateWindow {
        limit: limit.as_deref().and_then(leading_number),
        remaining: remaining.as_deref().and_then(leading_number),
        reset_after: reset.as_deref().and_then(|r| parse_reset(r, now)),
        ..RateWindow::default()
    })
}

/// `Retry-After` in seconds or as an HTTP date.
fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.with_timezone(&Utc) - now).to_std().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-01-01T11:59:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn structured_headers_give_one_window_per_line_matched_by_length() {
        // The header lines of Buffer's rate-limit guide (graphql.md §3).
        let map = headers(&[
            ("RateLimit", "\"200-in-15min\";r=198;t=897"),
            ("RateLimit", "\"1000-in-1day\";r=998;t=86397"),
            ("RateLimit", "\"30000-in-30days\";r=29969;t=696980"),
            (
                "RateLimit-Policy",
                "\"200-in-15min\";q=200;w=900;pk=:ZjJjZjVmNzM5M2Zm:",
            ),
            (
                "RateLimit-Policy",
                "\"1000-in-1day\";q=1000;w=86400;pk=:ZjJjZjVmNzM5M2Zm:",
            ),
            (
                "RateLimit-Policy",
                "\"30000-in-30days\";q=30000;w=2592000;pk=:ZjJjZjVmNzM5M2Zm:",
            ),
        ]);
        let limits = RateLimits::from_headers_at(&map, now());
        assert_eq!(limits.windows.len(), 3);
        let short = limits.window(FIFTEEN_MINUTES).unwrap();
        assert_eq!(short.limit, Some(200));
        assert_eq!(short.remaining, Some(198));
        assert_eq!(short.reset_after, Some(Duration::from_secs(897)));
        let month = limits.window(THIRTY_DAYS).unwrap();
        assert_eq!(month.remaining, Some(29969));
        assert_eq!(
            limits.tightest().unwrap().name.as_deref(),
            Some("200-in-15min")
        );
    }

    #[test]
    fn one_line_lists_parse_like_several_lines() {
        let map = headers(&[
            ("RateLimit", "\"a\";r=0;t=30, \"b\";r=5;t=80000"),
            ("RateLimit-Policy", "\"a\";q=100;w=900, \"b\";q=250;w=86400"),
        ]);
        let limits = RateLimits::from_headers_at(&map, now());
        assert_eq!(limits.window(ONE_DAY).unwrap().remaining, Some(5));
        assert!(limits.window(FIFTEEN_MINUTES).unwrap().is_exhausted());
        assert_eq!(limits.wait(None), Some(Duration::from_secs(30)));
        assert_eq!(limits.wait(Some("24h")), Some(Duration::from_secs(80000)));
    }

    #[test]
    fn the_older_trio_reads_an_iso_reset() {
        // The older documented form (graphql.md §3).
        let map = headers(&[
            ("RateLimit-Limit", "1000"),
            ("RateLimit-Remaining", "850"),
            ("RateLimit-Reset", "2024-01-01T12:00:00.000Z"),
        ]);
        let limits = RateLimits::from_headers_at(&map, now());
        let window = &limits.windows[0];
        assert_eq!((window.limit, window.remaining), (Some(1000), Some(850)));
        assert_eq!(window.reset_after, Some(Duration::from_secs(60)));
    }

    #[test]
    fn x_ratelimit_headers_are_the_last_fallback() {
        let reset = (now().timestamp() + 120).to_string();
        let map = headers(&[
            ("X-RateLimit-Limit", "60"),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", &reset),
        ]);
        let limits = RateLimits::from_headers_at(&map, now());
        assert_eq!(limits.windows[0].remaining, Some(0));
        assert_eq!(limits.wait(None), Some(Duration::from_secs(120)));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates_and_wins() {
        let seconds = headers(&[("Retry-After", "900"), ("RateLimit", "\"a\";r=0;t=5")]);
        assert_eq!(
            RateLimits::from_headers_at(&seconds, now()).wait(Some("15m")),
            Some(Duration::from_secs(900))
        );
        let date = headers(&[("Retry-After", "Mon, 01 Jan 2024 12:00:30 GMT")]);
        assert_eq!(
            RateLimits::from_headers_at(&date, now()).retry_after,
            Some(Duration::from_secs(90))
        );
        assert!(
            RateLimits::from_headers_at(&headers(&[("Retry-After", "soon")]), now()).is_empty()
        );
    }

    #[test]
    fn a_thousand_members_are_read_as_a_few() {
        let policy: Vec<String> = (1..=1000)
            .map(|n| format!("\"w{n}\";q=1000000;w={n}"))
            .collect();
        let map = headers(&[("RateLimit-Policy", &policy.join(", "))]);
        let limits = RateLimits::from_headers_at(&map, now());
        assert_eq!(limits.windows.len(), MAX_MEMBERS);
    }

    #[test]
    fn window_names_of_429_bodies() {
        assert_eq!(window_length("15m"), Some(FIFTEEN_MINUTES));
        assert_eq!(window_length("18446744073709551615d"), None);
        assert_eq!(window_length("24h"), Some(ONE_DAY));
        assert_eq!(window_length("30d"), Some(THIRTY_DAYS));
        assert_eq!(window_length("later"), None);
        assert_eq!(window_length(""), None);
    }
}
