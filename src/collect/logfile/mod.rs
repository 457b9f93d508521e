//! Log files followed like `tail -F`: rotation by rename, truncation
//! (copytruncate), files that appear later, and partial last lines held
//! until they are complete.
//!
//! A cursor is the file's identity and the offset after the line
//! (`f:DEV:INO:OFFSET`). It names no path: a resume is served only from a
//! file this tailer follows or followed lately (rotated away, or deleted),
//! through the descriptor it holds, never by opening anything a client
//! wrote. Clients treat cursors as opaque.

mod history;

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::logline::{self, MAX_LINE};
use crate::api::{LogEntry, now_millis};

/// On start, each file is read from at most this far before its end.
const BACKFILL: u64 = 1 << 20;
/// Bytes read from one file in one pass, so one busy file cannot starve the rest.
const READ_PER_PASS: u64 = 8 << 20;
/// Files rotated away or deleted whose descriptors are kept, newest last,
/// so a client that was reading one can still resume from it.
const RETIRED_FILES: usize = 16;

/// A file a cursor may lead back to: its descriptor, and its names.
#[derive(Clone)]
struct Known {
    file: Arc<File>,
    path: String,
    name: Option<String>,
}

/// The files the tailer follows, and the last few it followed, by
/// identity: the only files a cursor is ever resolved against.
#[derive(Clone, Default)]
pub struct FileRegistry(Arc<Mutex<Registry>>);

#[derive(Default)]
struct Registry {
    live: HashMap<(u64, u64), Known>,
    retired: VecDeque<((u64, u64), Known)>,
}

impl FileRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn follow(&self, f: &Followed) {
        let known = Known {
            file: f.file.clone(),
            path: f.path.clone(),
            name: f.name.clone(),
        };
        let mut r = self.lock();
        r.retired.retain(|(key, _)| *key != (f.dev, f.ino));
        r.live.insert((f.dev, f.ino), known);
    }

    /// The file is no longer followed: keep its descriptor among the last
    /// few, closing the oldest.
    fn retire(&self, dev: u64, ino: u64) {
        let mut r = self.lock();
        if let Some(known) = r.live.remove(&(dev, ino)) {
            r.retired.push_back(((dev, ino), known));
            while r.retired.len() > RETIRED_FILES {
                r.retired.pop_front();
            }
        }
    }

    fn find(&self, dev: u64, ino: u64) -> Option<Known> {
        let r = self.lock();
        r.live.get(&(dev, ino)).cloned().or_else(|| {
            r.retired
                .iter()
                .find(|(key, _)| *key == (dev, ino))
                .map(|(_, k)| k.clone())
        })
    }

    /// Reads the lines after a file cursor. `None`: not a file cursor;
    /// `Some(Err)`: a file cursor that names no file followed here.
    pub fn entries_after(
        &self,
        cursor: &str,
        node: &str,
        limit: usize,
    ) -> Option<Result<Vec<LogEntry>, String>> {
        let rest = cursor.strip_prefix("f:")?;
        let Some((dev, ino, offset)) = parse_cursor(rest) else {
            return Some(Err("not a well-formed file cursor".into()));
        };
        let Some(known) = self.find(dev, ino) else {
            return Some(Err(
                "the cursor names no file this gateway follows or followed lately".into(),
            ));
        };
        let mut f = Followed {
            file: known.file,
            dev,
            ino,
            path: known.path,
            name: known.name,
            offset,
            partial: Vec::new(),
        };
        let tailer = FileTailer::new(Vec::new(), node.to_string(), FileRegistry::default());
        let mut out = Vec::new();
        tailer.read_new(&mut f, &mut out);
        out.truncate(limit);
        Some(Ok(out))
    }
}

/// `DEV:INO:OFFSET` (a file cursor without its `f:`), three numbers and
/// nothing else.
pub fn parse_cursor(rest: &str) -> Option<(u64, u64, u64)> {
    let mut parts = rest.split(':');
    // Only the spelling the tailer writes: digits, no sign, no leading zero.
    let mut number = || {
        let part = parts.next()?;
        let canonical = !part.is_empty()
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'));
        canonical.then(|| part.parse::<u64>().ok())?
    };
    let parsed = (number()?, number()?, number()?);
    parts.next().is_none().then_some(parsed)
}

struct Followed {
    file: Arc<File>,
    dev: u64,
    ino: u64,
    /// The path as text and its file name, made once, not per line.
    path: String,
    name: Option<String>,
    /// Where the next read starts.
    offset: u64,
    /// An incomplete last line, waiting for its newline.
    partial: Vec<u8>,
}

pub struct FileTailer {
    globs: Vec<String>,
    node: String,
    files: HashMap<PathBuf, Followed>,
    started: bool,
    registry: FileRegistry,
}

fn cursor(dev: u64, ino: u64, offset: u64) -> String {
    format!("f:{dev}:{ino}:{offset}")
}

impl FileTailer {
    /// Follows the files `globs` match, telling `registry` which they are.
    pub fn new(globs: Vec<String>, node: String, registry: FileRegistry) -> FileTailer {
        FileTailer {
            globs,
            node,
            files: HashMap::new(),
            started: false,
            registry,
        }
    }

    fn entry(&self, f: &Followed, end: u64, raw: &[u8]) -> LogEntry {
        let mut e = logline::entry(cursor(f.dev, f.ino, end), now_millis(), &self.node, raw);
        e.file = Some(f.path.clone());
        e.identifier = f.name.clone();
        e
    }

