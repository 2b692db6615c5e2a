//! Media checks: each asset URL fetched the way Buffer will fetch it, before the post is sent.
//!
//! Buffer takes media by URL and fetches it when the post publishes, not when it is created:
//! a URL that is unreachable, serves a web page instead of the file, is too large, or is signed
//! to expire before the due time ships a post without its media. [`MediaCheck`] asks each URL
//! once with `HEAD` (or a one-byte ranged `GET` where `HEAD` is refused), never reads a body,
//! and bounds every request.
//!
//! Sizes are checked for images only: Buffer publishes one picture limit (the classic
//! configuration's `picture_size_max`, 5 MiB, with jpeg, gif and png), and no limit for videos
//! or documents; [`MediaCheck::max_bytes`] sets others where you know them.

use crate::model::{AssetKind, Configuration};
use crate::preflight::Severity;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, HeaderMap, RANGE};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Buffer's picture limit (classic `GET /info/configuration.json`, `media.picture_size_max`).
const PICTURE_SIZE_MAX: u64 = 5_242_880;
/// Buffer's picture types (the same configuration's `picture_filetypes`).
const PICTURE_TYPES: [&str; 4] = ["jpeg", "jpg", "gif", "png"];
/// The longest one URL's check may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed before a URL counts as unreachable.
const MAX_REDIRECTS: usize = 5;
/// The longest signed-URL lifetime believed (a week): larger numbers are clamped.
const MAX_SIGNED_LIFETIME: i64 = 7 * 24 * 3600;

/// What is wrong with one asset URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MediaProblemKind {
    /// No answer, an error status, or too many redirects.
    Unreachable,
    /// The URL serves something other than the asset's kind (often a web page).
    WrongType,
    /// Larger than Buffer takes for the asset's kind.
    TooLarge,
    /// Signed to expire before the post is due: Buffer would fetch it too late.
    ExpiresBeforeDue,
}

/// One problem with one asset URL of one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MediaProblem {
    /// The URL.
    pub url: String,
    /// What kind of problem.
    pub kind: MediaProblemKind,
    /// Whether the post would go out without its media (error) or might (warning).
    pub severity: Severity,
    /// What is wrong and what to do.
    pub message: String,
}

impl MediaProblem {
    fn new(url: &str, kind: MediaProblemKind, severity: Severity, message: String) -> Self {
        Self {
            url: url.to_owned(),
            kind,
            severity,
            message,
        }
    }
}

impl std::fmt::Display for MediaProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Checks asset URLs over a bounded client: each request times out, follows a few redirects,
/// and reads headers only.
#[derive(Clone, Debug)]
pub struct MediaCheck {
    client: reqwest::Client,
    max_bytes: BTreeMap<String, u64>,
    picture_types: Vec<String>,
}

