//! The body of every answer: a fixture's bytes as stored, or the router's body.
//!
//! Why a type of its own rather than `Either<Full<Bytes>, Body>`: a plain hit's bytes are a
//! [`Chunk`] of the loaded set (no count on the arena the file was read into: see
//! `store/loaded.rs`), and hyper writes any `Buf`. The router's frames are passed on as chunks
//! of their own bytes.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::store::Chunk;

/// The body of every answer (see the module docs).
#[derive(Debug)]
pub enum MockBody {
    /// A plain hit's body, until it is sent.
    Stored(Option<Chunk>),
    /// The router's answer.
    Routed(Body),
}

impl MockBody {
    /// The same body as an axum [`Body`], for in-process callers.
    pub fn into_axum(self) -> Body {
        match self {
            MockBody::Stored(chunk) => {
                chunk.map_or_else(Body::empty, |c| Body::from(c.into_bytes()))
            }
            MockBody::Routed(body) => body,
        }
    }
}

impl http_body::Body for MockBody {
    type Data = Chunk;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Chunk>, axum::Error>>> {
        match self.get_mut() {
            MockBody::Stored(chunk) => Poll::Ready(chunk.take().map(|c| Ok(Frame::data(c)))),
            MockBody::Routed(body) => Pin::new(body)
                .poll_frame(cx)
                .map(|frame| frame.map(|f| f.map(|f| f.map_data(Chunk::from)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            MockBody::Stored(chunk) => chunk.is_none(),
            MockBody::Routed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Stored(chunk) => SizeHint::with_exact(
                chunk
                    .as_ref()
                    .map_or(0, |c| bytes::Buf::remaining(c) as u64),
            ),
            MockBody::Routed(body) => body.size_hint(),
        }
    }
}

impl From<Bytes> for MockBody {
    fn from(bytes: Bytes) -> MockBody {
        MockBody::Stored(Some(Chunk::from(bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn collect(body: MockBody) -> (Bytes, Option<u64>) {
        let exact = http_body::Body::size_hint(&body).exact();
        let mut all = Vec::new();
        let mut body = body;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                all.extend_from_slice(bytes::Buf::chunk(&data));
            }
        }
        (Bytes::from(all), exact)
    }

    #[tokio::test]
    async fn a_stored_body_and_a_routed_one_send_the_same_bytes_with_their_length() {
        let bytes = Bytes::from_static(b"{\"call_id\":\"x\"}");
        let (stored, len) = collect(MockBody::from(bytes.clone())).await;
        assert_eq!((stored, len), (bytes.clone(), Some(bytes.len() as u64)));
        let (routed, len) = collect(MockBody::Routed(Body::from(bytes.clone()))).await;
        assert_eq!((routed, len), (bytes.clone(), Some(bytes.len() as u64)));
        let axum = MockBody::from(bytes.clone()).into_axum();
        assert_eq!(axum.collect().await.unwrap().to_bytes(), bytes);
    }
}
