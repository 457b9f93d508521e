//! Runs the sources, each on a thread of its own (reading /proc, files and
//! journalctl's pipe is blocking work that must not hold up the async
//! workers), feeding the store, and stops them all together.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::logs::seek::LogSeeker;
use super::store::Store;
use crate::api::{LogEntry, now_millis};
use crate::collect::Source;
use crate::collect::history::{HistoryAsk, SourcePage};
use crate::collect::journal::{self, JournalConfig};
use crate::collect::logfile::{FileRegistry, FileTailer};
use crate::collect::statsd;
use crate::collect::watch::DirWatch;

/// How often log files are looked at when nothing wakes the tailer: a
/// write in a watched folder wakes it at once (`collect::watch`).
const FILE_POLL: Duration = Duration::from_millis(250);
/// How long a tailer woken by a write waits for more before it reads.
const COALESCE: Duration = Duration::from_millis(10);
/// Journal entries read at start, and after a restart of journalctl.
const JOURNAL_BACKFILL: usize = 1000;
/// How often the journal is read when journalctl cannot follow it.
const JOURNAL_POLL: Duration = Duration::from_secs(1);
/// A follow that ends sooner than this never really followed.
const FOLLOW_SETTLES: Duration = Duration::from_secs(10);

/// Log entries handed to the store at a time: well under a subscriber's
/// queue, so pacing between batches can keep a burst from becoming a gap.
const LOG_BATCH: usize = 1024;

/// Hands a file pass's entries to the store in paced batches.
fn hand_over(store: &Store, entries: &mut Vec<LogEntry>) {
    let mut rest = std::mem::take(entries).into_iter();
    loop {
        let batch: Vec<LogEntry> = rest.by_ref().take(LOG_BATCH).collect();
        if batch.is_empty() {
            return;
        }
        store.append_logs(batch);
        store.pace_logs();
    }
}

/// Every source thread, and how to stop them.
#[derive(Default)]
pub struct Sources {
    threads: Vec<JoinHandle<()>>,
    /// Dropping these wakes every thread waiting on its receiver.
    stops: Vec<Sender<()>>,
    /// journalctl's pid, to end it (its reader thread is blocked on the pipe).
    journal_pid: Arc<AtomicU32>,
}

/// Waits `wait`, or less if told to stop; false when told to stop.
fn pause(stop: &Receiver<()>, wait: Duration) -> bool {
    matches!(stop.recv_timeout(wait), Err(RecvTimeoutError::Timeout))
}

impl Sources {
    fn stopper(&mut self) -> Receiver<()> {
        let (tx, rx) = channel();
        self.stops.push(tx);
        rx
    }

    fn spawn(&mut self, name: &str, body: impl FnOnce() + Send + 'static) {
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(body)
            .expect("threads can be spawned");
        self.threads.push(thread);
    }

    /// Reads the cluster source every `refresh`.
    pub fn collector(&mut self, mut source: Box<dyn Source>, store: Arc<Store>, refresh: Duration) {
        if let Some(history) = source.history() {
            store.seekers.add(history);
        }
        let stop = self.stopper();
        self.spawn("collector", move || {
            let mut next = Instant::now() + refresh;
            loop {
                if !pause(&stop, next.saturating_duration_since(Instant::now())) {
                    return;
                }
                let now = Instant::now();
                next += refresh;
                if next < now {
                    next = now + refresh; // fell behind: skip, don't burst
                }
                let ts = now_millis();
                store.apply(source.collect(ts), ts);
                crate::memory::release_pending();
            }
        });
    }

    /// Follows log files matching `globs`.
    pub fn files(&mut self, globs: Vec<String>, node: String, store: Arc<Store>) {
        let name = format!("files {}", globs.join(" "));
        store.set_log_source(&name, "following");
        let registry = FileRegistry::default();
        store.seekers.add(Arc::new(FileSeeker {
            registry: registry.clone(),
            node: node.clone(),
        }));
        let priming = store.seekers.priming();
        let stop = self.stopper();
        self.spawn("log-files", move || {
            let mut priming = Some(priming);
            let watch = DirWatch::new(&globs)
                .inspect_err(|why| {
                    // Lines still arrive, a timed pass later: say so.
                    tracing::warn!("log files: {why}; reading every {FILE_POLL:?} instead");
                    store.set_log_source(&name, &format!("following, every {FILE_POLL:?}: {why}"));
                })
                .ok();
            let mut tailer = FileTailer::new(globs, node, registry);
            let mut out: Vec<LogEntry> = Vec::new();
            // Files a watch saw written since the last read; `None`: look
            // at every file (at the start, on a timed pass, after a file
            // appeared).
            let mut written: Option<Vec<std::path::PathBuf>> = None;
            let mut last_full = Instant::now();
            loop {
                let quick = written.as_ref().filter(|_| last_full.elapsed() < FILE_POLL);
                let more = match quick.and_then(|paths| tailer.read_changed(paths, &mut out)) {
                    Some(more) => more,
                    None => {
                        last_full = Instant::now();
                        tailer.poll(&mut out)
                    }
                };
                hand_over(&store, &mut out);
                priming.take();
                // A file written faster than one pass reads is read again
                // at once: the budget per pass is for fairness, not a cap.
                // Otherwise the next read is when a file is written (after
                // a moment for more writes to land, so a file written line
                // by line costs a read a batch), or after FILE_POLL.
                let wait = match (&watch, more) {
                    (_, true) => Duration::ZERO,
                    (Some(watch), false) => match watch.wait(FILE_POLL) {
                        Some(changes) if !changes.anything_else => {
                            written = Some(changes.written);
                            COALESCE
                        }
                        _ => {
                            written = None;
                            Duration::ZERO
                        }
                    },
                    (None, false) => FILE_POLL,
                };
                if !pause(&stop, wait) {
                    return;
                }
            }
        });
    }

