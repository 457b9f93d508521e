//! Reads a recording: its header, an index of its chunks (where each
//! begins in the file, its first and last times, whether it starts with a
//! keyframe), and the entries from any chunk on. Only the index is held,
//! a few dozen bytes a chunk, however long the recording.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use flate2::bufread::GzDecoder;

use super::format::{Entry, Header, MAGIC, VERSION};
use super::writer::part_path;
use crate::api::UnixMillis;

/// A chunk of the recording, as found on the index pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// Which part file, from 1.
    pub part: u32,
    /// Where its gzip member begins in that file.
    pub offset: u64,
    pub first: UnixMillis,
    pub last: UnixMillis,
    /// It begins with a keyframe: a seek can start here.
    pub keyframe: bool,
    pub entries: u32,
    /// Markers in it, with their times.
    pub marks: Vec<(UnixMillis, String)>,
}

pub struct Recording {
    pub base: PathBuf,
    pub header: Header,
    pub chunks: Vec<Chunk>,
    /// Why the recording ends before its last bytes, if it does (a file
    /// cut off while it was written): it is read up to there.
    pub cut_short: Option<String>,
}

impl Recording {
    /// Opens a recording and indexes it (every part: `FILE`, `FILE.2`, …).
    pub fn open(path: &Path) -> Result<Recording, String> {
        let base = std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut reader = open_part(&base, 1)?;
        let header = read_header(&mut reader, &base)?;
        let mut recording = Recording {
            base: base.clone(),
            header,
            chunks: Vec::new(),
            cut_short: None,
        };
        let mut part = 1;
        loop {
            if let Err(why) = recording.index_part(part, &mut reader) {
                recording.cut_short = Some(why);
                break;
            }
            part += 1;
            if !part_path(&base, part).exists() {
                break;
            }
            reader = open_part(&base, part)?;
            read_header(&mut reader, &base)?;
        }
        Ok(recording)
    }

    /// The times of the first and last entry.
    pub fn span(&self) -> Option<(UnixMillis, UnixMillis)> {
        Some((self.chunks.first()?.first, self.chunks.last()?.last))
    }

    /// Every marker, in order.
    pub fn marks(&self) -> impl Iterator<Item = &(UnixMillis, String)> {
        self.chunks.iter().flat_map(|c| c.marks.iter())
    }

    /// The chunk a replay starts from to reach `t`: the last one that
    /// begins with a keyframe at or before `t` (else the first).
    pub fn seek_chunk(&self, t: UnixMillis) -> usize {
        self.chunks
            .iter()
            .rposition(|c| c.keyframe && c.first <= t)
            .unwrap_or(0)
    }

    /// The entries from chunk `from` on, in order; reading stops at the
    /// first chunk that cannot be read (the index pass said so already).
    pub fn entries(&self, from: usize) -> Entries<'_> {
        Entries {
            recording: self,
            next: from,
            pending: Vec::new().into_iter(),
        }
    }

    /// Reads one chunk's entries.
    pub fn chunk_entries(&self, i: usize) -> Result<Vec<Entry>, String> {
        self.chunk_entries_but(i, |_| false)
    }

    /// Reads one chunk's entries but those whose line `skip` says to leave
    /// unread (a replay with no log view open leaves the log lines).
    pub fn chunk_entries_but(
        &self,
        i: usize,
        skip: impl Fn(&str) -> bool,
    ) -> Result<Vec<Entry>, String> {
        let chunk = &self.chunks[i];
        let mut reader = open_part(&self.base, chunk.part)?;
        reader
            .seek(SeekFrom::Start(chunk.offset))
            .map_err(|e| e.to_string())?;
        let text = member(&mut reader)?.ok_or("the chunk is gone")?;
        text.lines()
            .filter(|l| !l.is_empty() && !skip(l))
            .map(|l| serde_json::from_str(l).map_err(|e| format!("a damaged entry: {e}")))
            .collect()
    }

    /// Indexes the chunks of one part, after its header.
    fn index_part(&mut self, part: u32, reader: &mut BufReader<File>) -> Result<(), String> {
        loop {
            let offset = reader.stream_position().map_err(|e| e.to_string())?;
            let Some(text) = member(reader).map_err(|why| {
                format!(
                    "{} is cut short at byte {offset} ({why}); it is read up to there",
                    part_path(&self.base, part).display()
                )
            })?
            else {
                return Ok(());
            };
            let mut chunk = Chunk {
                part,
                offset,
                first: UnixMillis::MAX,
                last: UnixMillis::MIN,
                keyframe: false,
                entries: 0,
                marks: Vec::new(),
            };
            for (n, line) in text.lines().filter(|l| !l.is_empty()).enumerate() {
                // Only what the index needs is read of an entry: its time,
                // its kind; a message is skipped over, never built.
                let entry: Peek = serde_json::from_str(line)
                    .map_err(|e| format!("a damaged entry at byte {offset}: {e}"))?;
                chunk.first = chunk.first.min(entry.t);
                chunk.last = chunk.last.max(entry.t);
                chunk.entries += 1;
                chunk.keyframe |= n == 0 && entry.keyframe.is_some();
                if let Some(label) = entry.mark {
                    chunk.marks.push((entry.t, label));
                }
            }
            if chunk.entries > 0 {
                self.chunks.push(chunk);
            }
        }
    }
}

/// An entry as the index pass reads it.
#[derive(serde::Deserialize)]
struct Peek {
    t: UnixMillis,
    #[serde(default)]
    keyframe: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    mark: Option<String>,
}

pub struct Entries<'a> {
    recording: &'a Recording,
    next: usize,
    pending: std::vec::IntoIter<Entry>,
}

impl Iterator for Entries<'_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            if let Some(entry) = self.pending.next() {
                return Some(entry);
            }
            if self.next >= self.recording.chunks.len() {
                return None;
            }
            let read = self.recording.chunk_entries(self.next).ok()?;
            self.next += 1;
            self.pending = read.into_iter();
        }
    }
}

fn open_part(base: &Path, part: u32) -> Result<BufReader<File>, String> {
    let path = part_path(base, part);
    File::open(&path)
        .map(BufReader::new)
        .map_err(|e| format!("cannot open the recording {}: {e}", path.display()))
}

/// The next gzip member's text; `None` at the end of the file.
fn member(reader: &mut BufReader<File>) -> Result<Option<String>, String> {
    if reader.fill_buf().map_err(|e| e.to_string())?.is_empty() {
        return Ok(None);
    }
    let mut text = String::new();
    GzDecoder::new(&mut *reader)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    Ok(Some(text))
}

fn read_header(reader: &mut BufReader<File>, base: &Path) -> Result<Header, String> {
    let not_one = || format!("{} is not a day2top recording", base.display());
    let text = member(reader).map_err(|_| not_one())?.ok_or_else(not_one)?;
    let value: serde_json::Value = serde_json::from_str(text.trim()).map_err(|_| not_one())?;
    if value.get("format").and_then(|f| f.as_str()) != Some(MAGIC) {
        return Err(not_one());
    }
    let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version > VERSION as u64 {
        return Err(format!(
            "{} was written by a newer day2top (recording format {version}; this one reads up to {VERSION}): update day2top to replay it",
            base.display()
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("{}: a damaged header: {e}", base.display()))
}
