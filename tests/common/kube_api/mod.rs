//! A fake Kubernetes API server, on axum, for the tests.
//!
//! This is the one test double the project allows: a real API server
//! (etcd, the apiserver binary) cannot be started on these machines. It
//! speaks the protocol client-go and kube-rs speak, in the shapes of the
//! recorded responses in tests/fixtures/kube/: discovery, list with
//! `limit`/`continue`, watch from a resourceVersion with bookmarks, a 410
//! Gone when the history a watch asks for was compacted, authentication
//! by bearer token or by a client certificate its CA signed, and errors
//! injected on demand. The real `kubectl` is
//! pointed at it in tests/kube.rs to show that it does.

pub mod exec;
pub mod objects;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

/// The bearer token the fake accepts.
pub const TOKEN: &str = "fake-kube-token-0123456789";

/// The collections it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Nodes,
    Pods,
    Events,
}

impl Kind {
    fn list_kind(self) -> &'static str {
        match self {
            Kind::Nodes => "NodeList",
            Kind::Pods => "PodList",
            Kind::Events => "EventList",
        }
    }
    fn api_version(self) -> &'static str {
        match self {
            Kind::Events => "events.k8s.io/v1",
            _ => "v1",
        }
    }
    fn kind(self) -> &'static str {
        match self {
            Kind::Nodes => "Node",
            Kind::Pods => "Pod",
            Kind::Events => "Event",
        }
    }
}

/// One change, as a watch sends it.
#[derive(Clone)]
struct Change {
    rv: u64,
    kind: Kind,
    namespace: Option<String>,
    line: Bytes,
}

struct Inner {
    rv: u64,
    objects: BTreeMap<(Kind, String), Value>,
    /// Changes a watch can resume from (all of them since `oldest`).
    history: Vec<Change>,
    /// A watch from before this resourceVersion gets 410 Gone.
    oldest: u64,
    /// Errors to answer with: (a path fragment, a status code, how many
    /// times, the message).
    failures: Vec<(String, u16, usize, String)>,
    /// Every request, `METHOD path?query`.
    requests: Vec<String>,
    /// Each container's log lines, `(timestamp, text)`, by
    /// `(namespace/pod/container, previous)`.
    logs: BTreeMap<(String, bool), Vec<(jiff::Timestamp, String)>>,
    /// metrics.k8s.io's node and pod figures; `None`: not served (404),
    /// as on a cluster without metrics-server.
    metrics: Option<(Vec<Value>, Vec<Value>)>,
    /// Exec speaks only `v4.channel.k8s.io`, as a server before v1.30.
    exec_v4_only: bool,
}

#[derive(Clone)]
pub struct FakeKube {
    pub url: String,
    pki: Arc<crate::common::Pki>,
    inner: Arc<Mutex<Inner>>,
    changes: broadcast::Sender<Change>,
    /// Log lines as they are written: `(namespace/pod/container, line)`.
    lines: broadcast::Sender<(String, jiff::Timestamp, String)>,
    /// Bumped to end every open watch (a server closing connections).
    cut: Arc<tokio::sync::watch::Sender<u64>>,
}

type Shared = FakeKube;

