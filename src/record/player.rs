//! Plays a recording back in recorded time: paced at a speed, paused,
//! stepped, and sought. A seek starts from the keyframe before the time
//! asked for and applies what follows up to it at once, so it reads one
//! chunk of keyframe and at most [`KEYFRAME_EVERY`] of entries, whatever
//! the recording's length. Only the current chunk's entries are held.
//!
//! [`KEYFRAME_EVERY`]: crate::record::writer::KEYFRAME_EVERY

use std::collections::VecDeque;
use std::time::Instant;

use crate::api::UnixMillis;
use crate::record::format::Entry;
use crate::record::reader::Recording;

/// The speeds `+` and `-` step through.
pub const SPEEDS: [f64; 7] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0];

pub struct Player {
    pub recording: Recording,
    /// The next chunk to read.
    next_chunk: usize,
    pending: VecDeque<Entry>,
    /// The recorded time on screen.
    pub position: UnixMillis,
    pub playing: bool,
    pub speed: f64,
    /// When play (re)started, and the recorded time it started from.
    anchor: (Instant, UnixMillis),
    /// Why reading stopped early, once it did.
    pub trouble: Option<String>,
    /// Leave the lines of this subscription's events unread (no log view
    /// is open to show them: most of a recording, and most of a seek's
    /// work, are log lines).
    pub skip_events_of: Option<String>,
    /// Put the view where the presenter was, as the recording goes
    /// (`--follow-presenter`, `p`).
    pub follow_presenter: bool,
}

impl Player {
    pub fn new(recording: Recording, speed: f64) -> Player {
        let start = recording.span().map_or(0, |(first, _)| first);
        Player {
            recording,
            next_chunk: 0,
            pending: VecDeque::new(),
            position: start,
            playing: true,
            speed,
            anchor: (Instant::now(), start),
            trouble: None,
            follow_presenter: false,
            skip_events_of: None,
        }
    }

    pub fn span(&self) -> (UnixMillis, UnixMillis) {
        self.recording.span().unwrap_or((0, 0))
    }

    /// The recorded time now, as play has moved it.
    pub fn clock(&self) -> UnixMillis {
        if !self.playing {
            return self.position;
        }
        let (since, from) = self.anchor;
        let moved = (since.elapsed().as_secs_f64() * 1000.0 * self.speed) as i64;
        (from + moved).min(self.span().1)
    }

    /// The entries due by now, at most `most` (the rest next turn, so keys
    /// are not kept waiting by a burst).
    pub fn due(&mut self, most: usize) -> Vec<Entry> {
        let now = self.clock();
        let out = self.until(now, most);
        self.position = now;
        if self.playing && self.peek().is_none() && now >= self.span().1 {
            self.playing = false; // the end: stop there
        }
        out
    }

    /// The entries up to recorded time `t`, at most `most`, whatever the
    /// clock says (an export renders a recording faster than it plays).
    pub fn until(&mut self, t: UnixMillis, most: usize) -> Vec<Entry> {
        let mut out = Vec::new();
        while out.len() < most {
            let Some(next) = self.peek() else { break };
            if next.t > t {
                break;
            }
            out.extend(self.pending.pop_front());
        }
        out
    }

    /// How long until the next entry is due (`None`: paused or done).
    pub fn wait(&mut self) -> Option<std::time::Duration> {
        if !self.playing {
            return None;
        }
        let t = self.peek()?.t;
        let ahead = (t - self.clock()).max(0) as f64 / self.speed;
        Some(std::time::Duration::from_millis(ahead as u64))
    }

    fn peek(&mut self) -> Option<&Entry> {
        while self.pending.is_empty() {
            if self.next_chunk >= self.recording.chunks.len() {
                return None;
            }
            // An event message's line begins `{"t":…,"msg":{"type":"event","sub":"…"`.
            let skipped = self
                .skip_events_of
                .as_ref()
                .map(|sub| format!(r#""msg":{{"type":"event","sub":{}"#, serde_json::json!(sub)));
            let skip = |line: &str| {
                skipped
                    .as_deref()
                    .is_some_and(|head| line.get(..80).unwrap_or(line).contains(head))
            };
            match self.recording.chunk_entries_but(self.next_chunk, skip) {
                Ok(entries) => self.pending = entries.into(),
                Err(why) => {
                    self.trouble = Some(why);
                    self.next_chunk = self.recording.chunks.len();
                    return None;
                }
            }
            self.next_chunk += 1;
        }
        self.pending.front()
    }

    /// Plays or pauses; true when play starts over from the beginning
    /// (it had played to the end): the console must start over too.
    pub fn toggle(&mut self) -> bool {
        self.position = self.clock();
        self.playing = !self.playing;
        self.anchor = (Instant::now(), self.position);
        self.playing && self.position >= self.span().1 && self.peek().is_none()
    }

    /// One speed faster (`up`) or slower; says the new one.
    pub fn change_speed(&mut self, up: bool) -> f64 {
        self.position = self.clock();
        self.anchor = (Instant::now(), self.position);
        let at = SPEEDS
            .iter()
            .position(|s| *s >= self.speed)
            .unwrap_or(SPEEDS.len() - 1);
        let next = if up {
            (at + 1).min(SPEEDS.len() - 1)
        } else {
            at.saturating_sub(1)
        };
        self.speed = SPEEDS[next];
        self.speed
    }

    /// Paused, the next entry: its time becomes the position.
    pub fn step(&mut self) -> Vec<Entry> {
        self.playing = false;
        let Some(t) = self.peek().map(|e| e.t) else {
            return Vec::new();
        };
        self.position = t;
        let mut out = Vec::new();
        while self.peek().is_some_and(|e| e.t == t) {
            out.extend(self.pending.pop_front());
        }
        out
    }

    /// Goes to `t` (within the recording): the state there, as entries to
    /// apply to an emptied console.
    pub fn seek(&mut self, t: UnixMillis) -> Vec<Entry> {
        let (first, last) = self.span();
        let t = t.clamp(first, last);
        let from = self.recording.seek_chunk(t);
        self.next_chunk = from;
        self.pending.clear();
        let mut out = Vec::new();
        while let Some(next) = self.peek() {
            if next.t > t {
                break;
            }
            out.extend(self.pending.pop_front());
        }
        self.position = t;
        self.anchor = (Instant::now(), t);
        out
    }

    /// The marker after (`forward`) or before the position.
    pub fn mark_near(&self, forward: bool) -> Option<(UnixMillis, String)> {
        let at = self.position;
        let mut marks = self.recording.marks();
        if forward {
            marks.find(|(t, _)| *t > at).cloned()
        } else {
            marks.filter(|(t, _)| *t < at - 500).last().cloned()
        }
    }
}
