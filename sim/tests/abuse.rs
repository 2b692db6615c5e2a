//! The `buffer-sim` binary under attack, as a user leaves it running: endless uploads with and
//! without credentials, hundreds of half-open requests, slowloris headers, idle keep-alive
//! connections and a process out of file descriptors. After each attack it must still answer,
//! and its peak memory (`VmHWM`) must stay under 100 MB.
//!
//! Everything runs on loopback against a child process, with bounded loops and waits.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const BIN: &str = env!("CARGO_BIN_EXE_buffer-sim");
const TOKEN: &str = "abuse-token";
const KEY: &str = "abuse-key";
/// The bound on the simulator's peak memory under attack.
const MEMORY_CAP_KB: u64 = 100 * 1024;

/// A running `buffer-sim`, killed when dropped (even when an assertion fails).
struct Server {
    child: std::process::Child,
    addr: SocketAddr,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        Self::spawn(Command::new(BIN), args)
    }

    /// Started by a shell that first lowers the open-file limit to `limit`.
    fn start_with_fd_limit(limit: u32, args: &[&str]) -> Server {
        let mut shell = Command::new("sh");
        shell
            .arg("-c")
            .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
            .arg(BIN);
        Self::spawn(shell, args)
    }

    fn spawn(mut command: Command, args: &[&str]) -> Server {
        let mut child = command
            .args(["--addr", "127.0.0.1:0", "--token", TOKEN, "--api-key", KEY])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("buffer-sim starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("a banner line");
        let addr = first
            .trim()
            .rsplit(' ')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {first:?}"));
        Server { child, addr }
    }

    fn status_field(&self, name: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc status"))
    }

    /// Peak resident memory so far, in kB.
    fn peak_memory_kb(&self) -> u64 {
        self.status_field("VmHWM:")
    }

    /// CPU time used so far (user + system), in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).expect("/proc stat");
        // Fields after the command name (which ends with the last ')'): state is field 3,
        // utime field 14, stime field 15.
        let rest = &stat[stat.rfind(')').expect("comm") + 2..];
        let fields: Vec<u64> = rest
            .split_whitespace()
            .skip(11)
            .take(2)
            .map(|f| f.parse().expect("ticks"))
            .collect();
        fields.iter().sum()
    }

    /// Sockets the process holds open: its listener plus the connections it accepted.
    fn open_sockets(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .expect("/proc fd")
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .filter(|target| target.to_string_lossy().starts_with("socket:"))
            .count()
    }

    fn assert_memory_bounded(&self) {
        let peak = self.peak_memory_kb();
        assert!(
            peak < MEMORY_CAP_KB,
            "peak memory {peak} kB is over {MEMORY_CAP_KB} kB"
        );
    }

    /// Stops the process and returns what it wrote on stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        stderr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A normal authenticated classic request and its status, or `None` if none came within `wait`.
async fn answer_status(addr: SocketAddr, wait: Duration) -> Option<u16> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let request = client
        .get(format!("http://{addr}/1/user.json"))
        .bearer_auth(TOKEN)
        .send();
    match timeout(wait, request).await {
        Ok(Ok(response)) => Some(response.status().as_u16()),
        _ => None,
    }
}

async fn assert_answers(server: &Server) {
    assert_eq!(
        answer_status(server.addr, Duration::from_secs(10)).await,
        Some(200),
        "the simulator stopped answering normal requests"
    );
}

/// Waits (at most `wait`) for the peer to close `stream`; true if it did.
async fn closed_by_peer(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let read_until_closed = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    timeout(wait, read_until_closed).await.is_ok()
}

/// What an upload attack saw: the answer's first bytes, and how much body the client managed to
/// write before the server stopped taking it.
struct Upload {
    answer: String,
    written: usize,
}

