//! One scripted HTTP/1.1 server on a raw TCP socket, for what the emulator cannot show: the
//! exact request graphd sends (form fields, each attempt's assertion, a proxy's `CONNECT`),
//! answers no faithful service gives (a token without `access_token`, a body cut off
//! mid-way, a redirect with a chosen target) and a host nothing may ever connect to.
//!
//! It binds 127.0.0.1:0 and serves one connection at a time, one request per connection:
//! it reads the head and a `Content-Length` body, records them, and writes the next step's
//! canned bytes (the last step repeats), then closes. A step may say what request it
//! expects; a request that does not match is answered `599` and fails the test when the
//! server is dropped. With no steps it answers nothing: every connection is counted and
//! closed ([`ScriptedServer::assert_untouched`]).
//!
//! Requests are recorded before the reply is written, so once a client has exited,
//! [`requests`](ScriptedServer::requests) holds everything it sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `POST /tenant/oauth2/v2.0/token HTTP/1.1`, `CONNECT host:443 HTTP/1.1`, ...
    pub request_line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The form fields in the order sent.
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    pub fn field(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

type Expectation = Box<dyn Fn(&Received) -> bool + Send>;

/// One step of a script: what request it expects (any, unless said), and the raw bytes
/// written back.
pub struct Step {
    expect: Option<(String, Expectation)>,
    reply: Vec<u8>,
}

impl Step {
    /// Answers whatever request comes with `reply`.
    pub fn any(reply: impl Into<Vec<u8>>) -> Step {
        Step {
            expect: None,
            reply: reply.into(),
        }
    }

    /// Answers `reply` to a request whose request line starts with `prefix`
    /// (`"GET /v1.0/users"`, `"CONNECT "`); any other request fails the test.
    pub fn when(prefix: &str, reply: impl Into<Vec<u8>>) -> Step {
        let wanted = prefix.to_string();
        Step::expecting(
            &format!("a request line starting {prefix:?}"),
            move |r| r.request_line.starts_with(&wanted),
            reply,
        )
    }

    /// Answers `reply` to a request for which `expect` holds (`what` describes it in the
    /// failure); any other request fails the test.
    pub fn expecting(
        what: &str,
        expect: impl Fn(&Received) -> bool + Send + 'static,
        reply: impl Into<Vec<u8>>,
    ) -> Step {
        Step {
            expect: Some((what.to_string(), Box::new(expect))),
            reply: reply.into(),
        }
    }
}

impl From<Vec<u8>> for Step {
    fn from(reply: Vec<u8>) -> Step {
        Step::any(reply)
    }
}

impl From<String> for Step {
    fn from(reply: String) -> Step {
        Step::any(reply)
    }
}

/// The first line of a connection [`ScriptedServer::connections`] makes to learn that the
/// server has handled every connection made before it.
const SYNC: &str = "GRAPHD-TEST-SYNC\r\n";

/// A guard, not a timing: a client that connects and then neither sends nor closes is given
/// up on after this long, so the server (and its `Drop`) cannot hang the suite.
const STALLED_CLIENT: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Log {
    requests: Vec<Received>,
    /// Connections accepted, sync connections excluded.
    connections: usize,
    /// Requests a step did not expect: what was expected, and the request line.
    mismatches: Vec<String>,
}

/// A running scripted server; dropping it stops it, and fails the test if a request did not
/// match its step.
pub struct ScriptedServer {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ScriptedServer {
    /// Serves `script` in order on 127.0.0.1 (the last step repeats); steps are [`Step`]s or
    /// raw replies (`Vec<u8>`, `String`) that answer any request.
    pub fn start<S: Into<Step>>(script: impl IntoIterator<Item = S>) -> ScriptedServer {
        let steps: Vec<Step> = script.into_iter().map(Into::into).collect();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let log = Arc::new(Mutex::new(Log::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (log, stop) = (Arc::clone(&log), Arc::clone(&stop));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        serve(stream, &steps, &log);
                    }
                }
            })
        };
        ScriptedServer {
            addr,
            log,
            stop,
            thread: Some(thread),
        }
    }

    /// A loopback port standing for a host nothing may connect to: it answers nothing, and
    /// [`assert_untouched`](Self::assert_untouched) checks no connection came.
    pub fn silent() -> ScriptedServer {
        ScriptedServer::start(Vec::<Step>::new())
    }

    /// `http://127.0.0.1:PORT`
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<Received> {
        self.lock().requests.clone()
    }

    /// Connections made so far, including any the server had not yet handled when this was
    /// called: it makes one more connection and waits until the server has handled it, and
    /// so every connection queued before it (the server takes them in order).
    pub fn connections(&self) -> usize {
        let mut sync = TcpStream::connect(self.addr).expect("connect to the scripted server");
        sync.write_all(SYNC.as_bytes()).expect("send the sync line");
        // The server closes the sync connection once it reaches it.
        let _ = sync.read_to_end(&mut Vec::new());
        self.lock().connections
    }

    /// Asserts that nothing connected (a `silent` server standing for a foreign host).
    pub fn assert_untouched(&self) {
        let n = self.connections();
        assert_eq!(
            n,
            0,
            "{} received {n} connection(s); requests: {:#?}",
            self.origin(),
            self.requests()
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let mismatches = std::mem::take(&mut self.lock().mismatches);
        if !mismatches.is_empty() && !std::thread::panicking() {
            panic!(
                "the scripted server at {} got requests its script did not expect:\n  {}",
                self.origin(),
                mismatches.join("\n  ")
            );
        }
    }
}

