//! Finding a secret in text in every form it takes there: as it is, JSON-escaped (`1\/abc`),
//! percent-encoded (`1%2Fabc`, either hex case, any of its special characters left as they
//! are), form-encoded (`+` for a space), and, for a secret long enough that its encodings
//! cannot be mistaken for other text, hex in either case and base64 (a reflected `Basic`
//! header). The forms are computed once, when the credential is made, and all found in one
//! pass over the text.
//!
//! A short secret (under [`SHORT_SECRET_CHARS`] characters) is only replaced where it stands
//! as a whole token: a key `t` must not turn "could not reach the API" into
//! "could no[redacted] reach [redacted]he API".

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};
use std::borrow::Cow;

/// What a secret is replaced with.
pub(crate) const REDACTED: &str = "[redacted]";

/// Secrets with fewer characters are only matched as whole tokens.
const SHORT_SECRET_CHARS: usize = 8;

/// The most distinct special characters whose spellings (as they are, or percent-encoded) are
/// combined: 2⁶ combinations × 2 hex cases. A secret with more gets the all-or-nothing forms.
const MAX_COMBINED_SPECIALS: usize = 6;

/// Finds every form of one secret.
pub(crate) struct Redactor {
    matcher: Matcher,
    whole_tokens_only: bool,
}

enum Matcher {
    /// An empty secret: nothing to find.
    Nothing,
    Forms(AhoCorasick),
    /// The forms could not be compiled (far too many or too long, which a real secret is
    /// not): fail closed, and hide any text whole.
    Unsearchable,
}

impl Redactor {
    /// Computes every form of `secret`, once.
    pub fn new(secret: &str) -> Self {
        let whole_tokens_only = secret.chars().count() < SHORT_SECRET_CHARS;
        if secret.trim().is_empty() {
            return Self {
                matcher: Matcher::Nothing,
                whole_tokens_only,
            };
        }
        let mut forms = forms(secret);
        if !whole_tokens_only {
            forms.extend(binary_forms(secret));
        }
        // Leftmost-longest: where one form is a prefix of another, the whole longer one goes.
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(forms)
            .map_or(Matcher::Unsearchable, Matcher::Forms);
        Self {
            matcher,
            whole_tokens_only,
        }
    }

    /// `text` with every form of the secret replaced by `[redacted]`; borrowed when there was
    /// none.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let forms = match &self.matcher {
            Matcher::Nothing => return Cow::Borrowed(text),
            Matcher::Unsearchable if text.is_empty() => return Cow::Borrowed(text),
            Matcher::Unsearchable => return Cow::Borrowed(REDACTED),
            Matcher::Forms(forms) => forms,
        };
        let mut redacted = String::new();
        let (mut copied, mut from) = (0, 0);
        while let Some(found) = forms.find(Input::new(text).range(from..)) {
            let (start, end) = (found.start(), found.end());
            if self.whole_tokens_only && !stands_alone(text, start, end) {
                // Inside a longer word: look again from the next character, since another
                // occurrence may overlap this one.
                from = start + text[start..].chars().next().map_or(1, char::len_utf8);
                continue;
            }
            redacted.push_str(&text[copied..start]);
            redacted.push_str(REDACTED);
            (copied, from) = (end, end);
        }
        if redacted.is_empty() {
            return Cow::Borrowed(text);
        }
        redacted.push_str(&text[copied..]);
        Cow::Owned(redacted)
    }
}

/// Every spelling of `secret` to look for, without duplicates.
fn forms(secret: &str) -> Vec<String> {
    let mut specials: Vec<char> = secret
        .chars()
        .filter(|c| !c.is_ascii_alphanumeric())
        .collect();
    specials.sort_unstable();
    specials.dedup();
    // Each combination says which special characters are percent-encoded: encoders differ
    // (`encodeURIComponent` keeps `!'()*`, forms encode `~`), each is consistent.
    let combinations: Vec<u64> = if specials.len() <= MAX_COMBINED_SPECIALS {
        (0..1u64 << specials.len()).collect()
    } else {
        vec![0, u64::MAX]
    };
    let spaced = secret.contains(' ');
    let mut forms = json_forms(secret);
    for &encoded in &combinations {
        // (Past 64 specials, bit 63 stands for the rest: only all-or-nothing is tried then.)
        let is_encoded = |c: char| {
            specials
                .iter()
                .position(|s| *s == c)
                .is_some_and(|at| encoded & (1u64 << at.min(63)) != 0)
        };
        for upper in [true, false] {
            for plus_for_space in [false, true] {
                if plus_for_space && !spaced {
                    continue;
                }
                let mut form = String::with_capacity(secret.len() * 3);
                for c in secret.chars() {
                    match c {
                        ' ' if plus_for_space && is_encoded(c) => form.push('+'),
                        c if is_encoded(c) => percent_encode(c, upper, &mut form),
                        c => form.push(c),
                    }
                }
                forms.push(form);
            }
        }
    }
    forms.sort_unstable();
    forms.dedup();
    forms
}

