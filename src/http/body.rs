//! Reading a response body, within a size limit, into zeroizing memory that never leaves an
//! unwiped copy behind: a token response body holds the token, and every reallocation of a
//! growing `Vec` frees the old allocation as it is.
//!
//! With a `Content-Length` (at most the limit; a larger one is refused before reading), the
//! buffer is allocated once at that size and never grows: hyper delivers no more bytes than
//! the length declares (RFC 9112 §6.3). Without one (chunked), the buffer grows by moving the
//! bytes into a new, larger allocation and wiping the old one before it is freed. The chunks
//! reqwest hands over are its own memory; this module owns only the copy it assembles. It
//! never logs or shows a body.

use reqwest::Response;
use zeroize::{Zeroize, Zeroizing};

/// The first allocation for a body of unknown length: a token response fits in it.
const UNKNOWN_LENGTH_START: usize = 16 * 1024;

/// A body being assembled; see the module documentation.
pub(super) struct BodyBuffer {
    buf: Zeroizing<Vec<u8>>,
    limit: usize,
    /// How many times the buffer moved to a larger allocation.
    growths: u32,
}

/// The body is larger than the limit; nothing past the limit was stored.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct TooLarge;

impl BodyBuffer {
    /// A buffer for a body of at most `limit` bytes, sized for `content_length` when the
    /// response declares one. `Err(TooLarge)` when the declared length exceeds the limit.
    pub(super) fn new(content_length: Option<u64>, limit: usize) -> Result<Self, TooLarge> {
        let capacity = match content_length {
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|n| *n <= limit)
                .ok_or(TooLarge)?,
            None => UNKNOWN_LENGTH_START.min(limit),
        };
        Ok(BodyBuffer {
            buf: Zeroizing::new(Vec::with_capacity(capacity)),
            limit,
            growths: 0,
        })
    }

    /// Appends a chunk, checking the limit before anything is copied.
    pub(super) fn push(&mut self, chunk: &[u8]) -> Result<(), TooLarge> {
        let needed = self
            .buf
            .len()
            .checked_add(chunk.len())
            .filter(|n| *n <= self.limit)
            .ok_or(TooLarge)?;
        if needed > self.buf.capacity() {
            let capacity = needed
                .max(self.buf.capacity().saturating_mul(2))
                .min(self.limit);
            drop(regrow(&mut self.buf, capacity));
            self.growths += 1;
        }
        // Within capacity now, so this never reallocates.
        self.buf.extend_from_slice(chunk);
        Ok(())
    }

    pub(super) fn into_inner(self) -> Zeroizing<Vec<u8>> {
        self.buf
    }
}

/// Moves `buf`'s bytes into a new allocation of `capacity` (at least its length) and wipes
/// the old allocation. Returns the old allocation, wiped but with its length kept (so a test
/// can see every byte it held is zero); dropping it wipes its whole capacity again.
fn regrow(buf: &mut Zeroizing<Vec<u8>>, capacity: usize) -> Zeroizing<Vec<u8>> {
    let mut bigger = Vec::with_capacity(capacity.max(buf.len()));
    bigger.extend_from_slice(buf);
    let mut old = std::mem::replace(buf, Zeroizing::new(bigger));
    old.as_mut_slice().zeroize();
    old
}

