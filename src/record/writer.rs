//! Writes a recording on a thread of its own, so a slow disk never holds
//! up the console: entries go through a bounded queue (what it drops is
//! counted and shown), into gzip chunks of at most a second, with a
//! keyframe every [`KEYFRAME_EVERY`] and a new part past the size limit.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::format::{Entry, Header, What};
use super::state::States;
use crate::api::UnixMillis;

/// Entries waiting for the disk, at most, and about how many bytes of
/// them (a message may carry a thousand records).
const QUEUE: usize = 65_536;
const QUEUE_BYTES: usize = 64 << 20;
/// A chunk is written out after this long, or this many bytes.
const CHUNK_TIME: Duration = Duration::from_secs(1);
const CHUNK_BYTES: usize = 1 << 20;
/// How often, in recorded time (ms), the whole state is written, for a
/// replay to seek from. A seek applies up to this much recording after
/// its keyframe: an hour at 2,000 events a second seeks in 77 ms (p50;
/// worst 133 ms) at 15 s, in 111 ms (worst 144 ms) at 30 s for a file
/// 23% smaller; at 10,000 tasks a keyframe is most of a file, and the
/// margin under the 200 ms goal is worth it.
pub const KEYFRAME_EVERY: UnixMillis = 15_000;
/// A part of a recording is closed and the next begun past this size.
pub const DEFAULT_PART_BYTES: u64 = 1 << 30;

/// What a running recording has done, for the console's header and the
/// command's last word.
#[derive(Default)]
pub struct Progress {
    pub entries: AtomicU64,
    /// Compressed bytes written, over every part.
    pub bytes: AtomicU64,
    /// Entries the queue had no room for.
    pub dropped: AtomicU64,
    pub parts: AtomicU64,
    /// About how many bytes are queued for the disk.
    queued: AtomicU64,
}

/// About what an entry holds in memory, for the queue's bound.
fn weight(what: &What) -> u64 {
    use crate::api::ServerMsg;
    let records = match what {
        What::Msg(ServerMsg::Event { events, .. }) => events.len(),
        What::Msg(ServerMsg::Snapshot { items, .. }) => items.len(),
        _ => 0,
    };
    256 + records as u64 * 768
}

pub struct Recorder {
    tx: Option<SyncSender<Entry>>,
    thread: Option<JoinHandle<Result<(), String>>>,
    pub progress: Arc<Progress>,
    pub path: PathBuf,
}

impl Recorder {
    /// Starts a recording at `path` (made absolute, parent folders must
    /// exist); an existing file is refused rather than overwritten.
    pub fn create(path: &Path, header: Header, part_bytes: u64) -> Result<Recorder, String> {
        let path = std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file = open_new(&path)?;
        let progress = Arc::new(Progress::default());
        let (tx, rx) = sync_channel(QUEUE);
        let states = States::new(&header.subscriptions);
        let mut writer = Writer {
            base: path.clone(),
            file,
            header,
            part_bytes,
            written: 0,
            states,
            chunk: None,
            chunk_began: Instant::now(),
            last_keyframe: None,
            last_view: None,
            last_t: 0,
            line: Vec::new(),
            progress: progress.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| format!("cannot start the recorder: {e}"))?;
        Ok(Recorder {
            tx: Some(tx),
            thread: Some(thread),
            progress,
            path,
        })
    }

