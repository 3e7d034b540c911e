//! The read-only HTTP interface: the status page, its JSON API and
//! Prometheus metrics. It runs on the coordinator's tokio runtime beside the
//! event loop and reads only the board's published snapshot, the metrics'
//! atomics and (for the last audit) the database through a read-only
//! connection, so no request can hold up a round.
//!
//! | path | what |
//! |---|---|
//! | `/` | the status page (HTML) |
//! | `/api/status` | everything on the page ([`StatusView`], JSON) |
//! | `/api/participants` | admitted participants |
//! | `/api/rounds` | every round |
//! | `/api/rounds/{id}` | one round |
//! | `/api/rounds/{id}/model.safetensors` | the model a closed round produced |
//! | `/api/audit` | the last recorded audit |
//! | `/metrics` | Prometheus text format |
//!
//! With a token, every path (an unknown one too) needs
//! `Authorization: Bearer <token>`, or HTTP Basic with the token as the
//! password, which is what a browser asks for. Without one (loopback only),
//! a request must name the server by a loopback address in its `Host`, so
//! that a web page the operator opens cannot read it through a DNS name
//! that resolves to 127.0.0.1 (DNS rebinding).

use super::metrics::Metrics;
use super::page::render;
use super::view::{AuditView, StatusView};
use crate::export::safetensors_bytes;
use crate::store::Store;
use crate::CoordinatorError;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use candor_core::FixedFormat;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use subtle::ConstantTimeEq;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// Connections served at once; more wait in the kernel's backlog.
pub const MAX_CONNECTIONS: usize = 64;

/// Longest a connection is kept, however busy or idle: a client that opens
/// connections and sends nothing holds a slot this long at most.
pub const CONNECTION_SECS: u64 = 30;

/// Shortest token accepted: guessing must be hopeless.
pub const MIN_TOKEN_BYTES: usize = 16;

/// What the server reads.
#[derive(Clone)]
pub struct App {
    /// The board's snapshots.
    pub view: watch::Receiver<Arc<StatusView>>,
    /// The coordinator's metrics.
    pub metrics: Arc<Metrics>,
    /// The database, for the last audit.
    pub db: PathBuf,
    /// The federation's fixed-point format, for model downloads.
    pub format: FixedFormat,
    /// The token every request must carry, if any.
    pub token: Option<Arc<str>>,
}

/// The routes, behind the token check.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/status", get(status))
        .route("/api/participants", get(participants))
        .route("/api/rounds", get(rounds))
        .route("/api/rounds/{id}", get(round))
        .route("/api/rounds/{id}/model.safetensors", get(model))
        .route("/api/audit", get(audit))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), authorize))
        .with_state(app)
}

/// Binds `addr` now (so that a taken port fails at start-up) for
/// [`serve`].
pub fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, CoordinatorError> {
    let l = std::net::TcpListener::bind(addr).map_err(|e| CoordinatorError::InUse(format!("status_listen {addr}: {e}")))?;
    l.set_nonblocking(true).map_err(|e| CoordinatorError::InUse(format!("status_listen {addr}: {e}")))?;
    Ok(l)
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: std::net::TcpListener,
    app: App,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = Bounded { inner: TcpListener::from_std(listener)?, slots: Arc::new(Semaphore::new(MAX_CONNECTIONS)) };
    axum::serve(listener, router(app)).with_graceful_shutdown(shutdown).await
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Whether `headers` carry `token`, as a bearer token or a Basic password.
fn carries(headers: &HeaderMap, token: &str) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return false };
    let offered: Vec<u8> = if let Some(t) = value.strip_prefix("Bearer ") {
        t.trim().as_bytes().to_vec()
    } else if let Some(b) = value.strip_prefix("Basic ") {
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(b.trim()) else { return false };
        // user:password; the user is anything
        match decoded.iter().position(|&c| c == b':') {
            Some(i) => decoded[i + 1..].to_vec(),
            None => return false,
        }
    } else {
        return false;
    };
    // equal-length digests: neither the token nor its length shows in timing
    Sha256::digest(&offered).as_slice().ct_eq(Sha256::digest(token.as_bytes()).as_slice()).into()
}

/// Whether a `Host` header names a loopback address (any port).
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

async fn authorize(State(app): State<App>, request: Request, next: Next) -> Response {
    match &app.token {
        Some(token) if !carries(request.headers(), token) => {
            let mut r = (StatusCode::UNAUTHORIZED, "this status server needs its token\n").into_response();
            let h = r.headers_mut();
            h.append(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"candor\""));
            h.append(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"candor\", charset=\"UTF-8\""));
            r
        }
        None if !loopback_host(request.headers()) => (
            StatusCode::FORBIDDEN,
            "without a token this status server answers only requests that name it by a loopback address \
             (Host: 127.0.0.1:PORT or localhost:PORT)\n",
        )
            .into_response(),
        _ => next.run(request).await,
    }
}

/// The latest snapshot. Only the `Arc` is copied under the channel's lock,
/// which the event loop takes to publish.
fn latest(app: &App) -> Arc<StatusView> {
    app.view.borrow().clone()
}

/// The latest snapshot with the last recorded audit.
async fn snapshot(app: &App) -> StatusView {
    let mut view = (*latest(app)).clone();
    view.audit = last_audit(app.db.clone()).await;
    view
}

