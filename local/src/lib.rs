//! The local server's transport: HTTP/1.1 on a TCP listener, each request converted into the
//! `lambda_http::Request` API Gateway would deliver and answered by the shared [`Api`].

use std::convert::Infallible;
use std::sync::Arc;

use answerpal::http::{Api, MAX_BODY_BYTES};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// API Gateway refuses larger payloads before they reach a function.
const API_GATEWAY_MAX_BYTES: usize = 10 * 1024 * 1024;

/// Serves `api` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, api: Arc<Api>) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let api = Arc::clone(&api);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let api = Arc::clone(&api);
                async move { Ok::<_, Infallible>(answer(&api, request).await) }
            });
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection closed");
            }
        });
    }
}

async fn answer(api: &Api, request: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let (parts, mut body) = request.into_parts();
    // Keep one byte past the limit at most, enough for the shared handler to answer 413; read
    // (and drop) the rest up to API Gateway's own cap so the client sees the answer, not a reset.
    let mut bytes = Vec::new();
    let mut received = 0;
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            received += data.len();
            let room = (MAX_BODY_BYTES + 1).saturating_sub(bytes.len());
            bytes.extend_from_slice(&data[..data.len().min(room)]);
            if received > API_GATEWAY_MAX_BYTES {
                break;
            }
        }
    }
    let body = if bytes.is_empty() {
        lambda_http::Body::Empty
    } else {
        lambda_http::Body::Binary(bytes)
    };
    let response = api
        .handle(lambda_http::Request::from_parts(parts, body))
        .await;
    let (parts, body) = response.into_parts();
    let bytes = match body {
        lambda_http::Body::Empty => Bytes::new(),
        lambda_http::Body::Text(text) => Bytes::from(text),
        lambda_http::Body::Binary(binary) => Bytes::from(binary),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}