impl MediaCheck {
    /// A check with Buffer's published picture limit and types.
    pub fn new() -> crate::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .build()
            .map_err(|error| {
                crate::Error::invalid_input(format!("cannot build the media client: {error}"))
            })?;
        Ok(Self {
            client,
            max_bytes: BTreeMap::from([(AssetKind::Image.as_str().to_owned(), PICTURE_SIZE_MAX)]),
            picture_types: PICTURE_TYPES.map(str::to_owned).to_vec(),
        })
    }

    /// Takes the picture limits of the account's configuration (classic API).
    pub fn configuration(mut self, configuration: &Configuration) -> Self {
        if let Some(media) = &configuration.media {
            if let Some(max) = media.picture_size_max {
                self = self.max_bytes(AssetKind::Image, max);
            }
            if !media.picture_filetypes.is_empty() {
                self.picture_types = media.picture_filetypes.clone();
            }
        }
        self
    }

    /// The largest file of `kind` Buffer takes.
    pub fn max_bytes(mut self, kind: AssetKind, bytes: u64) -> Self {
        self.max_bytes.insert(kind.as_str().to_owned(), bytes);
        self
    }

    /// Every problem of the asset at `url`, of `kind`, for a post due at `due` (`None`: in the
    /// queue, time unknown). Sends one or two requests, reads no body.
    pub async fn check(
        &self,
        url: &str,
        kind: &AssetKind,
        due: Option<DateTime<Utc>>,
    ) -> Vec<MediaProblem> {
        let mut found: Vec<MediaProblem> = expiry(url, due).into_iter().collect();
        found.extend(self.fetched(url, kind).await);
        found
    }

    /// The problems the URL's answer shows, whenever the post is due: one or two requests.
    pub(crate) async fn fetched(&self, url: &str, kind: &AssetKind) -> Vec<MediaProblem> {
        let mut found = Vec::new();
        let probe = match self.probe(url).await {
            Ok(probe) => probe,
            Err(why) => {
                found.push(MediaProblem::new(
                    url,
                    MediaProblemKind::Unreachable,
                    Severity::Error,
                    format!("{url} is unreachable ({why}): Buffer could not fetch it either"),
                ));
                return found;
            }
        };
        if let Some(why) = probe
            .content_type
            .as_deref()
            .and_then(|ty| self.wrong_type(kind, ty))
        {
            found.push(MediaProblem::new(
                url,
                MediaProblemKind::WrongType,
                Severity::Error,
                format!("{url} {why}"),
            ));
        }
        if let (Some(size), Some(max)) = (probe.size, self.max_bytes.get(kind.as_str()))
            && size > *max
        {
            found.push(MediaProblem::new(
                url,
                MediaProblemKind::TooLarge,
                Severity::Error,
                format!("{url} is {size} bytes; Buffer takes a {kind} of at most {max} bytes"),
            ));
        }
        found
    }

    /// Why a content type does not fit `kind`, if it does not.
    fn wrong_type(&self, kind: &AssetKind, content_type: &str) -> Option<String> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let (top, sub) = essence.split_once('/').unwrap_or((&essence, ""));
        if essence == "text/html" {
            return Some(
                "serves a web page, not the file: give the file's own URL (not a share or \
                 preview page)"
                    .to_owned(),
            );
        }
        let fits = match kind {
            AssetKind::Image => top == "image" && self.picture_types.iter().any(|t| t == sub),
            AssetKind::Video => top == "video",
            AssetKind::Document => top == "application",
            AssetKind::Unknown(_) => true,
        };
        (!fits).then(|| match kind {
            AssetKind::Image => format!(
                "serves {essence}; Buffer takes pictures of type {}",
                self.picture_types.join(", ")
            ),
            _ => format!("serves {essence}, not a {kind}"),
        })
    }

    /// The URL's type and size: `HEAD`, or a one-byte ranged `GET` where `HEAD` is refused or
    /// says no size.
    async fn probe(&self, url: &str) -> Result<Probe, String> {
        let head = self.client.head(url).send().await;
        match head {
            Ok(answer) if answer.status().is_success() => {
                let probe = Probe::of(answer.headers());
                if probe.size.is_some() {
                    return Ok(probe);
                }
            }
            Ok(answer) if !matches!(answer.status().as_u16(), 403 | 405 | 501) => {
                return Err(format!("HTTP {}", answer.status()));
            }
            Ok(_) => {}
            Err(error) => return Err(reason(&error)),
        }
        let answer = self
            .client
            .get(url)
            .header(RANGE, "bytes=0-0")
            .send()
            .await
            .map_err(|error| reason(&error))?;
        if !answer.status().is_success() {
            return Err(format!("HTTP {}", answer.status()));
        }
        // Dropped unread: a server that ignores the range sends no more than the socket holds.
        Ok(Probe::of(answer.headers()))
    }
}

/// What a URL's headers say.
struct Probe {
    content_type: Option<String>,
    size: Option<u64>,
}

