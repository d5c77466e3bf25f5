//! The token endpoint's answer: `token::interpret` over any status, content type, body and
//! clock, then the messages and hints graphd would print for it.
#![no_main]

use graphd::error::{Error, RefusalContext, TokenRefusal};
use graphd::secret::AccessToken;
use graphd::token::{self, Answer, Token};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((head, body)) = data.split_first_chunk::<11>() else {
        return;
    };
    // Mostly the statuses Entra sends, sometimes any.
    let status = match head[0] {
        0..=99 => 200,
        100..=159 => 400,
        160..=199 => 401,
        200..=219 => 500,
        _ => u16::from_le_bytes([head[1], head[2]]),
    };
    let html = head[1] & 1 == 1;
    let now = i64::from_le_bytes([
        head[3], head[4], head[5], head[6], head[7], head[8], head[9], head[10],
    ]);
    match token::interpret(status, html, body, now) {
        Answer::Token(t) => {
            assert!((200..300).contains(&status));
            assert!(t.expires_in > 0);
            assert_eq!(t.token_type, "Bearer");
            assert!(!t.access_token.expose_secret().trim().is_empty());
            // Debug output does not depend on the token at all.
            let blank = Token {
                access_token: AccessToken::new(String::new()),
                ..t.clone()
            };
            assert_eq!(format!("{t:?}"), format!("{blank:?}"));
            let json = token::to_json(&t);
            let back: serde_json::Value = serde_json::from_str(&json).expect("to_json writes JSON");
            assert_eq!(back["access_token"], t.access_token.expose_secret());
        }
        Answer::Refused(entra) => {
            let _ = (entra.code(), entra.summary());
            let e = Error::TokenRefused(Box::new(TokenRefusal {
                status,
                entra,
                context: RefusalContext::default(),
            }));
            check_message(&e);
        }
        Answer::Malformed(problem) => {
            let e = Error::TokenResponse {
                host: "login.example".into(),
                status,
                problem,
            };
            check_message(&e);
        }
    }
});

/// README "Exit codes": one `graphd: error: ...` line (whatever the server sent), exit code 4.
fn check_message(e: &Error) {
    let message = e.to_string();
    assert!(
        !message.chars().any(char::is_control),
        "a control character in the message: {message:?}"
    );
    let _ = e.hint();
    assert_eq!(e.exit_code(), 4);
}