#[derive(Deserialize)]
struct StoredAudit {
    rounds: u64,
    proofs: u64,
    problems: Vec<String>,
}

/// The last audit, read off the event loop; a failed read shows as none
/// (and is logged), it never fails the page.
async fn last_audit(db: PathBuf) -> Option<AuditView> {
    let read = tokio::task::spawn_blocking(move || Store::last_audit(&db)).await;
    match read {
        Ok(Ok(Some((at_ms, json)))) => match serde_json::from_str::<StoredAudit>(&json) {
            Ok(a) => Some(AuditView { at_ms, passed: a.problems.is_empty(), rounds: a.rounds, proofs: a.proofs, problems: a.problems }),
            Err(e) => {
                tracing::warn!(error = %e, "the last audit's record does not read");
                None
            }
        },
        Ok(Ok(None)) => None,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "could not read the last audit");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "reading the last audit failed");
            None
        }
    }
}

async fn page(State(app): State<App>) -> Response {
    let view = snapshot(&app).await;
    match render(&view, true, now_ms()) {
        Ok(html) => Html(html).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn status(State(app): State<App>) -> Json<StatusView> {
    Json(snapshot(&app).await)
}

async fn participants(State(app): State<App>) -> Response {
    Json(latest(&app).participants.clone()).into_response()
}

async fn rounds(State(app): State<App>) -> Response {
    Json(latest(&app).rounds.clone()).into_response()
}

fn no_round(id: u64) -> Response {
    (StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": format!("no round {id}") }))).into_response()
}

async fn round(State(app): State<App>, Path(id): Path<u64>) -> Response {
    let found = latest(&app).rounds.iter().find(|r| r.round == id).cloned();
    match found {
        Some(r) => Json(r).into_response(),
        None => no_round(id),
    }
}

async fn model(State(app): State<App>, Path(id): Path<u64>) -> Response {
    let round = latest(&app).rounds.iter().find(|r| r.round == id).cloned();
    let Some(round) = round else { return no_round(id) };
    let Some(model) = round.model.clone() else {
        return (StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": format!("round {id} has not closed") }))).into_response();
    };
    match safetensors_bytes(id, &model, app.format) {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"round-{id}.safetensors\"")),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn audit(State(app): State<App>) -> Json<Option<AuditView>> {
    Json(last_audit(app.db.clone()).await)
}

async fn metrics(State(app): State<App>) -> Response {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], app.metrics.encode()).into_response()
}

async fn not_found(request: Request) -> Response {
    let path = request.uri().path().to_string();
    (StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": format!("no such path: {path}") }))).into_response()
}

/// A listener that serves at most [`MAX_CONNECTIONS`] connections at once:
/// each holds a slot until it closes.
struct Bounded {
    inner: TcpListener,
    slots: Arc<Semaphore>,
}

impl axum::serve::Listener for Bounded {
    type Io = Slotted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // the semaphore is never closed
        let slot = self.slots.clone().acquire_owned().await.expect("semaphore open");
        let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        let expires = Box::pin(tokio::time::sleep(Duration::from_secs(CONNECTION_SECS)));
        (Slotted { stream, expires, _slot: slot }, addr)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection, its slot, and when it ends.
struct Slotted {
    stream: TcpStream,
    expires: Pin<Box<tokio::time::Sleep>>,
    _slot: OwnedSemaphorePermit,
}

impl Slotted {
    /// An error once the connection has lived [`CONNECTION_SECS`]; hyper
    /// then closes it (an idle one too: the timer wakes the read).
    fn expired(&mut self, cx: &mut Context<'_>) -> Option<std::io::Error> {
        self.expires.as_mut().poll(cx).is_ready().then(|| std::io::Error::new(std::io::ErrorKind::TimedOut, "connection lifetime over"))
    }
}

impl AsyncRead for Slotted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if let Some(e) = self.expired(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Slotted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        if let Some(e) = self.expired(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_token_is_accepted_as_bearer_or_basic_password_only() {
        let token = "0123456789abcdef-token";
        let basic = |user_pass: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_pass));
        assert!(carries(&headers(&format!("Bearer {token}")), token));
        assert!(carries(&headers(&basic(&format!("operator:{token}"))), token));
        assert!(!carries(&headers("Bearer 0123456789abcdef-tokeN"), token));
        assert!(!carries(&headers("Bearer 0123456789abcdef-toke"), token));
        assert!(!carries(&headers(&basic(token)), token), "no password given");
        assert!(!carries(&headers(&format!("Token {token}")), token));
        assert!(!carries(&HeaderMap::new(), token));
    }

    #[test]
    fn without_a_token_only_loopback_names_are_served() {
        let host = |h: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::HOST, HeaderValue::from_str(h).unwrap());
            loopback_host(&m)
        };
        for ok in ["127.0.0.1:7480", "localhost:7480", "LOCALHOST", "[::1]:7480", "127.1.2.3"] {
            assert!(host(ok), "{ok}");
        }
        for bad in ["attacker.example:7480", "attacker.example", "10.0.0.1:7480", "[2001:db8::1]:80", "localhost.attacker.example"] {
            assert!(!host(bad), "{bad}");
        }
        assert!(!loopback_host(&HeaderMap::new()));
    }
}