/// Reads `resp`'s body into a [`BodyBuffer`]; `None` when it is larger than `limit`, which a
/// `Content-Length` tells before anything is read.
pub(super) async fn read(
    mut resp: Response,
    limit: usize,
) -> Result<Option<BodyBuffer>, reqwest::Error> {
    let Ok(mut body) = BodyBuffer::new(resp.content_length(), limit) else {
        return Ok(None);
    };
    while let Some(chunk) = resp.chunk().await? {
        if body.push(&chunk).is_err() {
            return Ok(None);
        }
    }
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(total: usize, size: usize) -> Vec<Vec<u8>> {
        let bytes: Vec<u8> = (0..total).map(|i| (i % 251) as u8 + 1).collect();
        bytes.chunks(size).map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn regrow_wipes_the_allocation_it_leaves() {
        let mut buf = Zeroizing::new(Vec::with_capacity(8));
        buf.extend_from_slice(b"token123");
        let (ptr, len) = (buf.as_ptr(), buf.len());
        let old = regrow(&mut buf, 32);
        // The old allocation is the one that held the bytes, and each of them is zero now.
        assert_eq!((old.as_ptr(), old.len()), (ptr, len));
        assert!(old.iter().all(|b| *b == 0), "{old:?}");
        assert_eq!(buf.as_slice(), b"token123");
        assert_ne!(buf.as_ptr(), ptr);
        assert!(buf.capacity() >= 32);
    }

    #[test]
    fn a_declared_length_is_read_without_growing() {
        for size in [1, 7, 100, 4096] {
            let n = 10_000;
            let mut body = BodyBuffer::new(Some(n as u64), 1 << 20).unwrap();
            let (ptr, capacity) = (body.buf.as_ptr(), body.buf.capacity());
            assert!(capacity >= n);
            let parts = chunks(n, size);
            for part in &parts {
                body.push(part).unwrap();
                assert_eq!((body.buf.as_ptr(), body.buf.capacity()), (ptr, capacity));
            }
            assert_eq!(body.growths, 0);
            assert_eq!(body.into_inner().as_slice(), parts.concat().as_slice());
        }
    }

    #[test]
    fn an_unknown_length_grows_by_moving_and_keeps_every_byte() {
        let n = 200_000;
        let parts = chunks(n, 3000);
        let mut body = BodyBuffer::new(None, 1 << 20).unwrap();
        assert_eq!(body.buf.capacity(), UNKNOWN_LENGTH_START);
        for part in &parts {
            body.push(part).unwrap();
        }
        // 16 KiB doubling to 256 KiB: four moves, each through `regrow`, never a realloc.
        assert_eq!(body.growths, 4);
        assert_eq!(body.into_inner().as_slice(), parts.concat().as_slice());
    }

    #[test]
    fn the_limit_holds_with_and_without_a_declared_length() {
        assert_eq!(BodyBuffer::new(Some(11), 10).err(), Some(TooLarge));
        assert_eq!(BodyBuffer::new(Some(u64::MAX), 10).err(), Some(TooLarge));
        let mut exact = BodyBuffer::new(Some(10), 10).unwrap();
        exact.push(&[1; 10]).unwrap();
        let mut unknown = BodyBuffer::new(None, 10).unwrap();
        assert_eq!(unknown.buf.capacity(), 10);
        unknown.push(&[1; 6]).unwrap();
        assert_eq!(unknown.push(&[1; 5]), Err(TooLarge));
        // Nothing past the limit was stored, and the buffer never grew past it.
        assert_eq!(unknown.buf.len(), 6);
        assert_eq!(unknown.buf.capacity(), 10);
        let mut growing = BodyBuffer::new(None, 20_000).unwrap();
        growing.push(&[1; 16_000]).unwrap();
        growing.push(&[1; 4_000]).unwrap();
        assert_eq!(
            (growing.buf.len(), growing.buf.capacity()),
            (20_000, 20_000)
        );
    }

    /// Serves one HTTP/1.1 response on loopback, written in `parts` (each flushed on its own,
    /// so reqwest sees several chunks), and returns its URL.
    async fn serve_once(parts: Vec<Vec<u8>>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buf).await.unwrap();
                assert!(n > 0, "the client closed before its request ended");
                request.extend_from_slice(&buf[..n]);
            }
            for part in parts {
                // A client that stopped reading (the over-limit cases) may have closed.
                if stream.write_all(&part).await.is_err() || stream.flush().await.is_err() {
                    return;
                }
                tokio::task::yield_now().await;
            }
        });
        url
    }

    async fn fetch(parts: Vec<Vec<u8>>, limit: usize) -> Option<BodyBuffer> {
        crate::http::install_crypto_provider();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let resp = client.get(serve_once(parts).await).send().await.unwrap();
        read(resp, limit).await.unwrap()
    }

    #[tokio::test]
    async fn a_response_with_content_length_fills_its_first_allocation() {
        let parts = chunks(50_000, 7_000);
        let head = b"HTTP/1.1 200 OK\r\ncontent-length: 50000\r\n\r\n".to_vec();
        let mut response = vec![head.clone()];
        response.extend(parts.iter().cloned());
        let body = fetch(response, 1 << 20).await.unwrap();
        assert_eq!(body.growths, 0);
        assert_eq!(body.buf.capacity(), 50_000);
        assert_eq!(body.into_inner().as_slice(), parts.concat().as_slice());
        // A declared length over the limit is refused before the body is read.
        assert!(fetch(vec![head], 49_999).await.is_none());
    }

    #[tokio::test]
    async fn a_chunked_response_grows_through_regrow_within_the_limit() {
        let parts = chunks(100_000, 10_000);
        let head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        let mut response = vec![head];
        for part in &parts {
            let mut chunk = format!("{:x}\r\n", part.len()).into_bytes();
            chunk.extend_from_slice(part);
            chunk.extend_from_slice(b"\r\n");
            response.push(chunk);
        }
        response.push(b"0\r\n\r\n".to_vec());
        let body = fetch(response.clone(), 1 << 20).await.unwrap();
        // 16 KiB doubling to 128 KiB.
        assert_eq!(body.growths, 3);
        assert_eq!(body.into_inner().as_slice(), parts.concat().as_slice());
        assert!(fetch(response, 99_999).await.is_none());
    }
}
