//! The audit trail: an append-only JSON-lines file (`--audit-log`) and the
//! store's `audit` topic, written together. One line is one record, written
//! with one `write` to a file opened for appending, so lines never
//! interleave and nothing before them is ever rewritten.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::api::{AuditKind, AuditRecord, Decision, Op, UnixMillis, now_millis};

use super::store::Store;

/// Refusals (bad tokens, refused cursors) recorded a second at most; the
/// rest are counted into the next record's `suppressed`, so a flood of
/// them cannot fill the disk.
const REFUSALS_PER_SECOND: u32 = 20;

pub struct Audit {
    file: Option<Mutex<std::fs::File>>,
    path: Option<PathBuf>,
    next_id: AtomicU64,
    store: Arc<Store>,
    /// The last write to the file failed; exec is refused until one works.
    failing: AtomicBool,
    refusal_window: Mutex<RefusalWindow>,
}

#[derive(Default)]
struct RefusalWindow {
    second: UnixMillis,
    recorded: u32,
    suppressed: u64,
}

impl Audit {
    /// Opens (or creates, owner-only) the audit file, if one is given.
    pub fn open(path: Option<&Path>, store: Arc<Store>) -> Result<Audit, String> {
        let file = match path {
            Some(path) => {
                use std::os::unix::fs::OpenOptionsExt;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        format!(
                            "cannot create the audit log's directory {}: {e}",
                            dir.display()
                        )
                    })?;
                }
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| format!("cannot open audit log {}: {e}", path.display()))?;
                Some(Mutex::new(file))
            }
            None => None,
        };
        Ok(Audit {
            file,
            path: path.map(Path::to_path_buf),
            next_id: AtomicU64::new(1),
            store,
            failing: AtomicBool::new(false),
            refusal_window: Mutex::new(RefusalWindow::default()),
        })
    }

    /// A fresh id for a record (a session's start and end share one).
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether records reach the file (always, without one).
    pub fn healthy(&self) -> bool {
        !self.failing.load(Ordering::Relaxed)
    }

    /// Announces a session that has started; its complete record follows
    /// with [`Audit::record`] when it ends. Only the topic sees this one.
    pub fn started(&self, record: &AuditRecord) {
        self.store.publish_audit(Op::Added, record.clone());
    }

    /// Writes a complete record: to the file, then the topic.
    pub fn record(&self, mut record: AuditRecord) {
        if record.id == 0 {
            record.id = self.next_id();
        }
        if let Some(file) = &self.file {
            let mut line = serde_json::to_vec(&record).expect("audit records serialize");
            line.push(b'\n');
            let written = file
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .write_all(&line);
            match written {
                Ok(()) => self.failing.store(false, Ordering::Relaxed),
                Err(e) => {
                    self.failing.store(true, Ordering::Relaxed);
                    tracing::error!(
                        path = ?self.path,
                        "cannot write the audit log: {e}; exec is refused until it can be written"
                    );
                }
            }
        }
        self.store.publish_audit(Op::Updated, record);
    }

    /// Records a request that carried no valid token, within the rate limit.
    pub fn auth_failure(&self, source: &str, client: &str, route: &str, reason: &str) {
        self.refusal(AuditKind::Auth, "", source, client, route, reason);
    }

    /// Records a refused request, within the rate limit.
    pub fn refusal(
        &self,
        kind: AuditKind,
        actor: &str,
        source: &str,
        client: &str,
        route: &str,
        reason: &str,
    ) {
        let now = now_millis();
        let suppressed = {
            let mut window = self
                .refusal_window
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if now / 1000 != window.second {
                window.second = now / 1000;
                window.recorded = 0;
            }
            if window.recorded >= REFUSALS_PER_SECOND {
                window.suppressed += 1;
                return;
            }
            window.recorded += 1;
            std::mem::take(&mut window.suppressed)
        };
        let mut record = AuditRecord::new(kind, Decision::Deny, actor, source);
        record.client = client.to_string();
        record.route = route.to_string();
        record.reason = reason.to_string();
        record.suppressed = suppressed;
        self.record(record);
    }
}