/// Sends `head` and then a chunked body of up to `limit` bytes, as fast as the server takes it,
/// while reading the answer.
async fn endless_upload(addr: SocketAddr, head: &str, limit: usize) -> Upload {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let read_answer = tokio::spawn(async move {
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        while answer.len() < 64 * 1024 {
            match timeout(Duration::from_secs(15), reader.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
                _ => break,
            }
        }
        String::from_utf8_lossy(&answer).into_owned()
    });
    let chunk = vec![b'a'; 64 * 1024];
    let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
    frame.extend_from_slice(&chunk);
    frame.extend_from_slice(b"\r\n");
    let mut written = 0;
    let write_all = async {
        writer.write_all(head.as_bytes()).await?;
        while written < limit {
            writer.write_all(&frame).await?;
            written += chunk.len();
        }
        std::io::Result::Ok(())
    };
    // A server that stops reading without closing leaves the writer blocked: that is fine too.
    let _ = timeout(Duration::from_secs(10), write_all).await;
    drop(writer);
    let answer = read_answer.await.expect("reader task");
    Upload { answer, written }
}

const ENDLESS: usize = 256 * 1024 * 1024;
/// What kernel socket buffers can hold on loopback, with a wide margin: a client that wrote more
/// than this was being read by the server.
const BUFFERED: usize = 48 * 1024 * 1024;

fn status_of(answer: &str) -> Option<u16> {
    answer.split(' ').nth(1)?.parse().ok()
}

#[tokio::test]
async fn endless_uploads_are_refused_without_being_read() {
    let server = Server::start(&[]);
    let addr = server.addr;
    let head = |path: &str, auth: &str, kind: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: {kind}\r\n\
             Transfer-Encoding: chunked\r\n\r\n"
        )
    };
    let json = "application/json";
    let form = "application/x-www-form-urlencoded";

    // GraphQL without a key: 401 in GraphQL's shape, before any of the body is read.
    let upload = endless_upload(addr, &head("/", "", json), ENDLESS).await;
    assert_eq!(status_of(&upload.answer), Some(401), "{}", upload.answer);
    assert!(
        upload.answer.contains("UNAUTHENTICATED"),
        "{}",
        upload.answer
    );
    assert!(upload.written < BUFFERED, "{} bytes taken", upload.written);

    // GraphQL with a key it does not know: the same.
    let wrong = "Authorization: Bearer not-the-key\r\n";
    let upload = endless_upload(addr, &head("/graphql", wrong, json), ENDLESS).await;
    assert_eq!(status_of(&upload.answer), Some(401), "{}", upload.answer);
    assert!(upload.written < BUFFERED, "{} bytes taken", upload.written);

    // Classic with a token it does not know: 403, code 1001, before the body.
    let path = "/1/updates/create.json";
    let upload = endless_upload(addr, &head(path, wrong, form), ENDLESS).await;
    assert_eq!(status_of(&upload.answer), Some(403), "{}", upload.answer);
    assert!(upload.answer.contains("1001"), "{}", upload.answer);
    assert!(upload.written < BUFFERED, "{} bytes taken", upload.written);

    // Classic with no token in the header or query: the form body may carry it, so the body is
    // read, but only up to the body limit, and the answer is the classic 401.
    let upload = endless_upload(addr, &head(path, "", form), ENDLESS).await;
    assert_eq!(status_of(&upload.answer), Some(401), "{}", upload.answer);
    assert!(upload.written < BUFFERED, "{} bytes taken", upload.written);

    // With valid credentials the body limit stops it: 413.
    let key = format!("Authorization: Bearer {KEY}\r\n");
    let upload = endless_upload(addr, &head("/", &key, json), ENDLESS).await;
    assert_eq!(status_of(&upload.answer), Some(413), "{}", upload.answer);
    assert!(upload.written < BUFFERED, "{} bytes taken", upload.written);
    let token = format!("Authorization: Bearer {TOKEN}\r\n");
    let upload = endless_upload(addr, &head(path, &token, form), ENDLESS).await;
    assert_eq!(status_of(&upload.answer), Some(413), "{}", upload.answer);
    assert!(upload.written < BUFFERED, "{} bytes taken", upload.written);

    // A declared length over the limit is refused from the head alone.
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let declared = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\n{key}Content-Type: {json}\r\n\
         Content-Length: 10000000000\r\n\r\n"
    );
    stream
        .write_all(declared.as_bytes())
        .await
        .expect("write head");
    let mut answer = vec![0u8; 4096];
    let n = timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("answered from the head")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert_eq!(status_of(&answer), Some(413), "{answer}");

    assert_answers(&server).await;
    server.assert_memory_bounded();
}

/// Opens `n` connections that each send the start of a request line and then nothing more.
async fn half_open(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET /1/user.json HTTP/1.1\r\nHo")
            .await
            .expect("partial request");
        held.push(stream);
    }
    held
}

