//! Small response builders shared by both listeners.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue, IF_NONE_MATCH};
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Frame, SizeHint};
use tokio::io::{AsyncRead, ReadBuf};

pub type HttpResponse = Response<Body>;

/// A response body: bytes in memory (configs, JSON), or a stretch of a file read from disk as
/// it is sent (firmware), so a large file is never whole in memory.
#[derive(Debug)]
pub enum Body {
    Full(Full<Bytes>),
    File(FileBody),
}

impl Default for Body {
    fn default() -> Body {
        Body::Full(Full::default())
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Body {
        Body::Full(Full::new(bytes))
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Body {
        Bytes::from(bytes).into()
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            Body::Full(full) => Pin::new(full)
                .poll_frame(cx)
                .map_err(|never| match never {}),
            Body::File(file) => file.poll_chunk(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(full) => full.is_end_stream(),
            Body::File(file) => file.remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(full) => full.size_hint(),
            Body::File(file) => SizeHint::with_exact(file.remaining),
        }
    }
}

/// `remaining` bytes of an open file, from where it is positioned, in chunks of 64 KiB.
#[derive(Debug)]
pub struct FileBody {
    file: tokio::fs::File,
    remaining: u64,
    buffer: Vec<u8>,
}

impl FileBody {
    const CHUNK: usize = 64 * 1024;

    pub fn new(file: tokio::fs::File, length: u64) -> FileBody {
        FileBody {
            file,
            remaining: length,
            buffer: vec![0; Self::CHUNK],
        }
    }

    fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(self.remaining).map_or(Self::CHUNK, |r| r.min(Self::CHUNK));
        let mut read = ReadBuf::new(&mut self.buffer[..want]);
        match Pin::new(&mut self.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) if read.filled().is_empty() => Poll::Ready(Some(Err(
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "file shrank while sent"),
            ))),
            Poll::Ready(Ok(())) => {
                let chunk = Bytes::copy_from_slice(read.filled());
                self.remaining -= chunk.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
        }
    }
}

/// Whether `If-None-Match` names `etag` or is `*`, over every line of the header. RFC 9110
/// §13.1.2 asks for the weak comparison: a proxy that compresses on the way (nginx's gzip)
/// turns the strong `"…"` it passes on into `W/"…"`, and the phone sends that back.
pub fn none_match(headers: &HeaderMap, etag: &[u8]) -> bool {
    let etag = opaque_tag(etag);
    headers.get_all(IF_NONE_MATCH).iter().any(|line| {
        line.as_bytes()
            .split(|&b| b == b',')
            .map(<[u8]>::trim_ascii)
            .any(|tag| tag == b"*" || opaque_tag(tag) == etag)
    })
}

fn opaque_tag(tag: &[u8]) -> &[u8] {
    tag.strip_prefix(b"W/").unwrap_or(tag)
}

pub fn text(status: StatusCode, body: &'static str) -> HttpResponse {
    let mut response = Response::new(Bytes::from_static(body.as_bytes()).into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// 405, saying in `Allow` which methods the path takes (`GET, HEAD`, say).
pub fn method_not_allowed(allow: &'static str) -> HttpResponse {
    let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    r.headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static(allow));
    r
}

/// A JSON document that is already text (the OpenAPI document).
pub fn raw_json(text: &'static str) -> HttpResponse {
    let mut response = Response::new(Bytes::from_static(text.as_bytes()).into());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub fn json(status: StatusCode, value: &impl serde::Serialize) -> HttpResponse {
    let body = serde_json::to_vec_pretty(value).expect("API views serialise");
    let mut response = Response::new(Bytes::from(body).into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `Retry-After` of an admin request refused while the database cannot be reached.
pub const RETRY_UNAVAILABLE_SECS: &str = "5";

#[cfg(test)]
mod none_match_tests {
    use super::*;

    fn asking(lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(IF_NONE_MATCH, HeaderValue::from_str(line).unwrap());
        }
        headers
    }

    #[test]
    fn weak_comparison_over_every_line() {
        let etag = br#""a1b2""#;
        assert!(none_match(&asking(&[r#""a1b2""#]), etag));
        assert!(none_match(&asking(&[r#"W/"a1b2""#]), etag));
        assert!(none_match(&asking(&[r#""x", W/"a1b2""#]), etag));
        assert!(none_match(&asking(&[r#""x""#, r#" "a1b2" "#]), etag));
        assert!(none_match(&asking(&["*"]), etag));
        assert!(!none_match(&asking(&[]), etag));
        assert!(!none_match(&asking(&[r#""a1b""#, r#"a1b2"#]), etag));
        assert!(!none_match(&asking(&[r#"w/"a1b2""#]), etag));
    }
}