impl Probe {
    fn of(headers: &HeaderMap) -> Self {
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
        // `bytes 0-0/12345` tells the whole size; else the length of this answer.
        let size = text(CONTENT_RANGE)
            .and_then(|range| range.rsplit_once('/'))
            .and_then(|(_, total)| total.trim().parse().ok())
            .or_else(|| text(CONTENT_LENGTH).and_then(|len| len.trim().parse().ok()));
        Self {
            content_type: text(CONTENT_TYPE).map(str::to_owned),
            size,
        }
    }
}

/// Why a request failed, without the URL (the caller names it).
fn reason(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("no answer within {}s", TIMEOUT.as_secs())
    } else if error.is_redirect() {
        format!("more than {MAX_REDIRECTS} redirects")
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

/// The warning for a URL signed to expire before its post is due (`None`: in the queue, time
/// unknown), read from the URL alone.
pub(crate) fn expiry(url: &str, due: Option<DateTime<Utc>>) -> Option<MediaProblem> {
    let (expires, due) = (signed_expiry(url)?, due?);
    (expires < due).then(|| {
        MediaProblem::new(
            url,
            MediaProblemKind::ExpiresBeforeDue,
            Severity::Warning,
            format!(
                "{url} is signed to expire at {expires}, before the post is due at {due}: \
                 Buffer fetches media when the post publishes; sign it for longer or host it \
                 durably"
            ),
        )
    })
}

/// When a signed URL stops working, read from the query parameters of the common signing
/// schemes: AWS and Google V4 (`X-Amz-Date` + `X-Amz-Expires`, `X-Goog-…`), CloudFront and
/// Google V2 (`Expires`, Unix seconds), Azure SAS (`se`).
fn signed_expiry(url: &str) -> Option<DateTime<Utc>> {
    let url = url::Url::parse(url).ok()?;
    let params: BTreeMap<String, String> = url
        .query_pairs()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
        .collect();
    for prefix in ["x-amz-", "x-goog-"] {
        let signed = params.get(&format!("{prefix}date")).and_then(|date| {
            NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
                .ok()
                .map(|d| d.and_utc())
        });
        let lifetime = params
            .get(&format!("{prefix}expires"))
            .and_then(|secs| secs.parse::<i64>().ok());
        if let (Some(signed), Some(lifetime)) = (signed, lifetime) {
            return Some(signed + TimeDelta::seconds(lifetime.clamp(0, MAX_SIGNED_LIFETIME)));
        }
    }
    if let Some(at) = params
        .get("expires")
        .and_then(|secs| secs.parse::<i64>().ok())
    {
        return DateTime::from_timestamp(at, 0);
    }
    params
        .get("se")
        .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::signed_expiry;

    #[test]
    fn signed_urls_say_when_they_expire() {
        let at = |url: &str| signed_expiry(url).map(|t| t.to_rfc3339());
        assert_eq!(
            at(
                "https://b.s3.amazonaws.com/a.png?X-Amz-Date=20261201T120000Z&X-Amz-Expires=3600&X-Amz-Signature=x"
            ),
            Some("2026-12-01T13:00:00+00:00".to_owned())
        );
        assert_eq!(
            at(
                "https://storage.googleapis.com/b/a.png?X-Goog-Date=20261201T120000Z&X-Goog-Expires=60"
            ),
            Some("2026-12-01T12:01:00+00:00".to_owned())
        );
        assert_eq!(
            at("https://d1.cloudfront.net/a.png?Expires=1796126400&Signature=x"),
            Some("2026-12-01T12:00:00+00:00".to_owned())
        );
        assert_eq!(
            at("https://acct.blob.core.windows.net/c/a.png?se=2026-12-01T12:00:00Z&sig=x"),
            Some("2026-12-01T12:00:00+00:00".to_owned())
        );
        assert_eq!(at("https://cdn.example.com/a.png?width=300"), None);
        // A lifetime past a week is not believed.
        assert_eq!(
            at(
                "https://b.s3.amazonaws.com/a.png?X-Amz-Date=20261201T120000Z&X-Amz-Expires=99999999999"
            ),
            Some("2026-12-08T12:00:00+00:00".to_owned())
        );
    }
}
