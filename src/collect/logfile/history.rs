//! Reading a followed file back: the lines before a file cursor, through
//! the file and then the files rotated away before it that the registry
//! still holds open. A file line has no time of its own, so a line read
//! back carries the RFC 3339 time it begins with, if any, else the file's
//! last-modified time (a bound: it was written no later).

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::{FileRegistry, Known, cursor, parse_cursor};
use crate::api::{LogEntry, UnixMillis};
use crate::collect::history::{HistoryAsk, SourcePage};
use crate::collect::logline::{self, MAX_LINE};

/// Bytes read at a time, going backwards.
const CHUNK: u64 = 64 * 1024;

impl FileRegistry {
    /// A history read from one of this registry's file cursors. `None`:
    /// not a file cursor. Reading older pages back through rotations;
    /// reading newer reads on from the cursor. A read with no cursor finds
    /// nothing: a file cannot be searched by time.
    pub fn history(&self, node: &str, ask: &HistoryAsk) -> Option<Result<SourcePage, String>> {
        let Some(anchor) = ask.anchor else {
            return Some(Ok(SourcePage::default()));
        };
        let rest = anchor.strip_prefix("f:")?;
        let Some((dev, ino, offset)) = parse_cursor(rest) else {
            return Some(Err("not a well-formed file cursor".into()));
        };
        let Some(known) = self.find(dev, ino) else {
            return Some(Err(
                "the cursor names no file this gateway follows or followed lately".into(),
            ));
        };
        if !ask.older {
            let read = self.entries_after(anchor, node, usize::MAX)?;
            return Some(read.map(|entries| newer_page(entries, ask)));
        }
        Some(Ok(self.older(known, dev, ino, offset, node, ask)))
    }

    fn older(
        &self,
        mut known: Known,
        mut dev: u64,
        mut ino: u64,
        mut end: u64,
        node: &str,
        ask: &HistoryAsk,
    ) -> SourcePage {
        let mut page = SourcePage::default();
        let mut skip_anchor = true;
        loop {
            let modified = known
                .file
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_millis() as UnixMillis);
            let mut done = false;
            lines_before(&known.file, end, |raw, line_end| {
                if std::mem::take(&mut skip_anchor) && line_end == end {
                    return true; // the anchor's own line
                }
                let ts = leading_time(raw).unwrap_or(modified);
                let mut e = logline::entry(cursor(dev, ino, line_end), ts, node, raw);
                e.file = Some(known.path.clone());
                e.identifier = known.name.clone();
                done = !page.offer(ask, e);
                !done
            });
            if done {
                page.entries.reverse();
                return page;
            }
            // The file's start: on into the one rotated away before it.
            match self.before(dev, ino, &known.path) {
                Some((key, older)) => {
                    (dev, ino) = key;
                    end = older.file.metadata().map_or(0, |m| m.len());
                    known = older;
                    skip_anchor = false;
                }
                None => {
                    page.entries.reverse();
                    return page;
                }
            }
        }
    }

    /// The file that had `path` before this one, if it is still held.
    fn before(&self, dev: u64, ino: u64, path: &str) -> Option<((u64, u64), Known)> {
        let r = self.lock();
        // Retired files are oldest first: this file's predecessor is the
        // newest one with its path that retired before it did.
        let upto = r
            .retired
            .iter()
            .position(|(key, _)| *key == (dev, ino))
            .unwrap_or(r.retired.len());
        r.retired
            .iter()
            .take(upto)
            .rev()
            .find(|(_, k)| k.path == path)
            .map(|(key, k)| (*key, k.clone()))
    }
}

/// A read on from a cursor, cut to the ask's range, filter and limit.
fn newer_page(entries: Vec<LogEntry>, ask: &HistoryAsk) -> SourcePage {
    let mut page = SourcePage::default();
    for e in entries {
        if !page.offer(ask, e) {
            break;
        }
    }
    page
}

