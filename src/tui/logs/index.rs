//! The log buffer's messages, folded ([`fold_into`]) and laid end to end in
//! chunks of about a MiB, one line per row: what re-filter and search scan.
//!
//! A regex over one contiguous chunk lets its literal prefilter skip
//! whole stretches of lines at memory speed, where a call per line pays the
//! regex's setup every time and chases a pointer to every message.

use std::collections::VecDeque;

use crate::tui::logs::folded::{FoldedRegex, fold_into};

/// A chunk is closed once it holds this much text.
const CHUNK_BYTES: usize = 1 << 20;

struct Chunk {
    /// The absolute number of its first row.
    first: u64,
    /// Folded messages, each followed by `\n`.
    text: String,
    /// Where each row's text ends (its `\n`).
    ends: Vec<u32>,
}

impl Chunk {
    fn rows(&self) -> u64 {
        self.ends.len() as u64
    }

    fn start(&self, i: usize) -> usize {
        if i == 0 {
            0
        } else {
            self.ends[i - 1] as usize + 1
        }
    }

    fn line(&self, i: usize) -> &str {
        &self.text[self.start(i)..self.ends[i] as usize]
    }
}

#[derive(Default)]
pub struct TextIndex {
    chunks: VecDeque<Chunk>,
    /// The absolute number of the oldest row still held.
    base: u64,
    bytes: usize,
}

impl std::fmt::Debug for TextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextIndex")
            .field("chunks", &self.chunks.len())
            .field("base", &self.base)
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl TextIndex {
    pub fn new(base: u64) -> TextIndex {
        TextIndex {
            base,
            ..Default::default()
        }
    }

    /// Memory held: the text and the line ends.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn end(&self) -> u64 {
        self.chunks.back().map_or(self.base, |c| c.first + c.rows())
    }

    /// Adds the next row's text (markers add an empty line).
    pub fn push(&mut self, message: &str) {
        let end = self.end();
        let fits = self.chunks.back().is_some_and(|c| {
            c.text.len() + message.len() < CHUNK_BYTES
                && c.text.len() + message.len() < u32::MAX as usize
        });
        if !fits {
            self.chunks.push_back(Chunk {
                first: end,
                text: String::with_capacity(CHUNK_BYTES.max(message.len() + 1)),
                ends: Vec::new(),
            });
        }
        let chunk = self.chunks.back_mut().expect("a chunk was just made");
        let before = chunk.text.len();
        fold_into(message, &mut chunk.text);
        chunk.ends.push(chunk.text.len() as u32);
        chunk.text.push('\n');
        self.bytes += chunk.text.len() - before + 4;
    }

    /// Forgets the oldest row; a chunk goes once all its rows have.
    pub fn pop_front(&mut self) {
        self.base += 1;
        while let Some(front) = self.chunks.front() {
            if front.first + front.rows() > self.base {
                break;
            }
            self.bytes -= front.text.len() + 4 * front.ends.len();
            self.chunks.pop_front();
        }
    }

    /// Adds older rows' text before the oldest, oldest first, as a chunk
    /// of their own (a page of history read back).
    pub fn prepend<'a>(&mut self, messages: impl ExactSizeIterator<Item = &'a str>) {
        let n = messages.len() as u64;
        if n == 0 {
            return;
        }
        let mut chunk = Chunk {
            first: self.base - n,
            text: String::new(),
            ends: Vec::with_capacity(n as usize),
        };
        for message in messages {
            fold_into(message, &mut chunk.text);
            chunk.ends.push(chunk.text.len() as u32);
            chunk.text.push('\n');
        }
        self.bytes += chunk.text.len() + 4 * chunk.ends.len();
        self.base -= n;
        self.chunks.push_front(chunk);
    }

    /// Forgets the newest row.
    pub fn pop_back(&mut self) {
        let Some(chunk) = self.chunks.back_mut() else {
            return;
        };
        chunk.ends.pop();
        let start = chunk.ends.last().map_or(0, |&e| e as usize + 1);
        self.bytes -= chunk.text.len() - start + 4;
        chunk.text.truncate(start);
        if chunk.ends.is_empty() {
            self.chunks.pop_back();
        }
    }

    /// Renumbers every row `by` higher.
    pub fn shift(&mut self, by: u64) {
        self.base += by;
        for chunk in &mut self.chunks {
            chunk.first += by;
        }
    }

    fn locate(&self, abs: u64) -> Option<(&Chunk, usize)> {
        if abs < self.base {
            return None;
        }
        let i = self.chunks.partition_point(|c| c.first + c.rows() <= abs);
        let chunk = self.chunks.get(i)?;
        Some((chunk, (abs - chunk.first) as usize))
    }

    /// The folded text of row `abs`.
    pub fn line(&self, abs: u64) -> Option<&str> {
        self.locate(abs).map(|(c, i)| c.line(i))
    }

    /// Calls `hit` with every row in `from..to` whose folded text `re`
    /// matches, in order. Each chunk is searched as one text: the search
    /// finds where the earliest match ends, which settles every row before
    /// it (none of them holds a match) and, when the match cannot have
    /// begun on an earlier line, its own row too; a match that may span
    /// lines is checked against its last line alone.
    pub fn matching(&self, re: &regex::Regex, from: u64, to: u64, mut hit: impl FnMut(u64)) {
        let from = from.max(self.base);
        let first_chunk = self.chunks.partition_point(|c| c.first + c.rows() <= from);
        for chunk in self.chunks.iter().skip(first_chunk) {
            if chunk.first >= to {
                break;
            }
            let lo = (from.max(chunk.first) - chunk.first) as usize;
            let hi = (to.min(chunk.first + chunk.rows()) - chunk.first) as usize;
            // The search may not see past the last row asked for.
            let text = &chunk.text[..chunk.ends[hi - 1] as usize];
            let mut row = lo;
            while row < hi {
                let Some(end) = re.shortest_match_at(text, chunk.start(row)) else {
                    break;
                };
                let mut last = row;
                while last + 1 < hi && (chunk.ends[last] as usize) < end {
                    last += 1;
                }
                if last == row || re.is_match(chunk.line(last)) {
                    hit(chunk.first + last as u64);
                }
                row = last + 1;
            }
        }
    }
}