/// Reads one request from `stream`, records it, and answers it from `steps`.
fn serve(stream: TcpStream, steps: &[Step], log: &Mutex<Log>) {
    let lock = || log.lock().unwrap_or_else(|e| e.into_inner());
    let _ = stream.set_read_timeout(Some(STALLED_CLIENT));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    let _ = reader.read_line(&mut request_line);
    if request_line == SYNC {
        return;
    }
    lock().connections += 1;
    if request_line.is_empty() {
        return; // a client that gave up before sending anything
    }
    let Some(received) = read_rest(&mut reader, request_line) else {
        return;
    };
    let step = {
        let mut log = lock();
        log.requests.push(received.clone());
        let n = log.requests.len();
        let step = steps.get((n - 1).min(steps.len().saturating_sub(1)));
        if let Some((what, expect)) = step.and_then(|s| s.expect.as_ref())
            && !expect(&received)
        {
            log.mismatches.push(format!(
                "request {n}: expected {what}, got {:?}",
                received.request_line
            ));
            let _ = writer.write_all(&reply(599, &[], b"not what the script expected"));
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
        step
    };
    if let Some(step) = step {
        let _ = writer.write_all(&step.reply);
        let _ = writer.flush();
    }
    let _ = writer.shutdown(Shutdown::Both);
}

/// The headers and `Content-Length` body after `request_line`; `None` if the client went
/// away first.
fn read_rest(reader: &mut BufReader<TcpStream>, request_line: String) -> Option<Received> {
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        request_line: request_line.trim_end().to_string(),
        headers,
        body,
    })
}

/// A complete response: status line, `headers`, `Content-Length`, `Connection: close`, body.
pub fn reply(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} Scripted\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A 200 JSON token response.
pub fn token_reply(json: &str) -> Vec<u8> {
    reply(
        200,
        &[("Content-Type", "application/json")],
        json.as_bytes(),
    )
}

/// A well-formed token response carrying `token`.
pub fn good_token(token: &str) -> Vec<u8> {
    token_reply(&format!(
        r#"{{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"{token}"}}"#
    ))
}

/// A Graph error answer in Graph's shape (docs/protocol.md#graph-errors), with `request-id`
/// set as Graph sets it.
pub fn graph_error(status: u16, code: &str, message: &str, request_id: &str) -> Vec<u8> {
    let body = serde_json::json!({"error": {
        "code": code,
        "message": message,
        "innerError": {"date": "2024-05-01T10:00:00", "request-id": request_id, "client-request-id": request_id},
    }});
    reply(
        status,
        &[
            ("content-type", "application/json"),
            ("request-id", request_id),
        ],
        body.to_string().as_bytes(),
    )
}

/// A loopback port where connections are refused: bound but not listening, so no other
/// test can take the port while this value holds it.
pub struct NobodyListening {
    _socket: tokio::net::TcpSocket,
    port: u16,
}

impl NobodyListening {
    pub fn new() -> NobodyListening {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .bind("127.0.0.1:0".parse().expect("an address"))
            .expect("bind 127.0.0.1:0");
        let port = socket.local_addr().expect("local address").port();
        NobodyListening {
            _socket: socket,
            port,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
