//! An HTTP answer before it goes on the wire, shared by both APIs.

/// Status, headers and body.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// A JSON body with the content type Buffer's classic API sends.
    pub(crate) fn json(status: u16, body: &serde_json::Value) -> Self {
        Self::json_with(status, body, false)
    }

    pub(crate) fn json_with(status: u16, body: &serde_json::Value, pretty: bool) -> Self {
        let text = if pretty {
            serde_json::to_vec_pretty(body)
        } else {
            serde_json::to_vec(body)
        };
        Self {
            status,
            headers: vec![("content-type", "application/json; charset=utf-8".to_owned())],
            body: text.unwrap_or_default(),
        }
    }

    /// A body already serialized as JSON.
    pub(crate) fn json_bytes(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json; charset=utf-8".to_owned())],
            body,
        }
    }

    /// No body at all.
    pub(crate) fn empty(status: u16) -> Self {
        Self {
            status,
            headers: vec![("content-type", "text/html; charset=UTF-8".to_owned())],
            body: Vec::new(),
        }
    }

    /// An HTML page, as proxies and portals send.
    pub(crate) fn html(status: u16, title: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "text/html; charset=UTF-8".to_owned())],
            body: format!(
                "<!DOCTYPE html>\n<html><head><title>{title}</title></head><body><h1>{title}</h1><hr><p>buffer-sim</p></body></html>\n"
            )
            .into_bytes(),
        }
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}
