//! Classic request parameters: query string and form body, with PHP/Rails bracket keys
//! (`profile_ids[]`, `media[link]`, `schedules[0][days][]`), literal or percent-encoded.

/// The decoded `key=value` pairs of a request, query string first.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Decodes the query string and, when present, the form body.
    pub(crate) fn parse(query: &str, body: &[u8]) -> Self {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.extend(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())));
        Self { pairs }
    }

    /// The first value of a plain key.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A non-empty value.
    pub(crate) fn text(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// A boolean flag (`true`, `1`, `yes`).
    pub(crate) fn flag(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"))
    }

    /// The values of an array parameter: `key[]=a&key[]=b` (or `key[0]=a&key[1]=b`).
    pub(crate) fn list(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| {
                let (base, segments) = split_key(k);
                base == key
                    && segments.len() == 1
                    && (segments[0].is_empty() || segments[0].parse::<usize>().is_ok())
            })
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The entries of an associative parameter: `key[name]=value`.
    pub(crate) fn map(&self, key: &str) -> Vec<(String, String)> {
        self.pairs
            .iter()
            .filter_map(|(k, v)| {
                let (base, segments) = split_key(k);
                (base == key && segments.len() == 1 && !segments[0].is_empty())
                    .then(|| (segments[0].to_owned(), v.clone()))
            })
            .collect()
    }

    /// Every pair whose key starts with `key[`, split into its bracket segments.
    pub(crate) fn nested(&self, key: &str) -> Vec<(Vec<String>, String)> {
        self.pairs
            .iter()
            .filter_map(|(k, v)| {
                let (base, segments) = split_key(k);
                (base == key && !segments.is_empty()).then(|| {
                    (
                        segments.iter().map(|s| (*s).to_owned()).collect(),
                        v.clone(),
                    )
                })
            })
            .collect()
    }
}

/// `a[b][]` → (`a`, [`b`, ``]). A key without brackets has no segments.
fn split_key(key: &str) -> (&str, Vec<&str>) {
    let Some(open) = key.find('[') else {
        return (key, Vec::new());
    };
    let base = &key[..open];
    let mut segments = Vec::new();
    let mut rest = &key[open..];
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            break;
        };
        segments.push(&stripped[..close]);
        rest = &stripped[close + 1..];
    }
    (base, segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_literal_and_encoded() {
        let body = b"text=Hi+there&profile_ids[]=a&profile_ids%5B%5D=b&media%5Blink%5D=http%3A%2F%2Fx.io&schedules[0][days][]=mon&schedules[0][times][]=12%3A45";
        let params = Params::parse("access_token=t", body);
        assert_eq!(params.get("text"), Some("Hi there"));
        assert_eq!(params.list("profile_ids"), vec!["a", "b"]);
        assert_eq!(
            params.map("media"),
            vec![("link".to_owned(), "http://x.io".to_owned())]
        );
        let nested = params.nested("schedules");
        assert_eq!(nested[1].0, vec!["0", "times", ""]);
        assert_eq!(nested[1].1, "12:45");
        assert_eq!(params.get("access_token"), Some("t"));
    }
}