    /// Records `what` at `t`; never waits. False when the queue was full
    /// (the entry is counted as dropped).
    pub fn record(&self, t: UnixMillis, what: What) -> bool {
        let Some(tx) = &self.tx else { return false };
        let w = weight(&what);
        if self.over(w) {
            self.progress.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        self.progress.queued.fetch_add(w, Ordering::Relaxed);
        match tx.try_send(Entry { t, what }) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.progress.queued.fetch_sub(w, Ordering::Relaxed);
                self.progress.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Records `what` at `t`, waiting for room in the queue: for a writer
    /// of made-up recordings (a benchmark) that must lose nothing.
    pub fn record_waiting(&self, t: UnixMillis, what: What) -> bool {
        let w = weight(&what);
        while self.over(w) {
            std::thread::sleep(Duration::from_millis(1));
        }
        self.progress.queued.fetch_add(w, Ordering::Relaxed);
        self.tx
            .as_ref()
            .is_some_and(|tx| tx.send(Entry { t, what }).is_ok())
    }

    /// Whether everything queued is written (or being written).
    pub fn is_drained(&self) -> bool {
        self.progress.queued.load(Ordering::Relaxed) == 0
    }

    /// Whether `w` more would pass the queue's bound (one entry alone,
    /// however large, always goes).
    fn over(&self, w: u64) -> bool {
        let queued = self.progress.queued.load(Ordering::Relaxed);
        queued > 0 && queued + w > QUEUE_BYTES as u64
    }

    /// Writes out what is queued and closes the file; says what failed.
    pub fn finish(mut self) -> Result<(), String> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), String> {
        drop(self.tx.take());
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err("the recorder stopped unexpectedly".into()),
            None => Ok(()),
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn open_new(path: &Path) -> Result<File, String> {
    File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!(
                "{} already exists; a recording never overwrites one (give another name)",
                path.display()
            ),
            _ => format!("cannot create {}: {e}", path.display()),
        })
}

/// The path of part `n` of a recording: the file itself for the first,
/// `FILE.2`, `FILE.3`, … after it.
pub fn part_path(base: &Path, n: u32) -> PathBuf {
    if n <= 1 {
        return base.to_path_buf();
    }
    let mut name = base.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

struct Writer {
    base: PathBuf,
    file: File,
    header: Header,
    part_bytes: u64,
    /// Bytes in the current part.
    written: u64,
    states: States,
    chunk: Option<GzEncoder<Vec<u8>>>,
    chunk_began: Instant,
    /// The recorded time of the last keyframe.
    last_keyframe: Option<UnixMillis>,
    last_t: UnixMillis,
    /// The presenter's view, written again after each keyframe, so a
    /// seek lands where they were.
    last_view: Option<What>,
    /// The line being written (kept between lines, up to [`LINE_KEPT`]).
    line: Vec<u8>,
    progress: Arc<Progress>,
}

/// The line buffer's size kept for the next line; a keyframe's is let go.
const LINE_KEPT: usize = 1 << 20;

impl Writer {
    fn run(&mut self, rx: Receiver<Entry>) -> Result<(), String> {
        self.begin_part()?;
        loop {
            let wait = CHUNK_TIME.saturating_sub(self.chunk_began.elapsed());
            match rx.recv_timeout(wait) {
                Ok(entry) => {
                    let w = weight(&entry.what);
                    self.take(entry)?;
                    self.progress.queued.fetch_sub(w, Ordering::Relaxed);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return self.end_chunk(),
            }
            if self.chunk_began.elapsed() >= CHUNK_TIME
                || self
                    .chunk
                    .as_ref()
                    .is_some_and(|c| c.get_ref().len() >= CHUNK_BYTES)
            {
                self.end_chunk()?;
            }
        }
    }

    fn take(&mut self, entry: Entry) -> Result<(), String> {
        // The keyframe is the state before this entry, which follows it:
        // a replay from the keyframe applies every message once.
        self.last_t = self.last_t.max(entry.t);
        if self
            .last_keyframe
            .is_none_or(|k| entry.t - k >= KEYFRAME_EVERY)
        {
            self.keyframe()?;
        }
        match &entry.what {
            What::Msg(msg) => self.states.apply(msg),
            What::View(_) => self.last_view = Some(entry.what.clone()),
            _ => {}
        }
        self.line(&entry)?;
        self.progress.entries.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Begins a chunk with the whole state, where a seek may start.
    fn keyframe(&mut self) -> Result<(), String> {
        self.end_chunk()?;
        if self.written >= self.part_bytes {
            self.next_part()?;
        }
        let frame = Entry {
            t: self.last_t,
            what: What::Keyframe(self.states.keyframe()),
        };
        self.line(&frame)?;
        if let Some(view) = self.last_view.clone() {
            let t = self.last_t;
            self.line(&Entry { t, what: view })?;
        }
        self.last_keyframe = Some(self.last_t);
        Ok(())
    }

    fn line(&mut self, entry: &Entry) -> Result<(), String> {
        if self.chunk.is_none() {
            self.chunk_began = Instant::now();
        }
        let chunk = self.chunk.get_or_insert_with(|| {
            GzEncoder::new(Vec::with_capacity(64 << 10), Compression::fast())
        });
        // The line whole, then into the encoder at once: the encoder
        // clears its 32 KB output buffer on every write it is given, and
        // JSON comes a token at a time (that clearing took three quarters
        // of a recorder's time).
        let line = &mut self.line;
        line.clear();
        serde_json::to_writer(&mut *line, entry).map_err(|e| format!("recording: {e}"))?;
        line.push(b'\n');
        let written = chunk.write_all(line).map_err(|e| format!("recording: {e}"));
        if line.capacity() > LINE_KEPT {
            *line = Vec::new();
        }
        written
    }

    /// Writes the chunk under way as one gzip member, and flushes it, so
    /// that a file cut off here still reads to this point.
    fn end_chunk(&mut self) -> Result<(), String> {
        self.chunk_began = Instant::now();
        let Some(chunk) = self.chunk.take() else {
            return Ok(());
        };
        let bytes = chunk.finish().map_err(|e| format!("recording: {e}"))?;
        self.file.write_all(&bytes).map_err(|e| {
            format!(
                "cannot write the recording {}: {e}",
                part_path(&self.base, self.header.part).display()
            )
        })?;
        self.written += bytes.len() as u64;
        self.progress
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// The header, alone in the part's first chunk.
    fn begin_part(&mut self) -> Result<(), String> {
        let header = serde_json::to_string(&self.header).map_err(|e| e.to_string())?;
        let mut chunk = GzEncoder::new(Vec::new(), Compression::fast());
        chunk
            .write_all(header.as_bytes())
            .and_then(|()| chunk.write_all(b"\n"))
            .map_err(|e| format!("recording: {e}"))?;
        self.chunk = Some(chunk);
        self.end_chunk()?;
        self.progress.parts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn next_part(&mut self) -> Result<(), String> {
        self.header.part += 1;
        self.file = open_new(&part_path(&self.base, self.header.part))?;
        self.written = 0;
        self.begin_part()
    }
}