/// The secret as a JSON string holds it: escaped as serde_json writes it, with `/` written
/// `\/` (PHP's default), and with non-ASCII characters as `\u` escapes.
fn json_forms(secret: &str) -> Vec<String> {
    let quoted = serde_json::to_string(secret).unwrap_or_default();
    let escaped = quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(secret)
        .to_owned();
    let slashed = escaped.replace('/', "\\/");
    let ascii = |text: &str| {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if c.is_ascii() {
                out.push(c);
            } else {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
        out
    };
    vec![ascii(&escaped), ascii(&slashed), escaped, slashed]
}

/// The secret's bytes in hex (either case) and in base64 (standard and URL-safe alphabets).
/// Inside a longer base64 text the secret starts at one of three alignments (`user:secret`
/// puts five bytes before it); each gives the characters that depend on the secret alone,
/// without those that mix in a neighbouring byte.
fn binary_forms(secret: &str) -> Vec<String> {
    const ALPHABETS: [&[u8; 64]; 2] = [
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    ];
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    let mut forms = vec![hex.to_uppercase(), hex];
    for alphabet in ALPHABETS {
        for (offset, mixed_before) in [(0, 0), (1, 2), (2, 3)] {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(secret.as_bytes());
            let encoded = base64(&bytes, alphabet);
            // The last character mixes in what follows, unless the bytes end a group.
            let end = encoded.len() - usize::from(bytes.len() % 3 != 0);
            if end > mixed_before {
                forms.push(encoded[mixed_before..end].to_owned());
            }
        }
    }
    forms
}

/// Base64 of `bytes` in `alphabet`, without padding.
fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
    for group in bytes.chunks(3) {
        let bits = group
            .iter()
            .enumerate()
            .fold(0u32, |bits, (i, &b)| bits | u32::from(b) << (16 - 8 * i));
        for i in 0..=group.len() {
            out.push(char::from(alphabet[(bits >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn percent_encode(c: char, upper: bool, out: &mut String) {
    for byte in c.encode_utf8(&mut [0; 4]).bytes() {
        if upper {
            out.push_str(&format!("%{byte:02X}"));
        } else {
            out.push_str(&format!("%{byte:02x}"));
        }
    }
}

/// Characters that continue a token: a short secret next to one is part of a longer word.
fn continues_a_token(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `text[start..end]` is a whole token: no token character touches it, counting an
/// escape sequence just before it (`%3D`, `\n`, `\u0020`) as the separator it stands for.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let before = &text[..start];
    let left = match before.chars().next_back() {
        None => true,
        Some(c) if !continues_a_token(c) => true,
        Some(_) => ends_in_an_escape(before.as_bytes()),
    };
    left && text[end..]
        .chars()
        .next()
        .is_none_or(|c| !continues_a_token(c))
}

fn ends_in_an_escape(text: &[u8]) -> bool {
    let hex = |bytes: &[u8]| bytes.iter().all(u8::is_ascii_hexdigit);
    match text.len() {
        n if n >= 6 && text[n - 6] == b'\\' && text[n - 5] == b'u' && hex(&text[n - 4..]) => true,
        n if n >= 3 && text[n - 3] == b'%' && hex(&text[n - 2..]) => true,
        n => n >= 2 && text[n - 2] == b'\\',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(secret: &str, text: &str) -> String {
        Redactor::new(secret).redact(text).into_owned()
    }

    #[test]
    fn every_encoding_of_a_secret_is_found() {
        let secret = "1/abc+def= ghi~jk";
        for echo in [
            "1/abc+def= ghi~jk",
            r"1\/abc+def= ghi~jk",
            "1%2Fabc%2Bdef%3D%20ghi~jk",
            "1%2fabc%2bdef%3d%20ghi%7ejk",
            "1%2Fabc%2Bdef%3D+ghi%7Ejk",
            // Only some characters encoded, as a path or `encodeURI` leaves `/`, `+` and `=`.
            "1/abc+def=%20ghi~jk",
        ] {
            let text = format!("token \"{echo}\" refused");
            assert_eq!(
                redacted(secret, &text),
                "token \"[redacted]\" refused",
                "{echo}"
            );
        }
    }

    #[test]
    fn json_escapes_of_non_ascii_and_quotes_are_found() {
        let secret = "clé\"secrète";
        for echo in [r#"clé\"secrète"#, r#"cl\u00e9\"secr\u00e8te"#] {
            assert_eq!(redacted(secret, echo), "[redacted]", "{echo}");
        }
    }

    #[test]
    fn a_short_secret_is_replaced_only_as_a_whole_token() {
        let text = "could not reach the classic API";
        assert_eq!(redacted("t", text), text);
        assert_eq!(
            redacted("reach", text),
            "could not [redacted] the classic API"
        );
        assert_eq!(
            redacted("abc1", "keys abc12, xabc1 and abc1_x"),
            "keys abc12, xabc1 and abc1_x"
        );
        assert_eq!(
            redacted("abc1", "key abc1; (abc1) \"abc1\" end abc1"),
            "key [redacted]; ([redacted]) \"[redacted]\" end [redacted]"
        );
        // Escapes before it separate it like the characters they stand for.
        assert_eq!(
            redacted("a/b", "key%3Da%2Fb&x=1 or {\"k\":\"\\na\\/b\"}"),
            "key%3D[redacted]&x=1 or {\"k\":\"\\n[redacted]\"}"
        );
        // An occurrence overlapping one inside a word is still found.
        assert_eq!(redacted("a-b-a", "xa-b-a-b-a"), "xa-b-[redacted]");
    }

    #[test]
    fn base64_of_a_long_secret_is_found_at_every_alignment() {
        // Base64 of "1/abc+def", "u:1/abc+def" and "ab:1/abc+def=x".
        assert_eq!(base64(b"1/abc+def", &ALPHABET), "MS9hYmMrZGVm");
        let secret = "1/abc+def";
        for (echo, left) in [
            ("MS9hYmMrZGVm", ""),
            ("dToxL2FiYytkZWY=", "dTo"),
            ("YWI6MS9hYmMrZGVmPXg=", "YWI6"),
        ] {
            let text = redacted(secret, echo);
            assert!(
                text.starts_with(&format!("{left}[redacted]")),
                "{echo}: {text}"
            );
            assert!(
                !text.contains("hYmMrZG") && !text.contains("FiYytk"),
                "{echo}: {text}"
            );
        }
        assert_eq!(redacted(secret, "hex 312f6162632b646566"), "hex [redacted]");
        assert_eq!(redacted(secret, "HEX 312F6162632B646566"), "HEX [redacted]");
    }

    const ALPHABET: [u8; 64] = *b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    #[test]
    fn a_long_secret_is_replaced_anywhere() {
        assert_eq!(
            redacted("canary-123", "xcanary-123y canary-123"),
            "x[redacted]y [redacted]"
        );
    }

    #[test]
    fn text_without_the_secret_is_left_alone() {
        let redactor = Redactor::new("canary-123");
        assert!(matches!(redactor.redact("nothing here"), Cow::Borrowed(_)));
        assert_eq!(Redactor::new("").redact("all of it"), "all of it");
        assert_eq!(Redactor::new("  ").redact("a  b"), "a  b");
    }

    #[test]
    fn a_secret_with_many_special_characters_has_a_bounded_set_of_forms() {
        let secret = "!#$&'()*+,/:;=?@[]";
        let all = forms(secret);
        assert!(all.len() <= 8, "{}", all.len());
        assert_eq!(redacted(secret, &format!("k={secret}")), "k=[redacted]");
    }
}
