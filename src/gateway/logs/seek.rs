//! Resumes the ring cannot serve: a log cursor handed back to the source
//! that made it. Each source answers only for its own cursors, and only
//! from what it was configured to read: nothing a client sends is opened
//! as a path. Lookups are bounded in number and in time, and a cursor no
//! source will serve is audited (a forged one is an attack).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, watch};

use crate::api::{ApiError, AuditKind, ErrorCode, LogEntry};
pub use crate::collect::history::LogSeeker;
use crate::gateway::Shared;

/// How long a source may take to read back from a cursor.
pub const SEEK_DEADLINE: Duration = Duration::from_secs(5);
/// Source lookups under way at once, over every client.
pub const MAX_SEEKS: usize = 4;

pub struct Seekers {
    list: Mutex<Vec<Arc<dyn LogSeeker>>>,
    running: Arc<Semaphore>,
    /// Log sources that have not yet handed their first read to the ring.
    priming: watch::Sender<usize>,
}

/// Held by a log source until its first read is in the ring.
pub struct Priming(watch::Sender<usize>);

impl Drop for Priming {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Default for Seekers {
    fn default() -> Self {
        Seekers {
            list: Mutex::new(Vec::new()),
            running: Arc::new(Semaphore::new(MAX_SEEKS)),
            priming: watch::Sender::new(0),
        }
    }
}

impl Seekers {
    pub fn add(&self, seeker: Arc<dyn LogSeeker>) {
        self.list
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(seeker);
    }

    pub fn list(&self) -> Vec<Arc<dyn LogSeeker>> {
        self.list.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A log source starting: resumes wait until it drops what this gives
    /// (its first read is in the ring), since a gateway that has just
    /// started does not know its files yet, and lines read back before the
    /// ring has them would come twice.
    pub fn priming(&self) -> Priming {
        self.priming.send_modify(|n| *n += 1);
        Priming(self.priming.clone())
    }

    /// Waits, at most `within`, for every log source's first read.
    pub async fn primed(&self, within: Duration) {
        let mut rx = self.priming.subscribe();
        let _ = tokio::time::timeout(within, rx.wait_for(|n| *n == 0)).await;
    }

    /// A permit to read a source, if fewer than [`MAX_SEEKS`] are under way.
    pub fn permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        self.running.clone().try_acquire_owned().map_err(|_| {
            ApiError::new(
                ErrorCode::Unavailable,
                format!("{MAX_SEEKS} log source lookups are already under way; try again shortly"),
            )
        })
    }

    /// Asks every source in turn (blocking: it may run `journalctl`).
    fn entries_after(&self, cursor: &str, limit: usize) -> Result<Vec<LogEntry>, String> {
        let list = self.list.lock().unwrap_or_else(|p| p.into_inner()).clone();
        list.iter()
            .find_map(|s| s.entries_after(cursor, limit, SEEK_DEADLINE))
            .unwrap_or_else(|| Err("no log source of this gateway made that cursor".into()))
    }
}

/// Who asked, for the audit trail.
pub struct Asker<'a> {
    pub actor: &'a str,
    pub source: &'a str,
    pub client: &'a str,
    /// The route or stream topic the cursor came in on.
    pub route: &'a str,
}

/// Reads up to `limit` entries after `cursor` from the source that made
/// it, within [`SEEK_DEADLINE`] and at most [`MAX_SEEKS`] at a time.
pub async fn seek(
    gw: &Shared,
    cursor: &str,
    limit: usize,
    asker: &Asker<'_>,
) -> Result<Vec<LogEntry>, ApiError> {
    let _permit = gw.store.seekers.permit()?;
    let store = gw.store.clone();
    let wanted = cursor.to_string();
    let lookup = tokio::task::spawn_blocking(move || store.seekers.entries_after(&wanted, limit));
    // A little past the sources' own deadline, for the thread to end.
    let outcome = match tokio::time::timeout(SEEK_DEADLINE + Duration::from_secs(1), lookup).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err("the lookup failed".into()),
        Err(_) => Err(format!(
            "the source did not answer within {SEEK_DEADLINE:?}"
        )),
    };
    outcome.map_err(|why| refuse(gw, asker, cursor, &why))
}

/// A cursor no source serves: audited (a forged one is an attack), and
/// answered with what happened.
pub fn refuse(gw: &Shared, asker: &Asker<'_>, cursor: &str, why: &str) -> ApiError {
    gw.audit.refusal(
        AuditKind::Cursor,
        asker.actor,
        asker.source,
        asker.client,
        asker.route,
        &format!("log cursor {}: {why}", shown(cursor)),
    );
    ApiError::new(
        ErrorCode::NotFound,
        format!(
            "cursor {} is neither in the gateway's buffer nor found by its source: {why}",
            shown(cursor)
        ),
    )
}

/// A cursor as it may be shown: quoted, escaped, and cut.
fn shown(cursor: &str) -> String {
    let cut: String = cursor.chars().take(200).collect();
    let more = if cut.len() < cursor.len() { "…" } else { "" };
    format!("{cut:?}{more}")
}
