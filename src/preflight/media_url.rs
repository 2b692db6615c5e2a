//! Media URLs Buffer cannot fetch when the post publishes.
//!
//! Neither API uploads media: Buffer keeps the URL and fetches the file when the post
//! publishes, hours or weeks later, from the public internet. A URL that is not `https`, that
//! points inside a private network, or that is signed to expire is accepted on create and the
//! post goes out without its media.

use super::ProblemKind;
use std::net::{Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// Query parameters that make a signed URL expire: S3 presigned URLs, CloudFront and Google
/// Cloud Storage (v2 and v4), Azure SAS (`se`, signed expiry), and JWT-style `exp`.
const EXPIRY_PARAMETERS: [&str; 5] = ["x-amz-expires", "expires", "x-goog-expires", "se", "exp"];

/// Suffixes of names that never resolve on the public internet (RFC 6761, RFC 6762, RFC 8375,
/// ICANN's `.internal`, and the common `.lan`).
const PRIVATE_SUFFIXES: [&str; 7] = [
    ".localhost",
    ".local",
    ".internal",
    ".lan",
    ".home.arpa",
    ".invalid",
    ".test",
];

/// What is wrong with a media URL, each with what to do about it.
pub(super) fn problems(url: &str) -> Vec<(ProblemKind, String)> {
    let Ok(parsed) = Url::parse(url) else {
        return vec![(
            ProblemKind::InsecureUrl,
            format!("{url} is not a URL Buffer can fetch; give the media's full https URL"),
        )];
    };
    let mut found = Vec::new();
    if parsed.scheme() != "https" {
        found.push((
            ProblemKind::InsecureUrl,
            format!(
                "{url} is not https: Buffer fetches media when the post publishes, and a plain \
                 http URL may be refused or altered on the way; host the media at an https URL"
            ),
        ));
    }
    if let Some(host) = parsed.host().filter(is_private) {
        found.push((
            ProblemKind::PrivateUrl,
            format!(
                "{url} is on {host}, which Buffer cannot reach: it fetches media from the public \
                 internet when the post publishes; host the media at a public URL"
            ),
        ));
    }
    if let Some((name, _)) = parsed
        .query_pairs()
        .find(|(name, _)| EXPIRY_PARAMETERS.contains(&name.to_ascii_lowercase().as_str()))
    {
        found.push((
            ProblemKind::ExpiringUrl,
            format!(
                "{url} is signed to expire ({name}): Buffer fetches media when the post \
                 publishes, not when it is created, so the post would go out without it; use a \
                 URL that lasts until then"
            ),
        ));
    }
    found
}

fn is_private(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost"
                || !name.contains('.')
                || PRIVATE_SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
        }
        Host::Ipv4(ip) => is_private_v4(*ip),
        Host::Ipv6(ip) => is_private_v6(*ip),
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        // Shared address space (carrier-grade NAT) and benchmarking ranges.
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (18..20).contains(&b))
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_private_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        // Unique local (fc00::/7), link-local (fe80::/10), documentation (2001:db8::/32).
        || first & 0xfe00 == 0xfc00
        || first & 0xffc0 == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(url: &str) -> Vec<ProblemKind> {
        problems(url).into_iter().map(|(kind, _)| kind).collect()
    }

    #[test]
    fn a_public_https_url_is_fine() {
        assert!(kinds("https://cdn.example.com/a.png").is_empty());
        assert!(kinds("https://93.184.215.14/a.png?width=300").is_empty());
        assert!(kinds("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/a.png").is_empty());
    }

    #[test]
    fn plain_http_and_garbage_are_insecure() {
        assert_eq!(
            kinds("http://cdn.example.com/a.png"),
            [ProblemKind::InsecureUrl]
        );
        assert_eq!(kinds("not a url"), [ProblemKind::InsecureUrl]);
        assert_eq!(
            kinds("ftp://cdn.example.com/a.png"),
            [ProblemKind::InsecureUrl]
        );
    }

    #[test]
    fn hosts_buffer_cannot_reach_are_private() {
        for url in [
            "https://localhost/a.png",
            "https://app.localhost/a.png",
            "https://printer.local/a.png",
            "https://files.corp.internal/a.png",
            "https://nas/a.png",
            "https://10.1.2.3/a.png",
            "https://172.20.0.1/a.png",
            "https://192.168.1.10/a.png",
            "https://127.0.0.1:8080/a.png",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/a.png",
            "https://[::1]/a.png",
            "https://[fd12:3456::1]/a.png",
            "https://[fe80::1]/a.png",
            "https://[::ffff:192.168.0.1]/a.png",
        ] {
            assert_eq!(kinds(url), [ProblemKind::PrivateUrl], "{url}");
        }
        assert_eq!(
            kinds("http://localhost:3000/a.png"),
            [ProblemKind::InsecureUrl, ProblemKind::PrivateUrl]
        );
    }

    #[test]
    fn signed_urls_that_expire_are_named_with_their_parameter() {
        for (url, parameter) in [
            (
                "https://bucket.s3.amazonaws.com/a.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=abc",
                "X-Amz-Expires",
            ),
            (
                "https://d111.cloudfront.net/a.png?Expires=1767225600&Signature=abc&Key-Pair-Id=K",
                "Expires",
            ),
            (
                "https://acct.blob.core.windows.net/c/a.png?sv=2022-11-02&se=2026-12-01T00%3A00%3A00Z&sig=abc",
                "se",
            ),
            (
                "https://media.example.com/a.png?token=abc&exp=1767225600",
                "exp",
            ),
            (
                "https://storage.googleapis.com/b/a.png?X-Goog-Expires=900&X-Goog-Signature=abc",
                "X-Goog-Expires",
            ),
        ] {
            let found = problems(url);
            assert_eq!(found.len(), 1, "{url}: {found:?}");
            assert_eq!(found[0].0, ProblemKind::ExpiringUrl);
            assert!(
                found[0].1.contains(&format!("({parameter})")),
                "{}",
                found[0].1
            );
        }
        // A parameter that merely contains the word is not an expiry.
        assert!(kinds("https://cdn.example.com/a.png?expiresoon=1&sex=f").is_empty());
    }
}