    /// Emits the complete lines in `data` (read at `at`) and keeps the rest.
    fn lines(&self, f: &mut Followed, at: u64, data: &[u8], out: &mut Vec<LogEntry>) {
        let mut start = 0;
        while let Some(nl) = data[start..].iter().position(|&b| b == b'\n') {
            let end = start + nl;
            let mut line = std::mem::take(&mut f.partial);
            line.extend_from_slice(&data[start..end]);
            out.push(self.entry(f, at + end as u64 + 1, &line));
            start = end + 1;
        }
        f.partial.extend_from_slice(&data[start..]);
        if f.partial.len() > MAX_LINE {
            // A line with no end in sight: let what there is out, cut.
            let line = std::mem::take(&mut f.partial);
            out.push(self.entry(f, at + data.len() as u64, &line));
        }
    }

    /// Reads what was appended since the last pass; true when it stopped
    /// at its budget with more perhaps waiting.
    fn read_new(&self, f: &mut Followed, out: &mut Vec<LogEntry>) -> bool {
        let mut buf = vec![0u8; 64 * 1024];
        let mut budget = READ_PER_PASS;
        while budget > 0 {
            let n = match f.file.read_at(&mut buf, f.offset) {
                Ok(0) | Err(_) => return false,
                Ok(n) => n,
            };
            let at = f.offset;
            f.offset += n as u64;
            budget = budget.saturating_sub(n as u64);
            self.lines(f, at, &buf[..n], out);
        }
        true
    }

    fn open(path: &Path, from_end: bool) -> Option<Followed> {
        // Non-blocking, so a FIFO put where a log file was cannot park the
        // tailer in open(); it is then refused for not being a file.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(path)
            .ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() {
            return None;
        }
        let mut offset = 0;
        if from_end && meta.len() > BACKFILL {
            // Start at the first whole line of the last BACKFILL bytes.
            let mut buf = vec![0u8; 64 * 1024];
            offset = meta.len() - BACKFILL;
            if let Ok(n) = file.read_at(&mut buf, offset) {
                offset += buf[..n]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(n, |p| p + 1) as u64;
            }
        }
        Some(Followed {
            file: Arc::new(file),
            dev: meta.dev(),
            ino: meta.ino(),
            path: path.display().to_string(),
            name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
            offset,
            partial: Vec::new(),
        })
    }

    /// One pass over every file: new files, rotations, truncations and
    /// appended lines. Files present at the first pass are read from near
    /// their end; files that appear later, from their start. True when a
    /// busy file has more to read right away.
    pub fn poll(&mut self, out: &mut Vec<LogEntry>) -> bool {
        let mut more = false;
        let mut present: Vec<PathBuf> = Vec::new();
        for pattern in &self.globs {
            if let Ok(paths) = glob::glob(pattern) {
                present.extend(paths.flatten().filter(|p| p.is_file()));
            }
        }
        present.sort();
        present.dedup();
        let first = !self.started;
        self.started = true;

        let mut files = std::mem::take(&mut self.files);
        for path in &present {
            let Ok(meta) = std::fs::metadata(path) else {
                continue;
            };
            match files.remove(path) {
                Some(mut f) if (f.dev, f.ino) == (meta.dev(), meta.ino()) => {
                    if meta.len() < f.offset {
                        // Truncated in place (copytruncate): start over.
                        let mut note = self.entry(
                            &f,
                            0,
                            b"[day2top: file truncated; reading it from the start]",
                        );
                        note.priority = 5;
                        out.push(note);
                        f.offset = 0;
                        f.partial.clear();
                    }
                    more |= self.read_new(&mut f, out);
                    self.files.insert(path.clone(), f);
                }
                old => {
                    // Rotated or recreated: finish the old file, then the new.
                    if let Some(mut f) = old {
                        self.finish(&mut f, out);
                    }
                    if let Some(mut f) = FileTailer::open(path, first) {
                        self.registry.follow(&f);
                        more |= self.read_new(&mut f, out);
                        self.files.insert(path.clone(), f);
                    }
                }
            }
        }
        // Gone without a successor (deleted): finish what was written.
        for mut f in files.into_values() {
            self.finish(&mut f, out);
        }
        more
    }

    /// Reads what was appended to `paths`, files already followed (a watch
    /// named them), without looking at the others: a file written line by
    /// line then costs a read a batch, not a pass over every file. `None`
    /// when a full pass is needed (a path not followed, a truncation);
    /// otherwise whether a busy file has more to read right away.
    pub fn read_changed(&mut self, paths: &[PathBuf], out: &mut Vec<LogEntry>) -> Option<bool> {
        let mut more = false;
        for path in paths {
            let mut f = self.files.remove(path)?;
            let truncated = f.file.metadata().map_or(true, |m| m.len() < f.offset);
            if !truncated {
                more |= self.read_new(&mut f, out);
            }
            self.files.insert(path.clone(), f);
            if truncated {
                return None;
            }
        }
        Some(more)
    }

    /// Reads an old file to its end, and lets out a last line with no
    /// newline; its descriptor is kept a while for resumes.
    fn finish(&self, f: &mut Followed, out: &mut Vec<LogEntry>) {
        self.registry.retire(f.dev, f.ino);
        // Bounded: a writer still appending to a renamed file cannot keep
        // this pass here for ever.
        for _ in 0..16 {
            if !self.read_new(f, out) {
                break;
            }
        }
        if !f.partial.is_empty() {
            let line = std::mem::take(&mut f.partial);
            out.push(self.entry(f, f.offset, &line));
        }
    }
}

#[cfg(test)]
mod tests;
