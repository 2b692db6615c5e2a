//! The classic API's parameter encoding: `application/x-www-form-urlencoded` with PHP/Rails
//! bracket keys (`profile_ids[]=A`, `media[link]=…`, `schedules[0][days][]=mon`).
//!
//! One encoder serves POST bodies and GET query strings alike: a list of `(key, value)` pairs
//! kept in the order they were added, so the wire text is predictable and testable.

use url::form_urlencoded::byte_serialize;

/// An ordered list of classic parameters.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// An empty form.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds `key=value`.
    pub(crate) fn field(&mut self, key: impl Into<String>, value: impl ToString) -> &mut Self {
        self.pairs.push((key.into(), value.to_string()));
        self
    }

    /// Adds `key=value` when there is a value.
    pub(crate) fn optional(&mut self, key: &str, value: Option<impl ToString>) -> &mut Self {
        if let Some(value) = value {
            self.field(key, value);
        }
        self
    }

    /// Adds `key[]=value` once per value: the classic array form.
    pub(crate) fn list<V: ToString>(
        &mut self,
        key: &str,
        values: impl IntoIterator<Item = V>,
    ) -> &mut Self {
        for value in values {
            self.field(format!("{key}[]"), value);
        }
        self
    }

    /// Adds `key=true` or `key=false`, the literals the classic API's own clients send.
    pub(crate) fn flag(&mut self, key: &str, value: bool) -> &mut Self {
        self.field(key, value)
    }

    /// Adds every parameter of `other`, after those already here.
    pub(crate) fn append(&mut self, other: Form) -> &mut Self {
        self.pairs.extend(other.pairs);
        self
    }

    /// Whether a parameter with this exact key was added.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    /// Whether nothing was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The encoded text. Values are percent-encoded as HTML forms are (space as `+`, `:` as
    /// `%3A`). Keys keep their brackets literal, as in the request bodies Buffer's own client
    /// tests recorded (`profile_ids[]=…&media[link]=…`); everything else in a key is encoded.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        for (key, value) in &self.pairs {
            if !out.is_empty() {
                out.push('&');
            }
            out.extend(byte_serialize(key.as_bytes()).map(literal_brackets));
            out.push('=');
            out.extend(byte_serialize(value.as_bytes()));
        }
        out
    }
}

/// Undoes the encoding of `[` and `]` in a key (`byte_serialize` yields them as whole chunks).
fn literal_brackets(chunk: &str) -> &str {
    match chunk {
        "%5B" => "[",
        "%5D" => "]",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_create_body_recorded_by_buffers_gem() {
        let mut form = Form::new();
        form.field("text", "This is an example update")
            .list(
                "profile_ids",
                ["4eb854340acb04e870000010", "4eb9276e0acb04bb81000067"],
            )
            .field("media[link]", "http://google.com");
        assert_eq!(
            form.encode(),
            "text=This+is+an+example+update&profile_ids[]=4eb854340acb04e870000010\
             &profile_ids[]=4eb9276e0acb04bb81000067&media[link]=http%3A%2F%2Fgoogle.com"
        );
    }

    #[test]
    fn nested_keys_keep_brackets_and_values_are_encoded() {
        let mut form = Form::new();
        form.list("schedules[0][days]", ["sun", "sat"])
            .list("schedules[0][times]", ["09:00"])
            .flag("now", true)
            .optional("count", None::<u32>)
            .field("odd key&=", "a&b=c+d é");
        assert_eq!(
            form.encode(),
            "schedules[0][days][]=sun&schedules[0][days][]=sat&schedules[0][times][]=09%3A00\
             &now=true&odd+key%26%3D=a%26b%3Dc%2Bd+%C3%A9"
        );
        assert!(form.has("now"));
        assert!(!form.has("count"));
        assert!(Form::new().is_empty());
        assert_eq!(Form::new().encode(), "");
    }
}
