//! What the kill-and-restart tests share: reading a child process's stdout line by line, and
//! a seeded generator for the points where the child is killed.
#![allow(dead_code)] // each test file uses a different part

use std::io::BufRead;
use std::process::Child;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

/// The child's stdout lines, read on a thread of their own.
pub fn lines(child: &mut Child) -> Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (send, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// Waits for a line ending in `want` (the harness may print its test line just before,
/// without a line break); false when the child ended first. A child silent for `patience`
/// fails the test instead of hanging it.
pub fn wait_for(lines: &Receiver<String>, want: &str, patience: Duration) -> bool {
    loop {
        match lines.recv_timeout(patience) {
            Ok(line) if line.ends_with(want) => return true,
            Ok(_) => {}
            Err(RecvTimeoutError::Disconnected) => return false,
            Err(RecvTimeoutError::Timeout) => panic!("a child said nothing for {patience:?}"),
        }
    }
}

/// A small seeded generator for the kill points.
pub struct Rng(pub u64);

impl Rng {
    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}
