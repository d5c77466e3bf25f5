//! A scripted HTTP/1.1 server for what the emulator cannot show: the exact request bytes
//! graphd sends (form fields, each attempt's assertion), token answers the emulator never
//! gives (no `access_token`, a non-Bearer type, a body cut off mid-way), and a proxy that
//! records whether anything went through it.
//!
//! Each connection gets one request and the next reply of the script (the last one repeats),
//! then is closed. Requests are recorded before the reply is written, so once the `graphd`
//! process has exited, `requests()` holds all of them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Captured {
    /// `POST /tenant/oauth2/v2.0/token HTTP/1.1`, `CONNECT host:443 HTTP/1.1`, ...
    pub request_line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Captured {
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

/// A running scripted server; dropping it stops it.
pub struct Scripted {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Captured>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Scripted {
    /// Serves `replies` (raw HTTP responses, see [`reply`]) in order on 127.0.0.1.
    pub fn start(replies: Vec<Vec<u8>>) -> Scripted {
        assert!(!replies.is_empty(), "a script needs a reply");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (log, stop) = (Arc::clone(&log), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut next = 0;
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let reply = &replies[next.min(replies.len() - 1)];
                    next += 1;
                    serve(stream, reply, &log);
                }
            })
        };
        Scripted {
            addr,
            log,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.log.lock().expect("log lock").clone()
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, reply: &[u8], log: &Mutex<Vec<Captured>>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return; // the wake-up connection, or a client that gave up
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
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
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    log.lock().expect("log lock").push(Captured {
        request_line: request_line.trim_end().to_string(),
        headers,
        body,
    });
    let _ = writer.write_all(reply);
    let _ = writer.flush();
    let _ = writer.shutdown(std::net::Shutdown::Both);
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
