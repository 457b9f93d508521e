//! Notifications on disk until a receiver takes them: one JSON file each,
//! written whole (a temporary file renamed), so one survives a gateway
//! restart and none is half-written. Each receiver has its own sender, so
//! one that is down or slow delays only its own notifications; a failure
//! is retried with backoff, a 429 after its `Retry-After`. A 2xx deletes
//! the file: delivered once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::config::Receiver;
use crate::api::{ReceiverStatus, UnixMillis, now_millis};

/// Notifications kept at most; past it the oldest go, and are counted.
pub const MAX_QUEUED: usize = 1_000;
/// A notification not taken in a day is given up, and counted.
const GIVE_UP: i64 = 24 * 3_600_000;
const MAX_BACKOFF: i64 = 300_000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Item {
    pub receiver: String,
    pub body: serde_json::Value,
    pub created: UnixMillis,
    pub attempts: u32,
    pub next_at: UnixMillis,
}

#[derive(Debug)]
pub struct Queue {
    dir: PathBuf,
    seq: Mutex<u64>,
    /// Per receiver: how deliveries went.
    pub status: Mutex<Vec<ReceiverStatus>>,
    pub dropped: Mutex<u64>,
}

impl Queue {
    pub fn open(dir: &Path, receivers: &[Receiver]) -> Result<Queue, String> {
        // Bodies hold routing keys: the queue is the gateway user's alone.
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot make the alert queue {}: {e}", dir.display()))?;
        let status = receivers
            .iter()
            .map(|r| ReceiverStatus {
                name: r.name.clone(),
                kind: r.kind.name().into(),
                ..Default::default()
            })
            .collect();
        let queue = Queue {
            dir: dir.to_path_buf(),
            seq: Mutex::new(0),
            status: Mutex::new(status),
            dropped: Mutex::new(0),
        };
        queue.count();
        Ok(queue)
    }

    /// The files waiting, oldest first (names sort by creation).
    fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        files
    }

    fn read(path: &Path) -> Option<Item> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    /// Writes an item whole (mode 0600: it may hold a routing key).
    fn write(path: &Path, item: &Item) -> Result<(), String> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_vec(item).map_err(|e| e.to_string())?;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut f| f.write_all(&text))
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Puts a notification in the queue for its receiver.
    pub fn push(&self, item: Item) -> Result<(), String> {
        let mut files = self.files();
        while files.len() >= MAX_QUEUED {
            let _ = std::fs::remove_file(files.remove(0));
            *lock(&self.dropped) += 1;
        }
        let seq = {
            let mut seq = lock(&self.seq);
            *seq += 1;
            *seq
        };
        let name = format!(
            "{:013}-{:06}-{}.json",
            item.created,
            seq,
            std::process::id()
        );
        Queue::write(&self.dir.join(name), &item)?;
        self.count();
        Ok(())
    }

    /// Refreshes each receiver's count of notifications waiting.
    fn count(&self) {
        let items: Vec<Item> = self.files().iter().filter_map(|p| Queue::read(p)).collect();
        for s in lock(&self.status).iter_mut() {
            s.queued = items.iter().filter(|i| i.receiver == s.name).count();
        }
    }

    fn note(&self, receiver: &str, f: impl FnOnce(&mut ReceiverStatus)) {
        if let Some(s) = lock(&self.status).iter_mut().find(|s| s.name == receiver) {
            f(s);
        }
    }

    /// Sends what is due for `receiver` at `now`, one at a time, oldest
    /// first; returns when it is all tried once.
    pub async fn send_due(&self, receiver: &Receiver, http: &reqwest::Client, now: UnixMillis) {
        for path in self.files() {
            let Some(mut item) = Queue::read(&path) else {
                // Not ours to understand: moved aside, never resent.
                let _ = std::fs::rename(&path, path.with_extension("bad"));
                continue;
            };
            if item.receiver != receiver.name || item.next_at > now {
                continue;
            }
            if now - item.created > GIVE_UP {
                let _ = std::fs::remove_file(&path);
                *lock(&self.dropped) += 1;
                continue;
            }
            match post(receiver, http, &item.body).await {
                Ok(()) => {
                    let _ = std::fs::remove_file(&path);
                    self.note(&receiver.name, |s| {
                        s.sent += 1;
                        s.last_error = None;
                    });
                }
                Err((why, retry_after)) => {
                    item.attempts += 1;
                    let backoff = (1_000i64 << item.attempts.min(9)).min(MAX_BACKOFF);
                    item.next_at = now + retry_after.unwrap_or(backoff);
                    let _ = Queue::write(&path, &item);
                    self.note(&receiver.name, |s| {
                        s.failed += 1;
                        s.last_error = Some(why);
                    });
                }
            }
        }
        self.count();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// POSTs one body; an error says why, and how long a 429 asked to wait.
async fn post(
    receiver: &Receiver,
    http: &reqwest::Client,
    body: &serde_json::Value,
) -> Result<(), (String, Option<i64>)> {
    let sent = http
        .post(&receiver.url)
        .timeout(receiver.timeout)
        .json(body)
        .send()
        .await
        // Without the URL: a Slack webhook's URL is its secret, and the
        // error is shown to every reader of /api/v1/alerts.
        .map_err(|e| (crate::client::error_chain(&e.without_url()), None))?;
    let status = sent.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after = sent
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|s| s.clamp(0, 3_600) * 1_000);
    let text = sent.text().await.unwrap_or_default();
    let text: String = text.chars().take(200).collect();
    Err((format!("{status}: {}", text.trim()), retry_after))
}

/// One receiver's sender: tries what is due every second, until shutdown.
pub async fn sender(
    queue: Arc<Queue>,
    receiver: Receiver,
    wake: Arc<tokio::sync::Notify>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let http = match http_client() {
        Ok(h) => h,
        Err(e) => {
            queue.note(&receiver.name, |s| s.last_error = Some(e));
            return;
        }
    };
    loop {
        queue.send_due(&receiver, &http, now_millis()).await;
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// The HTTP client of every receiver: the public roots (PagerDuty, Slack).
pub fn http_client() -> Result<reqwest::Client, String> {
    let tls = crate::client::tls_config(None)?;
    reqwest::Client::builder()
        .tls_backend_preconfigured((*tls).clone())
        .user_agent(crate::client::USER_AGENT)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}
