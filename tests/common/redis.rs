//! A real Redis for the fleet's tests: `redis-server` on a free loopback port, in a directory
//! of its own, with every write fsynced to its append-only file (so a restart loses nothing
//! acknowledged), killed and removed on drop.
//!
//! Without `redis-server` the tests print why and pass, unless `BUFFER_REQUIRE_REDIS=1` (as
//! CI sets), where a missing server fails them.
#![allow(dead_code)] // each test file uses a different part

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a starting server may take to answer `PING`.
const STARTUP: Duration = Duration::from_secs(10);

/// A running `redis-server` of this test's own.
pub struct Redis {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    binary: PathBuf,
}

/// The `redis-server` binary on `PATH` (or in `/usr/sbin`, where some systems put it).
fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| candidate.is_file())
}

impl Redis {
    /// A fresh server, or `None` (after saying why) when `redis-server` is not installed and
    /// `BUFFER_REQUIRE_REDIS` is not `1`.
    pub fn start() -> Option<Self> {
        let Some(binary) = binary() else {
            let required = std::env::var("BUFFER_REQUIRE_REDIS").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "BUFFER_REQUIRE_REDIS=1 but redis-server is not installed (apt-get install redis-server)"
            );
            eprintln!(
                "SKIPPED: redis-server is not installed, so this fleet test did not run \
                 (install the redis-server package, or set BUFFER_REQUIRE_REDIS=1 to fail instead)"
            );
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("redis-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a directory for redis-server");
        let mut redis = Self {
            child: None,
            port,
            dir,
            binary,
        };
        redis.run();
        Some(redis)
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on its port and directory, and waits until it answers.
    pub fn run(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--protected-mode", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .args(["--save", "", "--daemonize", "no", "--loglevel", "warning"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let start = Instant::now();
        while !self.answers() {
            assert!(
                start.elapsed() < STARTUP,
                "redis-server did not answer within {STARTUP:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the server with `SIGKILL`, as a crash would: what it had fsynced stays.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the server answers `PING` with `+PONG`.
    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut answer = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut answer).is_ok()
            && &answer == b"+PONG\r\n"
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
