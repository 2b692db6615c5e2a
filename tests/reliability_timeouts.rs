//! Both backends give up on a silent server after their request timeout, with a typed
//! [`Error::Timeout`] that the retry layer treats as transient.

use buffer_bridge::graphql::GraphQl;
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::retry::{RetryPolicy, Retrying};
use buffer_bridge::{Backend, BackendExt, Error};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// A server that accepts connections and never answers; how many it accepted.
async fn silent_server() -> (String, tokio::sync::watch::Receiver<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (count, seen) = tokio::sync::watch::channel(0);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
            count.send_modify(|n| *n += 1);
        }
    });
    (format!("http://{addr}/"), seen)
}

const TIMEOUT: Duration = Duration::from_millis(300);

fn backends(url: &str) -> Vec<Box<dyn Backend>> {
    vec![
        Box::new(
            ClassicRest::builder()
                .access_token("t")
                .base_url(format!("{url}1/"))
                .timeout(TIMEOUT)
                .connect_timeout(Duration::from_millis(100))
                .build()
                .unwrap(),
        ),
        Box::new(
            GraphQl::builder()
                .api_key("k")
                .base_url(url)
                .organization_id("org")
                .timeout(TIMEOUT)
                .connect_timeout(Duration::from_millis(100))
                .build()
                .unwrap(),
        ),
    ]
}

#[tokio::test]
async fn a_silent_server_times_out_with_the_configured_timeout() {
    let (url, _) = silent_server().await;
    for backend in backends(&url) {
        let started = Instant::now();
        let error = backend.channels().await.unwrap_err();
        assert!(
            matches!(error, Error::Timeout { after: Some(after), .. } if after == TIMEOUT),
            "{}: {error:?}",
            backend.kind()
        );
        assert!(error.is_transient());
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

#[tokio::test]
async fn a_read_that_times_out_is_retried_and_a_write_is_not_resent() {
    let (url, seen) = silent_server().await;
    for backend in backends(&url) {
        let kind = backend.kind();
        let retrying = Retrying::new(backend)
            .policy(
                RetryPolicy::default()
                    .max_attempts(2)
                    .backoff(Duration::from_millis(10), Duration::from_millis(10)),
            )
            .seed(3);
        let before = *seen.borrow();
        let error = retrying.channels().await.unwrap_err();
        assert_eq!(error.kind(), buffer_bridge::ErrorKind::Timeout, "{kind}");
        assert_eq!(*seen.borrow() - before, 2, "{kind}: two attempts");
        let before = *seen.borrow();
        let error = retrying
            .share_post(&"6a1e0a0b0c0d0e0f10111213".into())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), buffer_bridge::ErrorKind::Timeout, "{kind}");
        assert_eq!(*seen.borrow() - before, 1, "{kind}: a write is sent once");
    }
}

/// A server that sends its headers and the start of a body, then nothing.
async fn stalling_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"data\":")
                .await;
            held.push(socket);
        }
    });
    format!("http://{addr}/")
}

#[tokio::test]
async fn a_body_that_stalls_times_out_with_the_configured_timeout() {
    let url = stalling_server().await;
    for backend in backends(&url) {
        let started = Instant::now();
        let error = backend.account().await.unwrap_err();
        assert!(
            matches!(error, Error::Timeout { after: Some(after), .. } if after == TIMEOUT),
            "{}: {error:?}",
            backend.kind()
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

#[tokio::test]
async fn the_timeout_holds_on_a_client_the_caller_brought() {
    let (url, _) = silent_server().await;
    // The caller's client has no timeout of its own: the backend's still applies.
    let backends: Vec<Box<dyn Backend>> = vec![
        Box::new(
            ClassicRest::builder()
                .access_token("t")
                .base_url(format!("{url}1/"))
                .timeout(TIMEOUT)
                .http_client(reqwest::Client::new())
                .build()
                .unwrap(),
        ),
        Box::new(
            GraphQl::builder()
                .api_key("k")
                .base_url(&url)
                .organization_id("org")
                .timeout(TIMEOUT)
                .http_client(reqwest::Client::new())
                .build()
                .unwrap(),
        ),
    ];
    for backend in backends {
        let started = Instant::now();
        let error = backend.channels().await.unwrap_err();
        assert!(
            matches!(error, Error::Timeout { after: Some(after), .. } if after == TIMEOUT),
            "{}: {error:?}",
            backend.kind()
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