/// Whether row `abs` matches: on the folded text for a folded regex.
pub fn row_matches(index: &TextIndex, re: &FoldedRegex, abs: u64, original: &str) -> bool {
    match re {
        FoldedRegex::Folded(r) => index.line(abs).is_some_and(|l| r.is_match(l)),
        FoldedRegex::Original(r) => r.is_match(original),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(index: &TextIndex, pattern: &str, from: u64, to: u64) -> Vec<u64> {
        let FoldedRegex::Folded(re) = FoldedRegex::new(pattern).unwrap() else {
            panic!("folds")
        };
        let mut out = Vec::new();
        index.matching(&re, from, to, |abs| out.push(abs));
        out
    }

    #[test]
    fn finds_rows_across_chunks_and_forgets_old_ones() {
        let mut index = TextIndex::new(0);
        let long = "y".repeat(CHUNK_BYTES / 3);
        for n in 0..20u64 {
            let text = if n % 5 == 0 {
                format!("Match {n} {long}")
            } else {
                format!("row {n}")
            };
            index.push(&text);
        }
        assert!(index.chunks.len() > 1, "{index:?}");
        assert_eq!(hits(&index, "^match", 0, 20), [0, 5, 10, 15]);
        assert_eq!(hits(&index, "match", 6, 15), [10]);
        assert_eq!(hits(&index, "row 1[0-9]$", 0, 20).len(), 8);
        assert_eq!(index.line(3), Some("row 3"));
        for _ in 0..12 {
            index.pop_front();
        }
        assert_eq!(hits(&index, "^match", 0, 20), [15]);
        assert_eq!(index.line(3), None);
        assert!(index.bytes() < 2 * CHUNK_BYTES);
    }

    #[test]
    fn older_rows_go_before_and_newest_rows_can_go() {
        let mut index = TextIndex::new(10);
        for text in ["Ten", "eleven"] {
            index.push(text);
        }
        index.prepend(["Eight", "nine"].into_iter());
        assert_eq!(index.line(8), Some("eight"));
        assert_eq!(index.line(11), Some("eleven"));
        assert_eq!(hits(&index, "^(eight|ten)$", 0, 20), [8, 10]);
        let before = index.bytes();
        index.pop_back();
        assert_eq!(index.line(11), None);
        assert!(index.bytes() < before);
        index.shift(100);
        assert_eq!(index.line(108), Some("eight"));
        assert_eq!(index.line(8), None);
    }

    #[test]
    fn matches_that_span_lines_count_only_on_their_own_line() {
        let mut index = TextIndex::new(0);
        for text in ["ends with a", "b starts", "a b", "", "x"] {
            index.push(text);
        }
        // `a\s*b` spans "…a\nb…" in the text; only row 2 holds it alone.
        assert_eq!(hits(&index, r"a\s*b", 0, 5), [2]);
        assert_eq!(hits(&index, "^$", 0, 5), [3]);
        assert_eq!(hits(&index, "x*", 0, 5), [0, 1, 2, 3, 4]);
        assert_eq!(hits(&index, "[^q]+b", 0, 5), [2]);
    }
}
