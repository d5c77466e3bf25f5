//! `ScriptedServer`: every connection is counted, even one not yet handled; requests are
//! recorded; a request its step did not expect fails the test on drop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::support::scripted::{ScriptedServer, Step, reply};

fn send(server: &ScriptedServer, request: &str) -> Vec<u8> {
    let addr = server.origin().trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    answer
}

#[test]
fn a_silent_server_sees_a_connection_that_sent_nothing() {
    let silent = ScriptedServer::silent();
    silent.assert_untouched();
    // Connected and gone at once: only the count shows it was ever there.
    drop(TcpStream::connect(silent.origin().trim_start_matches("http://")).unwrap());
    assert_eq!(silent.connections(), 1);
    assert!(silent.requests().is_empty());
    let caught = catch_unwind(AssertUnwindSafe(|| silent.assert_untouched()));
    assert!(caught.is_err(), "a connection was made");
}

#[test]
fn steps_answer_in_order_and_the_last_repeats() {
    let server = ScriptedServer::start([reply(503, &[], b"busy"), reply(200, &[], b"ok")]);
    let body = |answer: Vec<u8>| String::from_utf8(answer).unwrap();
    let post = "POST /t HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
    assert!(body(send(&server, post)).starts_with("HTTP/1.1 503 "));
    assert!(body(send(&server, post)).ends_with("\r\n\r\nok"));
    assert!(body(send(&server, "GET /again HTTP/1.1\r\n\r\n")).ends_with("ok"));
    let got = server.requests();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].request_line, "POST /t HTTP/1.1");
    assert_eq!(got[0].body, b"hello");
    assert_eq!(got[0].header("content-length"), Some("5"));
    assert_eq!(got[2].request_line, "GET /again HTTP/1.1");
    assert_eq!(server.connections(), 3);
}

#[test]
fn an_unexpected_request_fails_the_test_on_drop() {
    let server = ScriptedServer::start([Step::when("GET /v1.0/users", reply(200, &[], b"[]"))]);
    let answer = send(&server, "GET /v1.0/groups HTTP/1.1\r\n\r\n");
    assert!(
        String::from_utf8(answer)
            .unwrap()
            .starts_with("HTTP/1.1 599 ")
    );
    let caught = catch_unwind(AssertUnwindSafe(move || drop(server))).expect_err("drop fails");
    let message = caught.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("expected a request line starting \"GET /v1.0/users\"")
            && message.contains("GET /v1.0/groups"),
        "{message}"
    );
}
