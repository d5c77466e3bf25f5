//! `graphd serve` (issue 14) against the in-process emulator: the real binary serves its
//! app's tokens on 127.0.0.1 in the App Service managed identity protocol. Requests go over a
//! small keep-alive HTTP/1.1 client written here, so each test controls every byte (a `Host`
//! of its choosing, too many headers). Nothing sleeps: waits poll the endpoint itself, with a
//! deadline, and the emulator's counters say what reached the token service.

mod answers;
mod process;
mod tokens;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use graphd::emulator::Emulator;
use serde_json::Value;

use crate::support::emulator::{graphd_at, spawnable};

/// A guard against a hung test, not a timed assertion.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A running `graphd serve`; killed on drop if a test fails before stopping it.
pub struct Serve {
    child: Child,
    pub endpoint: String,
    pub header: String,
    pub port: u16,
    /// What `graphd serve` printed on stdout (the two export lines).
    pub stdout: String,
    stderr: tempfile::NamedTempFile,
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// How a `graphd serve` run ended.
#[derive(Debug)]
pub struct Stopped {
    pub code: Option<i32>,
    pub stderr: String,
}

impl Serve {
    /// `graphd serve --print-env ARGS` for the emulator's app with the shared credential,
    /// once it has printed its two lines (and closed stdout: read to the end here).
    pub fn start(emu: &Emulator, args: &[&str]) -> Serve {
        Serve::start_with(emu, args, &[])
    }

    pub fn start_with(emu: &Emulator, args: &[&str], env: &[(&str, &str)]) -> Serve {
        let mut cmd = graphd_at(emu);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut cmd = spawnable(&cmd);
        let stderr = tempfile::NamedTempFile::new().unwrap();
        cmd.arg("serve")
            .arg("--print-env")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr.reopen().unwrap());
        let mut child = cmd.spawn().expect("graphd serve starts");
        let mut stdout = String::new();
        // End of file comes once the lines are out: graphd serve closes its stdout then.
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let var = |name: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .map(str::to_string)
                .unwrap_or_else(|| {
                    let err = std::fs::read_to_string(stderr.path()).unwrap_or_default();
                    panic!("graphd serve printed no {name}:\n{stdout}\n--- stderr ---\n{err}")
                })
        };
        let (endpoint, header) = (var("IDENTITY_ENDPOINT"), var("IDENTITY_HEADER"));
        let port = endpoint
            .strip_prefix("http://127.0.0.1:")
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("endpoint {endpoint}"));
        Serve {
            child,
            endpoint,
            header,
            port,
            stdout,
            stderr,
        }
    }

    /// A keep-alive connection to the endpoint.
    pub fn connect(&self) -> Conn {
        Conn::open(self.port)
    }

    /// `GET {endpoint}?resource=R&api-version=2019-08-01` with the header, on a new connection.
    pub fn token(&self, resource: &str) -> Answer {
        self.connect().token(self, resource)
    }

    /// What graphd serve has written on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.stderr.path()).unwrap()
    }

    /// SIGTERM (or another signal), then the exit.
    pub fn stop(mut self, signal: rustix::process::Signal) -> Stopped {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        rustix::process::kill_process(pid, signal).unwrap();
        let status = self.child.wait().unwrap();
        Stopped {
            code: status.code(),
            stderr: self.stderr(),
        }
    }
}

/// `resource=` as a query value (RFC 3986 encoding, as the clients send it).
pub fn token_query(resource: &str) -> String {
    format!(
        "{}&api-version=2019-08-01",
        graphd::query::pair("resource", resource)
    )
}

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The access token of a 200.
    #[track_caller]
    pub fn access_token(&self) -> String {
        assert_eq!(self.status, 200, "{}", String::from_utf8_lossy(&self.body));
        self.json()["access_token"].as_str().unwrap().to_string()
    }

    /// The error message of a refusal, after checking the error body's shape.
    #[track_caller]
    pub fn refusal(&self, status: u16) -> String {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let v = self.json();
        assert_eq!(v["statusCode"], status);
        assert!(v["correlationId"].as_str().is_some_and(|c| c.len() == 36));
        v["message"].as_str().unwrap().to_string()
    }
}

/// A minimal HTTP/1.1 client over one keep-alive connection.
pub struct Conn {
    reader: BufReader<TcpStream>,
    stream: TcpStream,
}

impl Conn {
    pub fn open(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        Conn {
            reader: BufReader::new(stream.try_clone().unwrap()),
            stream,
        }
    }

    /// Sends `head` (request line and headers, without the final empty line) and reads the
    /// answer.
    pub fn send(&mut self, head: &str) -> Answer {
        self.stream
            .write_all(format!("{head}\r\n\r\n").as_bytes())
            .unwrap();
        self.read_answer()
    }

    fn read_answer(&mut self) -> Answer {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("status line {line:?}"));
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        let length: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// A well-formed token request for `resource`.
    pub fn token(&mut self, serve: &Serve, resource: &str) -> Answer {
        self.send(&format!(
            "GET /msi/token?{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nX-IDENTITY-HEADER: {}\r\nMetadata: true",
            token_query(resource),
            serve.port,
            serve.header
        ))
    }
}

/// Asks for `resource` on one connection until `done` says so, returning every answer;
/// fails after [`DEADLINE`]. Each poll is a real request: the condition is the endpoint's
/// own behaviour over time, so there is nothing to sleep for.
pub fn poll_until(
    serve: &Serve,
    resource: &str,
    mut done: impl FnMut(&Answer) -> bool,
) -> Vec<Answer> {
    let mut conn = serve.connect();
    let start = Instant::now();
    let mut seen = Vec::new();
    loop {
        let answer = conn.token(serve, resource);
        let stop = done(&answer);
        // Keep the distinct answers only: thousands of identical ones say nothing more.
        let new = seen
            .last()
            .is_none_or(|last: &Answer| last.status != answer.status || last.body != answer.body);
        if new {
            seen.push(answer);
        }
        if stop {
            return seen;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "no such answer within {DEADLINE:?}; seen: {:?}",
            seen.iter().map(|a| a.status).collect::<Vec<_>>()
        );
        std::thread::yield_now();
    }
}