impl FakeKube {
    /// Serves HTTPS on a loopback port, with a certificate of its own CA
    /// (client-go sends no bearer token over plain HTTP).
    pub async fn start() -> FakeKube {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let pki = Arc::new(crate::common::Pki::new(
            &format!("kube-{}", addr.port()),
            &["127.0.0.1", "localhost"],
        ));
        let (changes, _) = broadcast::channel(65_536);
        let fake = FakeKube {
            url: format!("https://{addr}"),
            pki: pki.clone(),
            inner: Arc::new(Mutex::new(Inner {
                rv: 1000,
                objects: BTreeMap::new(),
                history: Vec::new(),
                oldest: 0,
                failures: Vec::new(),
                requests: Vec::new(),
                logs: BTreeMap::new(),
                metrics: None,
                exec_v4_only: false,
            })),
            changes,
            lines: broadcast::channel(65_536).0,
            cut: Arc::new(tokio::sync::watch::channel(0).0),
        };
        let app = Router::new().fallback(serve).with_state(fake.clone());
        let acceptor = tokio_rustls::TlsAcceptor::from(tls_asking_for_a_client_cert(&pki));
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, app) = (acceptor.clone(), app.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    // The verifier only lets through certificates its CA
                    // signed, so one shown is a user authenticated.
                    let by_certificate = tls.get_ref().1.peer_certificates().is_some();
                    let service = hyper::service::service_fn(
                        move |mut req: hyper::Request<hyper::body::Incoming>| {
                            let mut app = app.clone();
                            if by_certificate {
                                req.extensions_mut().insert(ClientCertificate);
                            }
                            async move { tower_service::Service::call(&mut app, req).await }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .with_upgrades()
                        .await;
                });
            }
        });
        fake
    }

    fn key(kind: Kind, object: &Value) -> String {
        let meta = &object["metadata"];
        match (kind, meta["namespace"].as_str()) {
            (Kind::Nodes, _) | (_, None) => meta["name"].as_str().unwrap().to_string(),
            (_, Some(ns)) => format!("{ns}/{}", meta["name"].as_str().unwrap()),
        }
    }

    fn change(&self, kind: Kind, kind_of_change: &str, mut object: Value) {
        let mut inner = self.inner.lock().unwrap();
        inner.rv += 1;
        let rv = inner.rv;
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        object["kind"] = json!(kind.kind());
        object["apiVersion"] = json!(kind.api_version());
        let key = Self::key(kind, &object);
        let existed = if kind_of_change == "DELETED" {
            inner.objects.remove(&(kind, key)).is_some()
        } else {
            inner.objects.insert((kind, key), object.clone()).is_some()
        };
        let kind_of_change = match kind_of_change {
            "PUT" if existed => "MODIFIED",
            "PUT" => "ADDED",
            other => other,
        };
        let mut line =
            serde_json::to_vec(&json!({"type": kind_of_change, "object": object})).unwrap();
        line.push(b'\n');
        let change = Change {
            rv,
            kind,
            namespace: object["metadata"]["namespace"].as_str().map(String::from),
            line: Bytes::from(line),
        };
        inner.history.push(change.clone());
        let _ = self.changes.send(change);
    }

    /// Adds or replaces an object (ADDED or MODIFIED to watchers).
    pub fn put(&self, kind: Kind, object: Value) {
        self.change(kind, "PUT", object);
    }

    /// Adds many at once, without a change each in the history (a cluster
    /// that was already there).
    pub fn preload(&self, kind: Kind, objects: Vec<Value>) {
        let mut inner = self.inner.lock().unwrap();
        for mut object in objects {
            inner.rv += 1;
            object["metadata"]["resourceVersion"] = json!(inner.rv.to_string());
            object["kind"] = json!(kind.kind());
            object["apiVersion"] = json!(kind.api_version());
            let key = Self::key(kind, &object);
            inner.objects.insert((kind, key), object);
        }
        inner.oldest = inner.rv;
    }

    pub fn delete(&self, kind: Kind, key: &str) {
        let object = self
            .inner
            .lock()
            .unwrap()
            .objects
            .get(&(kind, key.to_string()))
            .cloned();
        if let Some(object) = object {
            self.change(kind, "DELETED", object);
        }
    }

    /// Forgets the history and ends every watch: a watch that resumes
    /// gets 410 Gone and must list again, as after etcd compaction.
    pub fn compact(&self) {
        {
            let mut inner = self.inner.lock().unwrap();
            inner.history.clear();
            inner.oldest = inner.rv + 1;
        }
        self.cut.send_modify(|g| *g += 1);
    }

    /// Answers requests whose path holds `fragment` with `code`, `times` times.
    pub fn fail(&self, fragment: &str, code: u16, times: usize) {
        let message = format!("injected {code} for {fragment}");
        self.fail_saying(fragment, code, times, &message);
    }

    /// As `fail`, in the words given (RBAC's, say).
    pub fn fail_saying(&self, fragment: &str, code: u16, times: usize, message: &str) {
        self.inner.lock().unwrap().failures.push((
            fragment.to_string(),
            code,
            times,
            message.to_string(),
        ));
    }

    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// Writes a line to a container's log at `at` (RFC 3339, nanoseconds).
    pub fn log(&self, container: &str, at: &str, text: &str) {
        let at: jiff::Timestamp = at.parse().unwrap();
        let mut inner = self.inner.lock().unwrap();
        inner
            .logs
            .entry((container.to_string(), false))
            .or_default()
            .push((at, text.to_string()));
        // Under the lock: a follow starting now has the line in what it
        // reads or in what it hears, never both.
        let _ = self
            .lines
            .send((container.to_string(), at, text.to_string()));
    }

    /// Writes a line to the log of a container's previous instance.
    pub fn previous_log(&self, container: &str, at: &str, text: &str) {
        let at: jiff::Timestamp = at.parse().unwrap();
        self.inner
            .lock()
            .unwrap()
            .logs
            .entry((container.to_string(), true))
            .or_default()
            .push((at, text.to_string()));
    }

    /// Serves metrics.k8s.io: `(node, cpu, memory)` and `(namespace/pod, cpu, memory)`.
    pub fn metrics(&self, nodes: &[(&str, &str, &str)], pods: &[(&str, &str, &str)]) {
        let nodes = nodes
            .iter()
            .map(|(name, cpu, memory)| {
                json!({
                    "metadata": {"name": name, "creationTimestamp": "2026-06-15T04:30:00Z"},
                    "timestamp": "2026-06-15T04:30:00Z", "window": "15s",
                    "usage": {"cpu": cpu, "memory": memory}
                })
            })
            .collect();
        let pods = pods
            .iter()
            .map(|(id, cpu, memory)| {
                let (namespace, name) = id.split_once('/').unwrap();
                json!({
                    "metadata": {"name": name, "namespace": namespace},
                    "timestamp": "2026-06-15T04:30:00Z", "window": "15s",
                    "containers": [{"name": "coredns", "usage": {"cpu": cpu, "memory": memory}}]
                })
            })
            .collect();
        self.inner.lock().unwrap().metrics = Some((nodes, pods));
    }

    /// Exec speaks only v4 from now on.
    pub fn exec_v4_only(&self) {
        self.inner.lock().unwrap().exec_v4_only = true;
    }

    /// Ends every log follow (a kubelet restarting, a broken connection).
    pub fn cut_follows(&self) {
        self.cut.send_modify(|g| *g += 1);
    }

    /// The CA that signed the server's certificate, as PEM.
    pub fn ca(&self) -> PathBuf {
        self.pki.dir.join("ca.pem")
    }

    /// A kubeconfig for this server, as `kubectl config` would write it,
    /// with the bearer token.
    pub fn kubeconfig(&self, dir: &Path, namespace: &str) -> PathBuf {
        self.kubeconfig_for(dir, namespace, &format!("token: {TOKEN}"))
    }

    /// As `kubeconfig`, the user authenticated by a client certificate
    /// (`client-certificate` and `client-key` files) instead of a token.
    pub fn kubeconfig_with_client_certificate(&self, dir: &Path, namespace: &str) -> PathBuf {
        let user = format!(
            "client-certificate: {}\n    client-key: {}",
            self.pki.dir.join("client.pem").display(),
            self.pki.dir.join("client-key.pem").display()
        );
        self.kubeconfig_for(dir, namespace, &user)
    }

    fn kubeconfig_for(&self, dir: &Path, namespace: &str, user: &str) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {url}\n    certificate-authority: {ca}\n\
             contexts:\n- name: fake-ctx\n  context:\n    cluster: fake\n    user: tester\n    namespace: {namespace}\n\
             current-context: fake-ctx\nusers:\n- name: tester\n  user:\n    {user}\n",
            url = self.url,
            ca = self.pki.dir.join("ca.pem").display()
        );
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn status(code: u16, reason: &str, message: &str) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code
    });
    (
        StatusCode::from_u16(code).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn json_response(value: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn query(request: &Request) -> BTreeMap<String, String> {
    form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// What a path names.
struct Target {
    kind: Kind,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

fn route(path: &str) -> Option<Target> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest = match parts.as_slice() {
        ["api", "v1", rest @ ..] => rest,
        ["apis", "events.k8s.io", "v1", rest @ ..] => rest,
        _ => return None,
    };
    let events_group = path.starts_with("/apis/events.k8s.io/");
    let (namespace, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(ns.to_string()), rest),
        rest => (None, rest),
    };
    let kind = match (rest.first()?, events_group) {
        (&"nodes", false) => Kind::Nodes,
        (&"pods", false) => Kind::Pods,
        (&"events", true) => Kind::Events,
        _ => return None,
    };
    Some(Target {
        kind,
        namespace,
        name: rest.get(1).map(|s| s.to_string()),
        subresource: rest.get(2).map(|s| s.to_string()),
    })
}

async fn serve(State(fake): State<Shared>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let q = query(&request);
    {
        let mut inner = fake.inner.lock().unwrap();
        let line = format!("{} {}", request.method(), request.uri());
        inner.requests.push(line);
        if let Some(f) = inner
            .failures
            .iter_mut()
            .find(|(fragment, _, times, _)| *times > 0 && path.contains(fragment.as_str()))
        {
            f.2 -= 1;
            return status(f.1, reason_of(f.1), &f.3.clone());
        }
    }
    if !authorized(&request) {
        return status(401, "Unauthorized", "Unauthorized");
    }
    match path.as_str() {
        "/version" => {
            return json_response(json!({
                "major": "1", "minor": "34", "gitVersion": "v1.34.0", "gitCommit": "fake",
                "gitTreeState": "clean", "buildDate": "2026-06-01T00:00:00Z", "goVersion": "go1.24",
                "compiler": "gc", "platform": "linux/amd64"
            }));
        }
        "/api" => {
            return json_response(json!({
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]
            }));
        }
        "/apis" => return json_response(groups()),
        "/api/v1" => {
            return json_response(resources(
                "v1",
                &[
                    ("nodes", "Node", false, &["get", "list", "watch", "patch"]),
                    ("pods", "Pod", true, &["get", "list", "watch", "delete"]),
                    ("pods/log", "Pod", true, &["get"]),
                    ("pods/exec", "PodExecOptions", true, &["create", "get"]),
                ],
            ));
        }
        "/apis/events.k8s.io/v1" => {
            return json_response(resources(
                "events.k8s.io/v1",
                &[("events", "Event", true, &["get", "list", "watch"])],
            ));
        }
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("/apis/metrics.k8s.io/v1beta1/") {
        let metrics = fake.inner.lock().unwrap().metrics.clone();
        let Some((nodes, pods)) = metrics else {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            );
        };
        let (kind, items) = if rest == "nodes" {
            ("NodeMetricsList", nodes)
        } else {
            let namespace = rest
                .strip_prefix("namespaces/")
                .and_then(|r| r.strip_suffix("/pods"));
            let pods = pods
                .into_iter()
                .filter(|p| namespace.is_none_or(|ns| p["metadata"]["namespace"] == ns))
                .collect();
            ("PodMetricsList", pods)
        };
        return json_response(json!({
            "kind": kind, "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {}, "items": items
        }));
    }
    let Some(Target {
        kind,
        namespace,
        name,
        subresource: sub,
    }) = route(&path)
    else {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
    };
    if let (Kind::Pods, Some(ns), Some(pod), Some("log")) =
        (kind, &namespace, &name, sub.as_deref())
    {
        return pod_log(&fake, ns, pod, &q);
    }
    if let (Kind::Pods, Some(ns), Some(pod), Some("exec")) =
        (kind, namespace.clone(), name.clone(), sub.as_deref())
    {
        return pod_exec(&fake, &ns, &pod, request).await;
    }
    if let (Some(name), None) = (&name, &sub)
        && matches!(request.method(), &Method::DELETE | &Method::PATCH)
    {
        let key = match &namespace {
            Some(ns) => format!("{ns}/{name}"),
            None => name.clone(),
        };
        let Some(mut object) = fake
            .inner
            .lock()
            .unwrap()
            .objects
            .get(&(kind, key.clone()))
            .cloned()
        else {
            return status(
                404,
                "NotFound",
                &format!("{} \"{name}\" not found", kind_plural(kind)),
            );
        };
        if request.method() == Method::DELETE {
            fake.delete(kind, &key);
            return json_response(object);
        }
        // A JSON merge patch (RFC 7386), as `kubectl cordon` sends.
        let body = axum::body::to_bytes(request.into_body(), 1 << 20)
            .await
            .unwrap_or_default();
        let Ok(patch) = serde_json::from_slice::<Value>(&body) else {
            return status(400, "BadRequest", "the patch is not JSON");
        };
        merge(&mut object, &patch);
        fake.put(kind, object.clone());
        return json_response(object);
    }
    match (request.method(), name, sub) {
        (&Method::GET, None, None) if q.get("watch").is_some_and(|w| w == "true" || w == "1") => {
            watch(&fake, kind, namespace, &q)
        }
        (&Method::GET, None, None) => list(&fake, kind, namespace.as_deref(), &q),
        (&Method::GET, Some(name), None) => {
            let key = match &namespace {
                Some(ns) => format!("{ns}/{name}"),
                None => name.clone(),
            };
            match fake.inner.lock().unwrap().objects.get(&(kind, key)) {
                Some(object) => json_response(object.clone()),
                None => status(
                    404,
                    "NotFound",
                    &format!("{} \"{name}\" not found", kind_plural(kind)),
                ),
            }
        }
        _ => status(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ),
    }
}

fn kind_plural(kind: Kind) -> &'static str {
    match kind {
        Kind::Nodes => "nodes",
        Kind::Pods => "pods",
        Kind::Events => "events.events.k8s.io",
    }
}

