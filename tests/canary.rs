//! The access token must never show: not in `Debug` of the client or its builder, not in any
//! error's `Display`, `Debug` or JSON, not in log output, even when Buffer echoes it back.

use buffer_bridge::graphql::GraphQl;
use buffer_bridge::model::{NewPost, PostEdit, PostId};
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::{BackendExt, Error};
use std::io::Write;
use std::sync::{Arc, Mutex};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "canary-TOKEN-7c1e5a92d4";

/// Log output, captured in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn answer(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_string(body)
}

/// Every way an error can be printed.
fn printed(error: &Error) -> String {
    format!(
        "{error}\n{error:?}\n{}\n{}",
        serde_json::to_string(error).unwrap(),
        error.message()
    )
}

#[tokio::test]
async fn the_token_never_shows() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    let echo = format!("<html><body>Invalid token {TOKEN} for Bearer {TOKEN}</body></html>");
    let routes = [
        ("/1/profiles.json", answer(200, "[]")),
        ("/1/updates/empty401.json", answer(401, "")),
        ("/1/updates/html500.json", answer(500, &echo)),
        (
            "/1/updates/truncated.json",
            answer(200, &format!(r#"{{"id":"{TOKEN}"#)),
        ),
        (
            "/1/updates/coded.json",
            answer(
                400,
                &format!(r#"{{"code":1004,"error":"bad token {TOKEN}"}}"#),
            ),
        ),
        (
            "/1/updates/typed.json",
            answer(200, &format!(r#"{{"id":"u","profile_id":["{TOKEN}"]}}"#)),
        ),
        (
            "/1/profiles/p/schedules.json",
            answer(200, &format!(r#"["{TOKEN}"]"#)),
        ),
    ];
    for (route, response) in routes {
        Mock::given(path(route))
            .respond_with(response)
            .mount(&server)
            .await;
    }

    let builder = ClassicRest::builder()
        .access_token(TOKEN)
        .base_url(format!("{}/1/", server.uri()));
    let rest = builder.clone().build().unwrap();
    let mut printed_things = vec![format!("{builder:?}"), format!("{rest:?}")];

    assert!(
        rest.channels().await.unwrap().is_empty(),
        "a successful call"
    );
    let mut errors = Vec::new();
    for id in ["empty401", "html500", "truncated", "coded", "typed"] {
        errors.push(rest.post(&PostId::new(id)).await.unwrap_err());
    }
    errors.push(rest.schedules(&"p".into()).await.unwrap_err());

    // A closed port: bind one, note it, let it go.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable = ClassicRest::builder()
        .access_token(TOKEN)
        .base_url(format!("http://127.0.0.1:{port}/1/"))
        .build()
        .unwrap();
    let transport = unreachable.account().await.unwrap_err();
    assert_eq!(
        transport.kind(),
        buffer_bridge::ErrorKind::Transport,
        "{transport:?}"
    );
    errors.push(transport);

    let echoed = printed(&errors[1]);
    assert!(
        echoed.contains("[redacted]"),
        "the echoed page is shown, redacted: {echoed}"
    );
    printed_things.extend(errors.iter().map(printed));
    printed_things.push(logs.text());

    for text in &printed_things {
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
        assert!(
            !text.contains("canary-TOKEN"),
            "part of the token leaked: {text}"
        );
    }
    let logs = logs.text();
    assert!(logs.contains("classic_rest"), "requests are logged: {logs}");
    assert!(logs.contains("status=500"), "statuses are logged: {logs}");
}

#[tokio::test]
async fn the_api_key_never_shows_even_when_graphql_echoes_it() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let refused = MockServer::start().await;
    Mock::given(path("/"))
        .respond_with(answer(
            200,
            &format!(
                r#"{{"errors":[{{"message":"Invalid API key {TOKEN}","extensions":{{"code":"UNAUTHENTICATED"}}}}]}}"#
            ),
        ))
        .mount(&refused)
        .await;
    let warned = MockServer::start().await;
    Mock::given(path("/"))
        .respond_with(answer(
            200,
            &format!(
                r#"{{"data":{{"account":{{"id":"a","email":"me@example.com","name":"Me","timezone":"Europe/Paris","createdAt":"2020-01-01T00:00:00Z","organizations":[]}}}},
                    "extensions":{{"warnings":[{{"code":"KEY","message":"key {TOKEN} is old"}}]}}}}"#
            ),
        ))
        .mount(&warned)
        .await;
    let backend = |server: &MockServer| {
        GraphQl::builder()
            .api_key(TOKEN)
            .base_url(server.uri())
            .build()
            .unwrap()
    };

    let error = backend(&refused).account().await.unwrap_err();
    assert_eq!(error.kind(), buffer_bridge::ErrorKind::Unauthorized);
    let warned = backend(&warned);
    warned.account().await.unwrap();
    let warnings = format!("{:?}", warned.last_warnings());
    assert!(warnings.contains("[redacted]"), "{warnings}");

    let debug = format!("{warned:?}");
    assert!(debug.contains("Credential([redacted])"), "{debug}");
    for text in [printed(&error), warnings, debug, logs.text()] {
        assert!(!text.contains(TOKEN), "the key leaked: {text}");
    }
}

#[tokio::test]
async fn mutation_errors_that_echo_the_api_key_are_scrubbed_per_channel_too() {
    let server = MockServer::start().await;
    let refusal =
        format!(r#"{{"__typename":"InvalidInputError","message":"key {TOKEN} may not post"}}"#);
    Mock::given(path("/"))
        .respond_with(answer(
            200,
            // One channel goes out as the plain `createPost` document, several as aliases `p0`…
            &format!(
                r#"{{"data":{{"createPost":{refusal},"p0":{refusal},"editPost":{refusal}}}}}"#
            ),
        ))
        .mount(&server)
        .await;
    let backend = GraphQl::builder()
        .api_key(TOKEN)
        .base_url(server.uri())
        .build()
        .unwrap();

    let outcome = backend
        .create_post(&NewPost::new("hello").channel("5160746d13d04a5e3a00000f"))
        .await
        .unwrap();
    let (_, created) = outcome.failures().next().expect("the channel was refused");
    let edited = backend
        .edit_post(
            &"519464f2872cad3734000028".into(),
            &PostEdit::default().text("hi"),
        )
        .await
        .unwrap_err();
    for error in [created, &edited] {
        assert_eq!(
            error.kind(),
            buffer_bridge::ErrorKind::InvalidInput,
            "{error}"
        );
        let text = printed(error);
        assert!(text.contains("[redacted]"), "{text}");
        assert!(!text.contains(TOKEN), "the key leaked: {text}");
    }
}

#[tokio::test]
async fn confirmations_that_echo_the_token_are_logged_without_it() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(path("/1/updates/519464f2872cad3734000028/destroy.json"))
        .respond_with(answer(
            200,
            &format!(r#"{{"success":true,"message":"Update deleted for {TOKEN}"}}"#),
        ))
        .mount(&server)
        .await;
    let rest = ClassicRest::builder()
        .access_token(TOKEN)
        .base_url(format!("{}/1/", server.uri()))
        .build()
        .unwrap();

    rest.delete_post(&PostId::new("519464f2872cad3734000028"))
        .await
        .unwrap();
    let logs = logs.text();
    assert!(logs.contains("Update deleted for [redacted]"), "{logs}");
    assert!(!logs.contains(TOKEN), "the token leaked: {logs}");
}

/// A token with the characters encoders treat differently (`/`, `+`, `=`, a space, `~`); its
/// `7c1e5a92d4` survives every encoding, so finding it anywhere means a leak.
const ECHOED: &str = "1/canary+TOKEN= 7c1e5a92d4~x";
const SURVIVES_ENCODING: &str = "7c1e5a92d4";

/// The ways a server can echo a token back.
#[derive(Clone, Copy, Debug)]
enum Encoding {
    Literal,
    /// JSON with `/` escaped, as PHP writes it.
    JsonEscaped,
    PercentUpper,
    PercentLower,
    /// `application/x-www-form-urlencoded`: `+` for a space.
    Form,
}

impl Encoding {
    const ALL: [Self; 5] = [
        Self::Literal,
        Self::JsonEscaped,
        Self::PercentUpper,
        Self::PercentLower,
        Self::Form,
    ];

    fn apply(self, token: &str) -> String {
        let percent = |lower: bool| {
            token
                .bytes()
                .map(|byte| match byte {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        char::from(byte).to_string()
                    }
                    _ if lower => format!("%{byte:02x}"),
                    _ => format!("%{byte:02X}"),
                })
                .collect::<String>()
        };
        match self {
            Self::Literal => token.to_owned(),
            Self::JsonEscaped => token.replace('/', "\\/"),
            Self::PercentUpper => percent(false),
            Self::PercentLower => percent(true),
            Self::Form => url::form_urlencoded::byte_serialize(token.as_bytes()).collect(),
        }
    }
}

/// Answers with `body`, into which it writes the bearer token the client sent, encoded.
struct Echo {
    status: u16,
    encoding: Encoding,
    body: fn(&str) -> String,
}

impl wiremock::Respond for Echo {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let sent = request
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .expect("the client sends its token as a bearer token");
        let echoed = self.encoding.apply(sent);
        assert!(echoed.contains(SURVIVES_ENCODING), "{echoed}");
        ResponseTemplate::new(self.status).set_body_string((self.body)(&echoed))
    }
}

async fn echo(
    server: &MockServer,
    route: &str,
    status: u16,
    encoding: Encoding,
    body: fn(&str) -> String,
) {
    Mock::given(path(route))
        .respond_with(Echo {
            status,
            encoding,
            body,
        })
        .mount(server)
        .await;
}

fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

fn assert_no_leak(encoding: Encoding, texts: &[String]) {
    for text in texts {
        assert!(
            !text.contains(SURVIVES_ENCODING) && !text.contains("canary"),
            "{encoding:?}: the token leaked: {text}"
        );
    }
}

#[tokio::test]
async fn the_classic_token_never_shows_in_any_encoding_it_is_echoed_in() {
    for encoding in Encoding::ALL {
        let (logs, _guard) = capture_logs();
        let server = MockServer::start().await;
        echo(&server, "/1/updates/coded.json", 400, encoding, |token| {
            format!(r#"{{"code":1004,"error":"bad token {token}"}}"#)
        })
        .await;
        echo(&server, "/1/updates/html500.json", 500, encoding, |token| {
            format!("<html><body>Invalid token {token}</body></html>")
        })
        .await;
        echo(
            &server,
            "/1/updates/truncated.json",
            200,
            encoding,
            |token| format!(r#"{{"id":"{token}"#),
        )
        .await;
        let rest = ClassicRest::builder()
            .access_token(ECHOED)
            .base_url(format!("{}/1/", server.uri()))
            .build()
            .unwrap();

        let mut shown = vec![format!("{rest:?}")];
        for id in ["coded", "html500", "truncated"] {
            let error = rest.post(&PostId::new(id)).await.unwrap_err();
            let text = printed(&error);
            assert!(text.contains("[redacted]"), "{encoding:?} {id}: {text}");
            shown.push(text);
        }
        shown.push(logs.text());
        assert_no_leak(encoding, &shown);
    }
}

#[tokio::test]
async fn the_graphql_key_never_shows_in_any_encoding_nor_any_warning_field() {
    const ACCOUNT: &str = r#""account":{"id":"a","email":"me@example.com","name":"Me","timezone":"Europe/Paris","createdAt":"2020-01-01T00:00:00Z","organizations":[]}"#;
    for encoding in Encoding::ALL {
        let (logs, _guard) = capture_logs();
        let server = MockServer::start().await;
        echo(&server, "/refused", 200, encoding, |key| {
            format!(
                r#"{{"errors":[{{"message":"Invalid API key {key}","extensions":{{"code":"UNAUTHENTICATED"}}}}]}}"#
            )
        })
        .await;
        echo(&server, "/warned", 200, encoding, |key| {
            format!(
                r#"{{"data":{{{ACCOUNT}}},"extensions":{{"warnings":[
                    {{"code":"{key}","message":"key {key} is old","paths":["input.{key}"]}},
                    {{"code":7,"message":{{"unexpected":"{key}"}}}}]}}}}"#
            )
        })
        .await;
        echo(&server, "/broken", 502, encoding, |key| {
            format!("<html>bad gateway for {key}</html>")
        })
        .await;
        echo(&server, "/misshapen", 200, encoding, |key| {
            format!(r#"{{"data":{{"account":{{"id":["{key}"]}}}}}}"#)
        })
        .await;
        let backend = |route: &str| {
            GraphQl::builder()
                .api_key(ECHOED)
                .base_url(format!("{}/{route}", server.uri()))
                .build()
                .unwrap()
        };

        let mut shown = Vec::new();
        for route in ["refused", "broken", "misshapen"] {
            let error = backend(route).account().await.unwrap_err();
            let text = printed(&error);
            assert!(text.contains("[redacted]"), "{encoding:?} {route}: {text}");
            shown.push(text);
        }
        let warned = backend("warned");
        warned.account().await.unwrap();
        let warnings = warned.last_warnings();
        assert_eq!(warnings.len(), 2, "{encoding:?}");
        let first = format!("{:?}", warnings[0]);
        for field in [
            "code: Some(\"[redacted]\")",
            "key [redacted] is old",
            "input.[redacted]",
        ] {
            assert!(first.contains(field), "{encoding:?}: {first}");
        }
        shown.extend([
            format!("{warnings:?}"),
            serde_json::to_string(&warnings).unwrap(),
            format!("{warned:?}"),
        ]);
        shown.push(logs.text());
        assert_no_leak(encoding, &shown);
    }
}