/// Calls `each` with the lines of `file` that end before `end`, newest
/// first, with the offset after each line's newline, until it says stop.
/// A line longer than [`MAX_LINE`] is cut there, as the tailer cuts it.
fn lines_before(file: &File, end: u64, mut each: impl FnMut(&[u8], u64) -> bool) {
    // The line being put together, right to left: its bytes seen so far,
    // and the offset after its newline (its cursor's).
    let mut carry: Vec<u8> = Vec::new();
    let mut line_end = end;
    // The bytes after the last newline are a line only if there are any.
    let mut first = true;
    let mut buf = vec![0u8; CHUNK as usize];
    let mut pos = end;
    while pos > 0 {
        let from = pos.saturating_sub(CHUNK);
        let chunk = &mut buf[..(pos - from) as usize];
        if file.read_exact_at(chunk, from).is_err() {
            return;
        }
        let mut right = chunk.len();
        for nl in (0..chunk.len()).rev().filter(|&i| chunk[i] == b'\n') {
            let mut line = chunk[nl + 1..right].to_vec();
            line.append(&mut carry);
            if !(first && line.is_empty()) {
                line.truncate(MAX_LINE);
                if !each(&line, line_end) {
                    return;
                }
            }
            first = false;
            line_end = from + nl as u64 + 1;
            right = nl;
        }
        let mut head = chunk[..right].to_vec();
        head.append(&mut carry);
        head.truncate(MAX_LINE);
        carry = head;
        pos = from;
    }
    if !(first && carry.is_empty()) {
        each(&carry, line_end);
    }
}

/// The RFC 3339 time a line begins with (`2026-12-02T14:02:00.123Z …`,
/// optionally in brackets), in milliseconds.
fn leading_time(raw: &[u8]) -> Option<UnixMillis> {
    let head = &raw[..raw.len().min(40)];
    let head = std::str::from_utf8(head)
        .ok()
        .or_else(|| std::str::from_utf8(&head[..head.len().saturating_sub(3)]).ok())?;
    let word = head
        .trim_start_matches('[')
        .split([' ', ']', '\t'])
        .next()?;
    if word.len() < 20 || !word.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let at: jiff::Timestamp = word.parse().ok()?;
    Some(at.as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &[u8], end: u64) -> Vec<(String, u64)> {
        let path = std::env::temp_dir().join(format!(
            "day2top-lines-before-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::write(&path, text).unwrap();
        let file = File::open(&path).unwrap();
        let mut out = Vec::new();
        lines_before(&file, end, |line, at| {
            out.push((String::from_utf8_lossy(line).into_owned(), at));
            true
        });
        std::fs::remove_file(path).unwrap();
        out
    }

    #[test]
    fn lines_before_an_offset_newest_first_with_their_cursor_offsets() {
        let text = b"one\ntwo\n\nfour\n";
        assert_eq!(
            lines_of(text, text.len() as u64),
            [
                ("four".to_string(), 14),
                (String::new(), 9),
                ("two".into(), 8),
                ("one".into(), 4)
            ]
        );
        assert_eq!(
            lines_of(text, 8),
            [("two".to_string(), 8), ("one".into(), 4)]
        );
        assert!(lines_of(text, 0).is_empty());
    }

    #[test]
    fn lines_across_chunks_are_whole() {
        let mut text = Vec::new();
        let mut want = Vec::new();
        for i in 0..5000 {
            let line = format!("line {i} {}", "x".repeat(i % 97));
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
            want.push((line, text.len() as u64));
        }
        want.reverse();
        assert_eq!(lines_of(&text, text.len() as u64), want);
    }

    #[test]
    fn a_leading_rfc3339_time_is_the_lines_time() {
        assert_eq!(
            leading_time(b"2023-11-14T22:13:20.5Z GET /"),
            Some(1_700_000_000_500)
        );
        assert_eq!(
            leading_time(b"[2023-11-14T23:13:20+01:00] x"),
            Some(1_700_000_000_000)
        );
        assert_eq!(leading_time(b"GET / 200"), None);
        assert_eq!(leading_time(b"2023-11-14 nope"), None);
    }
}