fn reason_of(code: u16) -> &'static str {
    match code {
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        410 => "Expired",
        429 => "TooManyRequests",
        _ => "InternalError",
    }
}

/// Marks a request on a connection that showed a client certificate.
#[derive(Clone, Copy)]
struct ClientCertificate;

/// TLS with the fake's certificate, asking for (not requiring) a client
/// certificate signed by its CA, as an API server does.
fn tls_asking_for_a_client_cert(pki: &crate::common::Pki) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(pki.dir.join("ca.pem")).unwrap())
        .unwrap();
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider.clone())
            .allow_unauthenticated()
            .build()
            .unwrap();
    let certs = CertificateDer::pem_file_iter(pki.dir.join("cert.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki.dir.join("key.pem")).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

fn authorized(request: &Request) -> bool {
    request.extensions().get::<ClientCertificate>().is_some()
        || request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == format!("Bearer {TOKEN}"))
}

/// `/apis`: the recorded group list, cut to the groups this fake serves.
fn groups() -> Value {
    let mut list: Value =
        serde_json::from_str(include_str!("../../fixtures/kube/apis.json")).unwrap();
    let groups = list["groups"].as_array_mut().unwrap();
    groups.retain(|g| g["name"] == "events.k8s.io");
    list
}

fn resources(group_version: &str, list: &[(&str, &str, bool, &[&str])]) -> Value {
    let items: Vec<Value> = list
        .iter()
        .map(|(name, kind, namespaced, verbs)| {
            json!({"name": name, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": verbs})
        })
        .collect();
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": items})
}

fn list(
    fake: &FakeKube,
    kind: Kind,
    namespace: Option<&str>,
    q: &BTreeMap<String, String>,
) -> Response {
    let inner = fake.inner.lock().unwrap();
    let all: Vec<&Value> = inner
        .objects
        .range((kind, String::new())..)
        .take_while(|((k, _), _)| *k == kind)
        .filter(|(_, o)| namespace.is_none_or(|ns| o["metadata"]["namespace"] == ns))
        .map(|(_, o)| o)
        .collect();
    let start: usize = q.get("continue").and_then(|c| c.parse().ok()).unwrap_or(0);
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(all.len());
    let mut metadata = json!({"resourceVersion": inner.rv.to_string()});
    if end < all.len() {
        metadata["continue"] = json!(end.to_string());
        metadata["remainingItemCount"] = json!(all.len() - end);
    }
    json_response(json!({
        "kind": kind.list_kind(), "apiVersion": kind.api_version(),
        "metadata": metadata, "items": all[start.min(end)..end]
    }))
}

fn watch(
    fake: &FakeKube,
    kind: Kind,
    namespace: Option<String>,
    q: &BTreeMap<String, String>,
) -> Response {
    let from: u64 = q
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let bookmarks = q.get("allowWatchBookmarks").is_some_and(|v| v == "true");
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(1800), Duration::from_secs);
    let (tx, rx) = mpsc::channel::<Bytes>(1024);
    let matches = {
        let namespace = namespace.clone();
        move |c: &Change| c.kind == kind && (namespace.is_none() || c.namespace == namespace)
    };
    let (backlog, mut live, current) = {
        let inner = fake.inner.lock().unwrap();
        if from != 0 && from < inner.oldest {
            let gone = json!({"type": "ERROR", "object": {
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": format!("too old resource version: {from} ({})", inner.oldest),
                "reason": "Expired", "code": 410
            }});
            return (
                [(header::CONTENT_TYPE, "application/json")],
                format!("{gone}\n"),
            )
                .into_response();
        }
        let backlog: Vec<Bytes> = inner
            .history
            .iter()
            .filter(|c| c.rv > from && matches(c))
            .map(|c| c.line.clone())
            .collect();
        (backlog, fake.changes.subscribe(), inner.rv)
    };
    let mut cut = fake.cut.subscribe();
    let inner = fake.inner.clone();
    tokio::spawn(async move {
        let ends = tokio::time::sleep(timeout);
        tokio::pin!(ends);
        for line in backlog {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                // A cut first: what changed after it is for the next watch.
                biased;
                _ = cut.changed() => return,
                _ = &mut ends => return,
                change = live.recv() => match change {
                    // What the backlog held came before `current`.
                    Ok(c) if c.rv > current => {
                        if matches(&c) && tx.send(c.line).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tick.tick(), if bookmarks => {
                    let rv = inner.lock().unwrap().rv;
                    let mark = json!({"type": "BOOKMARK", "object": {
                        "kind": kind.kind(), "apiVersion": kind.api_version(),
                        "metadata": {"resourceVersion": rv.to_string()}
                    }});
                    if tx.send(Bytes::from(format!("{mark}\n"))).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response()
}

/// A pod, or the API server's 404 for it.
fn pod_object(fake: &FakeKube, namespace: &str, pod: &str) -> Result<Value, Box<Response>> {
    let object = fake
        .inner
        .lock()
        .unwrap()
        .objects
        .get(&(Kind::Pods, format!("{namespace}/{pod}")))
        .cloned();
    object.ok_or_else(|| {
        Box::new(status(
            404,
            "NotFound",
            &format!("pods \"{pod}\" not found"),
        ))
    })
}

/// `GET …/pods/NAME/log`: as the kubelet answers through the API server.
fn pod_log(fake: &FakeKube, namespace: &str, pod: &str, q: &BTreeMap<String, String>) -> Response {
    let flag = |k: &str| q.get(k).is_some_and(|v| v == "true");
    let object = match pod_object(fake, namespace, pod) {
        Ok(object) => object,
        Err(missing) => return *missing,
    };
    let names: Vec<String> = object["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect();
    let container = match q.get("container") {
        Some(c) if names.contains(c) => c.clone(),
        Some(c) => {
            return status(
                400,
                "BadRequest",
                &format!("container {c} is not valid for pod {pod}"),
            );
        }
        None if names.len() == 1 => names[0].clone(),
        None => {
            return status(
                400,
                "BadRequest",
                &format!(
                    "a container name must be specified for pod {pod}, choose one of: [{}]",
                    names.join(" ")
                ),
            );
        }
    };
    let key = format!("{namespace}/{pod}/{container}");
    let previous = flag("previous");
    let since: Option<jiff::Timestamp> = q.get("sinceTime").and_then(|t| t.parse().ok());
    let tail: Option<usize> = q.get("tailLines").and_then(|t| t.parse().ok());
    let timestamps = flag("timestamps");
    let render = move |at: &jiff::Timestamp, text: &str| {
        if timestamps {
            // RFC 3339 with nanoseconds, as the kubelet writes them.
            format!("{} {text}\n", at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        } else {
            format!("{text}\n")
        }
    };
    let (held, mut live) = {
        let inner = fake.inner.lock().unwrap();
        let held = inner.logs.get(&(key.clone(), previous)).cloned();
        (held, fake.lines.subscribe())
    };
    let Some(held) = held.or((!previous).then(Vec::new)) else {
        return status(
            400,
            "BadRequest",
            &format!("previous terminated container \"{container}\" in pod \"{pod}\" not found"),
        );
    };
    let mut chosen: Vec<&(jiff::Timestamp, String)> = held
        .iter()
        .filter(|(at, _)| since.is_none_or(|s| *at >= s))
        .collect();
    if let Some(tail) = tail {
        let cut = chosen.len().saturating_sub(tail);
        chosen.drain(..cut);
    }
    let first: String = chosen.iter().map(|(at, text)| render(at, text)).collect();
    if !flag("follow") || previous {
        return ([(header::CONTENT_TYPE, "text/plain")], first).into_response();
    }
    let (tx, rx) = mpsc::channel::<Bytes>(1024);
    let mut cut = fake.cut.subscribe();
    tokio::spawn(async move {
        if tx.send(Bytes::from(first)).await.is_err() {
            return;
        }
        loop {
            tokio::select! {
                biased;
                _ = cut.changed() => return,
                line = live.recv() => match line {
                    Ok((k, at, text)) if k == key => {
                        if tx.send(Bytes::from(render(&at, &text))).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                },
            }
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    });
    (
        [(header::CONTENT_TYPE, "text/plain")],
        Body::from_stream(body),
    )
        .into_response()
}

/// `…/pods/NAME/exec` on a WebSocket: the command runs here (see `exec`).
async fn pod_exec(fake: &FakeKube, namespace: &str, pod: &str, request: Request) -> Response {
    use axum::extract::FromRequestParts;
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let flag = |k: &str| {
        pairs
            .iter()
            .any(|(key, v)| key == k && (v == "true" || v == "1"))
    };
    let command: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.clone())
        .collect();
    let object = match pod_object(fake, namespace, pod) {
        Ok(object) => object,
        Err(missing) => return *missing,
    };
    if let Some((_, c)) = pairs.iter().find(|(k, _)| k == "container")
        && !object["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|x| x["name"] == c.as_str())
    {
        return status(
            400,
            "BadRequest",
            &format!("container {c} is not valid for pod {pod}"),
        );
    }
    if command.is_empty() {
        return status(400, "BadRequest", "you must specify at least 1 command");
    }
    let (mut parts, _) = request.into_parts();
    let Ok(ws) = axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &()).await
    else {
        return status(400, "BadRequest", "exec needs a WebSocket upgrade");
    };
    let v4_only = fake.inner.lock().unwrap().exec_v4_only;
    exec::upgrade(
        ws,
        exec::ExecAsk {
            command,
            stdin: flag("stdin"),
            tty: flag("tty"),
        },
        v4_only,
    )
}

/// RFC 7386: objects merge key by key, `null` removes, the rest replaces.
fn merge(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(target), Some(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}
