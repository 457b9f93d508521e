//! The console's side of the wire: REST calls and the live stream, over
//! plain HTTP or TLS, with a bearer token. The embedded gateway and a remote
//! one are reached the same way.

pub mod attach;
mod exec;
mod frames;
mod history;
mod logs;
pub use logs::{LogPage, PageAsk};
mod stream;

pub use exec::{ExecConnection, ExecInput, ExecOutput};
pub use frames::decode as decode_server_frame;
pub use history::{History, join as join_history};
pub use stream::{ConnectError, StreamEvent, StreamHandle, Subscription};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ClientConfig;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::de::DeserializeOwned;

use crate::api::ApiError;
use crate::redact::Share;

/// What the console and `day2top exec` call themselves to a gateway (the
/// audit log's `client`).
pub const USER_AGENT: &str = concat!("day2top/", env!("CARGO_PKG_VERSION"));

/// Where a gateway is and how to prove who we are.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `http://host:port` or `https://host:port`.
    pub url: String,
    pub token: String,
    /// A PEM file of CA certificates to trust besides the public roots.
    pub ca: Option<PathBuf>,
}

#[derive(Debug)]
pub enum ClientError {
    /// No answer: the gateway is down, or the address is wrong.
    Unreachable(String),
    /// The gateway answered with an error.
    Api(ApiError),
    /// The gateway answered with something that is not what the API says.
    Protocol(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Unreachable(e) => write!(f, "gateway unreachable: {e}"),
            ClientError::Api(e) => write!(f, "gateway refused: {}", e.error.message),
            ClientError::Protocol(e) => write!(f, "unexpected answer from the gateway: {e}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// `GET /api/v1/metrics/series` of a filter's names and tags from `from`
/// to `to` (ms), a point every `step` ms (else the gateway's choice).
pub fn series_path(
    filter: &crate::api::Filter,
    from: crate::api::UnixMillis,
    to: crate::api::UnixMillis,
    step: Option<i64>,
) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for name in &filter.names {
        q.append_pair("name", name);
    }
    for tag in &filter.tags {
        q.append_pair("tag", tag);
    }
    q.append_pair("from", &from.to_string());
    q.append_pair("to", &to.to_string());
    if let Some(step) = step {
        q.append_pair("step", &format!("{step}ms"));
    }
    format!("/api/v1/metrics/series?{}", q.finish())
}

/// Reads a token: either the bare secret, or a gateway token file (TOML
/// with `[[token]]` entries), whose first token is used.
pub fn read_token_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read token file {}: {e}", path.display()))?;
    if text.contains("[[token]]") {
        #[derive(serde::Deserialize)]
        struct Entry {
            secret: String,
        }
        #[derive(serde::Deserialize)]
        struct File {
            token: Vec<Entry>,
        }
        let file: File =
            toml::from_str(&text).map_err(|e| format!("token file {}: {e}", path.display()))?;
        return file
            .token
            .into_iter()
            .next()
            .map(|t| t.secret)
            .ok_or_else(|| format!("token file {} has no [[token]] entries", path.display()));
    }
    let secret = text.trim();
    if secret.is_empty() {
        return Err(format!("token file {} is empty", path.display()));
    }
    Ok(secret.to_string())
}

/// The TLS settings of every connection: the public roots, plus the CA
/// file if one was given (for a gateway with a private certificate).
pub fn tls_config(ca: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    // One process-wide provider (ring), so no library picks another.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(ca) = ca {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
            .and_then(|certs| certs.collect::<Result<_, _>>())
            .map_err(|e| format!("cannot read CA file {}: {e}", ca.display()))?;
        if certs.is_empty() {
            return Err(format!("no certificate in CA file {}", ca.display()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("CA file {}: {e}", ca.display()))?;
        }
    }
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    endpoint: Endpoint,
    tls: Arc<ClientConfig>,
    /// Share mode: while on, every answer is redacted before it is
    /// returned, and placeholders in what is asked are put back.
    share: Share,
}

impl Client {
    pub fn new(endpoint: Endpoint) -> Result<Client, String> {
        let url = endpoint.url.trim_end_matches('/').to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "gateway URL {url:?} must start with http:// or https://"
            ));
        }
        let tls = tls_config(endpoint.ca.as_deref())?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .user_agent(USER_AGENT)
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(30))
            // The gateway closes a kept-alive connection after 10 s without
            // a request: let it go first, so no request races the close.
            .pool_idle_timeout(std::time::Duration::from_secs(5))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Client {
            http,
            endpoint: Endpoint { url, ..endpoint },
            tls,
            share: Share::default(),
        })
    }

    /// The same client, redacting while `share` is on.
    pub fn sharing(self, share: Share) -> Client {
        Client { share, ..self }
    }

    /// Whether answers are being redacted (share mode on).
    pub fn is_sharing(&self) -> bool {
        self.share.is_on()
    }

    /// Exec is refused while sharing: a terminal shows whatever a process
    /// prints, and nothing can redact it reliably.
    fn refuse_while_sharing(&self, what: &str) -> Result<(), ClientError> {
        match self.share.is_on() {
            true => Err(ClientError::Api(ApiError::new(
                crate::api::ErrorCode::Forbidden,
                format!("{what} is off while sharing the screen (share mode)"),
            ))),
            false => Ok(()),
        }
    }

    /// `{url}{path}` with this session's placeholders put back.
    fn address(&self, path: &str) -> String {
        format!("{}{}", self.endpoint.url, self.share.restore(path))
    }

    /// The token in use, for hiding it wherever it might be written:
    /// never for printing.
    pub fn token(&self) -> &str {
        &self.endpoint.token
    }

    /// The gateway's address (never its token).
    pub fn url(&self) -> &str {
        &self.endpoint.url
    }

    /// `GET {url}{path}` as JSON, with the API's error shape decoded.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let request = self
            .http
            .get(self.address(path))
            .bearer_auth(&self.endpoint.token);
        self.decode(request.send().await).await
    }

    /// `POST {url}{path}` with a JSON body; the answer as JSON.
    pub async fn post<T: DeserializeOwned, B: serde::Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.post_with(path, body, &[]).await
    }

    /// The same, with headers of its own.
    pub async fn post_with<T: DeserializeOwned, B: serde::Serialize>(
        &self,
        path: &str,
        body: &B,
        headers: &[(&str, &str)],
    ) -> Result<T, ClientError> {
        let body = serde_json::to_string(body).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let mut request = self
            .http
            .post(self.address(path))
            .bearer_auth(&self.endpoint.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(self.share.restore(&body).into_owned());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.decode(request.send().await).await
    }

    /// Opens the live stream with these subscriptions; it reconnects and
    /// resumes by itself until the handle is dropped.
    pub fn stream(&self, subscriptions: Vec<Subscription>) -> StreamHandle {
        self.stream_from(subscriptions, Vec::new())
    }

    /// The same, with some subscriptions starting elsewhere than at a
    /// snapshot (by subscription name).
    pub fn stream_from(
        &self,
        subscriptions: Vec<Subscription>,
        starts: Vec<(String, crate::api::From)>,
    ) -> StreamHandle {
        stream::spawn(
            self.endpoint.clone(),
            self.tls.clone(),
            self.share.clone(),
            subscriptions,
            starts,
        )
    }

    /// `GET {url}{path}` as text (NDJSON reads), with the API's error
    /// shape decoded.
    pub async fn get_text(&self, path: &str) -> Result<String, ClientError> {
        let request = self
            .http
            .get(self.address(path))
            .bearer_auth(&self.endpoint.token);
        let body = self.body(request.send().await).await?;
        let text = String::from_utf8(body).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let Some(redactor) = self.share.active() else {
            return Ok(text);
        };
        // NDJSON line by line, so a rule never reaches across a quote.
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            match serde_json::from_str::<serde_json::Value>(line) {
                Ok(mut v) => {
                    redactor.value(&mut v);
                    out.push_str(&v.to_string());
                }
                Err(_) => out.push_str(&redactor.text(line)),
            }
            out.push('\n');
        }
        Ok(out)
    }

    /// A response as JSON, with the API's error shape decoded; redacted
    /// while sharing.
    async fn decode<T: DeserializeOwned>(
        &self,
        response: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<T, ClientError> {
        let body = self.body(response).await?;
        let protocol = |e: serde_json::Error| ClientError::Protocol(e.to_string());
        match self.share.active() {
            None => serde_json::from_slice(&body).map_err(protocol),
            Some(redactor) => {
                let mut v: serde_json::Value = serde_json::from_slice(&body).map_err(protocol)?;
                redactor.value(&mut v);
                serde_json::from_value(v).map_err(protocol)
            }
        }
    }

    /// A successful response's body; a failure as the API's error shape,
    /// its message redacted while sharing.
    async fn body(
        &self,
        response: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<Vec<u8>, ClientError> {
        let mut result = body(response).await;
        if let (Err(ClientError::Api(e)), Some(redactor)) = (&mut result, self.share.active()) {
            redactor.string(&mut e.error.message);
        }
        result
    }
}

/// A successful response's body; a failure as the API's error shape.
async fn body(response: Result<reqwest::Response, reqwest::Error>) -> Result<Vec<u8>, ClientError> {
    let response = response.map_err(|e| ClientError::Unreachable(error_chain(&e)))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| ClientError::Unreachable(error_chain(&e)))?;
    if !status.is_success() {
        return Err(match serde_json::from_slice::<ApiError>(&body) {
            Ok(api) => ClientError::Api(api),
            Err(_) => ClientError::Protocol(format!("HTTP {status}")),
        });
    }
    Ok(body.into())
}

/// An error with its causes, which is where reqwest keeps the useful part.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}
