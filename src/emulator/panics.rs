//! A request handler that panics is a bug in the emulator: this module turns the panic into
//! a `500` for the client and a record the emulator's owner can read
//! ([`Emulator::panics`](super::Emulator::panics)), so a test fails on the bug instead of
//! on whatever the client made of a dropped connection.
//!
//! It never swallows a panic silently: every one caught is recorded. It catches only
//! unwinding panics of the handler future it wraps, nothing else on the runtime.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Polls the wrapped future inside `catch_unwind`: `Err(message)` if a poll panicked.
///
/// The same thing as `futures::FutureExt::catch_unwind`, in the few lines it takes. The
/// future is dropped after a panic and never polled again, so the state the panic may have
/// left half-updated is never observed through it (hence `AssertUnwindSafe`); the shared
/// state's mutex tolerates poisoning for the same reason.
pub(super) struct CatchPanic<F> {
    inner: Pin<Box<F>>,
}

impl<F: Future> CatchPanic<F> {
    pub(super) fn new(future: F) -> Self {
        CatchPanic {
            inner: Box::pin(future),
        }
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.get_mut().inner.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(payload) => Poll::Ready(Err(message(payload.as_ref()))),
        }
    }
}

/// The text of a panic payload (`panic!` with a literal or a format string), else a
/// placeholder.
fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn a_value_passes_through() {
        assert_eq!(block_on(CatchPanic::new(async { 7 })), Ok(7));
    }

    #[test]
    fn a_panic_after_an_await_becomes_its_message() {
        let caught = block_on(CatchPanic::new(async {
            tokio::task::yield_now().await;
            let n = 3;
            if n == 3 {
                panic!("handler bug number {n}");
            }
            n
        }));
        assert_eq!(caught, Err("handler bug number 3".to_string()));
        let caught = block_on(CatchPanic::new(async {
            std::panic::panic_any(42_u8);
        }));
        assert_eq!(caught, Err("a panic without a message".to_string()));
    }
}