#[tokio::test]
async fn half_open_requests_are_timed_out_and_the_server_keeps_answering() {
    let server = Server::start(&["--read-timeout-ms", "1000"]);
    let mut held = half_open(server.addr, 500).await;
    assert_answers(&server).await;

    // Every one of them is closed by the server once its head is overdue.
    let waits: Vec<_> = held
        .drain(..)
        .map(|mut stream| {
            tokio::spawn(async move { closed_by_peer(&mut stream, Duration::from_secs(20)).await })
        })
        .collect();
    let mut closed = 0;
    for wait in waits {
        closed += usize::from(wait.await.expect("task"));
    }
    assert_eq!(closed, 500, "half-open connections left open by the server");
    assert_answers(&server).await;
    server.assert_memory_bounded();
}

#[tokio::test]
async fn connections_over_the_cap_wait_and_are_served_later() {
    let cap = 20;
    let server = Server::start(&["--max-connections", "20", "--read-timeout-ms", "1000"]);
    // The listener and the runtime's own (signal) sockets.
    let idle = server.open_sockets();
    let _held = half_open(server.addr, 60).await;
    let answered = tokio::spawn(answer_status(server.addr, Duration::from_secs(25)));
    // While the attack lasts, the process never holds more connections than the cap.
    let mut most = 0;
    loop {
        most = most.max(server.open_sockets());
        if answered.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        most <= idle + cap,
        "{most} sockets open ({idle} before the attack) with a cap of {cap}"
    );
    assert!(most > idle, "the attack never reached the server");
    assert_eq!(answered.await.expect("task"), Some(200));
    server.assert_memory_bounded();
}

#[tokio::test]
async fn slowloris_headers_and_idle_connections_are_closed() {
    let server = Server::start(&["--read-timeout-ms", "1000"]);
    let addr = server.addr;
    let head = format!(
        "GET /1/user.json HTTP/1.1\r\nHost: {addr}\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(200)
    );
    // 50 clients each send one byte of a head every 100 ms: at most 20 s if never cut off.
    let dribble = |head: String| async move {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        for (sent, byte) in head.bytes().enumerate() {
            if stream.write_all(&[byte]).await.is_err() {
                return Some(sent);
            }
            let mut probe = [0u8; 1024];
            if let Ok(Ok(0) | Err(_)) =
                timeout(Duration::from_millis(100), stream.read(&mut probe)).await
            {
                return Some(sent);
            }
        }
        None
    };
    let dribblers: Vec<_> = (0..50)
        .map(|_| tokio::spawn(dribble(head.clone())))
        .collect();
    assert_answers(&server).await;
    for dribbler in dribblers {
        let cut_after = dribbler.await.expect("task");
        assert!(
            cut_after.is_some_and(|bytes| bytes < head.len()),
            "a slowloris client sent its whole head: {cut_after:?}"
        );
    }

    // A keep-alive connection that goes quiet after a request is closed too.
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET /1/user.json HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut answer = vec![0u8; 4096];
    let n = timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("answered")
        .expect("read");
    assert_eq!(status_of(&String::from_utf8_lossy(&answer[..n])), Some(200));
    assert!(
        closed_by_peer(&mut stream, Duration::from_secs(15)).await,
        "an idle keep-alive connection stayed open"
    );
    server.assert_memory_bounded();
}

#[tokio::test]
async fn running_out_of_file_descriptors_backs_off_instead_of_spinning() {
    let server = Server::start_with_fd_limit(48, &["--read-timeout-ms", "5000"]);
    // More connections than the process may open files: accept fails with EMFILE.
    let held = half_open(server.addr, 80).await;
    let before = server.cpu_ticks();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = server.cpu_ticks() - before;
    // Spinning on accept costs up to a whole core: up to 200 ticks in 2 s (over 100 measured
    // on a busy machine). Backing off costs almost nothing.
    assert!(
        used < 40,
        "{used} CPU ticks in 2 s while out of file descriptors"
    );
    drop(held);
    assert_answers(&server).await;
    server.assert_memory_bounded();
    let stderr = server.stop();
    let reports = stderr.lines().filter(|l| l.contains("accept")).count();
    assert_eq!(
        reports, 1,
        "accept errors should be reported once: {stderr}"
    );
}