    /// Listens for statsd datagrams, handing over what each interval
    /// gathered at its end.
    pub fn statsd(
        &mut self,
        mut listener: statsd::Listener,
        store: Arc<Store>,
        interval: Duration,
    ) {
        store.set_log_source("statsd", "listening");
        let stop = self.stopper();
        self.spawn("statsd", move || {
            let mut began = Instant::now();
            loop {
                let next = began + interval;
                listener.receive_until(next);
                if !pause(&stop, Duration::ZERO) {
                    return;
                }
                let now = Instant::now();
                let flushed = listener.flush(now_millis(), (now - began).as_secs_f64());
                began = now;
                store.add_samples(flushed.samples);
                store.append_logs(flushed.logs);
                for (check, result) in flushed.checks {
                    store.record_check(check, result);
                }
            }
        });
    }

    /// Follows the journal through journalctl, restarting it if it ends.
    pub fn journal(&mut self, config: JournalConfig, node: String, store: Arc<Store>) {
        let name = "journal".to_string();
        if let Some(why) = config.unavailable() {
            tracing::info!("journal: {why}");
            store.set_log_source(&name, &why);
            return;
        }
        store.seekers.add(Arc::new(JournalSeeker {
            config: config.clone(),
            node: node.clone(),
        }));
        let stop = self.stopper();
        let pid = self.journal_pid.clone();
        self.spawn("journal", move || {
            let backfill = config.backfill.unwrap_or(JOURNAL_BACKFILL);
            // Set once a follow ended by itself soon after it started (as
            // when journalctl cannot follow the files it was given): the
            // journal is then read every JOURNAL_POLL instead.
            let mut polling: Option<String> = None;
            let mut last_cursor: Option<String> = None;
            loop {
                let follow = polling.is_none();
                let started = Instant::now();
                let reason = match config.read(last_cursor.as_deref(), backfill, follow) {
                    Ok(mut child) => {
                        pid.store(child.id(), Ordering::Relaxed);
                        if follow {
                            store.set_log_source(&name, "following");
                        }
                        // Whatever is read is kept, and a restart resumes
                        // right after the last entry kept.
                        let ended = journal::pump(&mut child, &node, LOG_BATCH, |batch| {
                            if let Some(last) = batch.last() {
                                last_cursor = Some(last.cursor.clone());
                            }
                            store.append_logs(batch);
                            store.pace_logs();
                        });
                        pid.store(0, Ordering::Relaxed);
                        ended
                    }
                    Err(e) => Err(format!("cannot run journalctl: {e}")),
                };
                let wait = match (reason, follow) {
                    (Err(why) | Ok(why), true) if started.elapsed() < FOLLOW_SETTLES => {
                        tracing::warn!("journal: {why}; reading it every {JOURNAL_POLL:?} instead");
                        let note = format!(
                            "polling every {JOURNAL_POLL:?}: journalctl could not follow ({why})"
                        );
                        store.set_log_source(&name, &note);
                        polling = Some(note);
                        Duration::ZERO
                    }
                    (Err(why) | Ok(why), true) => {
                        // A follow that ran a while and ended: start it again.
                        tracing::warn!("journal: {why}; following again");
                        store.set_log_source(&name, &format!("restarting: {why}"));
                        Duration::from_secs(1)
                    }
                    (Ok(_), false) => {
                        store.set_log_source(&name, polling.as_deref().unwrap_or_default());
                        JOURNAL_POLL
                    }
                    (Err(why), false) => {
                        tracing::warn!("journal: {why}");
                        store.set_log_source(&name, &format!("stopped: {why}; retrying"));
                        Duration::from_secs(5)
                    }
                };
                if !pause(&stop, wait) {
                    return;
                }
            }
        });
    }

    /// Tells every source to stop, and ends journalctl (its reader is
    /// blocked on the pipe until then).
    fn signal_stop(&mut self) {
        self.stops.clear();
        let pid = self.journal_pid.swap(0, Ordering::Relaxed);
        if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
    }

    /// Stops every source and waits for its thread.
    pub fn stop(mut self) {
        self.signal_stop();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Sources {
    fn drop(&mut self) {
        self.signal_stop();
    }
}

/// Resumes and reads back only within the files the tailer follows or
/// followed lately.
struct FileSeeker {
    registry: FileRegistry,
    node: String,
}

impl LogSeeker for FileSeeker {
    fn name(&self) -> &'static str {
        "files"
    }

    fn run_of(&self, entry: &LogEntry) -> Option<String> {
        // A path is one run through its rotations.
        entry.cursor.starts_with("f:").then_some(())?;
        Some(format!("files:{}", entry.file.as_deref()?))
    }

    fn owns(&self, cursor: &str) -> bool {
        cursor.starts_with("f:")
    }

    fn by_time(&self) -> bool {
        false
    }

    fn history(&self, ask: &HistoryAsk) -> Result<SourcePage, String> {
        self.registry
            .history(&self.node, ask)
            .unwrap_or_else(|| Err("not a file cursor".into()))
    }
}

struct JournalSeeker {
    config: JournalConfig,
    node: String,
}

impl LogSeeker for JournalSeeker {
    fn name(&self) -> &'static str {
        "journal"
    }

    fn run_of(&self, entry: &LogEntry) -> Option<String> {
        entry.cursor.starts_with("j:").then(|| "journal".into())
    }

    fn owns(&self, cursor: &str) -> bool {
        cursor.starts_with("j:")
    }

    fn by_time(&self) -> bool {
        true
    }

    fn history(&self, ask: &HistoryAsk) -> Result<SourcePage, String> {
        self.config.history(&self.node, ask)
    }
}
