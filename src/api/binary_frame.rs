//! Log lines and metric samples in binary frames: the lean encoding of
//! the stream's busiest messages. A `logs` or `metrics` subscription asks
//! for it (`"encoding":"binary"`); the gateway then may send its events as
//! binary WebSocket frames in this layout instead of JSON `event` frames,
//! and a client that did not ask never sees one.
//!
//! Strings go as their length and bytes, numbers as their bytes, so neither
//! side scans text for characters to escape or parses field names and
//! numbers: for 200-byte log lines, and for the tens of thousands of
//! samples a second of a large cluster, that was most of the time in JSON.
//!
//! Layout (integers little-endian; `str` is a u32 length and UTF-8 bytes):
//!
//! ```text
//! frame:   "D2BF" · u8 version (1) · str sub · u32 count · event × count
//! event:   u64 seq · u8 op (0 added, 1 updated, 2 removed) · u8 kind · body
//! kind 0, a log entry:
//!          i64 ts · u8 priority · u8 present · str cursor · str node
//!          · str message · then, for each bit of `present` set, in this
//!          order: unit, task, file, identifier, stream, message_base64,
//!          fields (as JSON)
//! kind 1, a sample:
//!          str name · u16 tag count · (str key · str value) × count
//!          · i64 ts · f64 value · str unit
//! ```

use super::{Event, LogEntry, Op, Record, Sample, ServerMsg};

/// What every binary frame begins with.
pub const MAGIC: &[u8; 4] = b"D2BF";
const VERSION: u8 = 1;
const LOG: u8 = 0;
const SAMPLE: u8 = 1;

/// Whether a record has a binary form (log entries and samples do).
pub fn encodes(record: &Record) -> bool {
    matches!(record, Record::Log(_) | Record::Sample(_))
}

/// A frame being written: events go straight into it.
pub struct FrameWriter {
    out: Vec<u8>,
    /// Where the count goes, once it is known.
    count_at: usize,
    count: u32,
}

impl FrameWriter {
    /// A frame for subscription `sub`, with room for about `bytes`.
    pub fn new(sub: &str, bytes: usize) -> FrameWriter {
        let mut out = Vec::with_capacity(bytes);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        put_str(&mut out, sub);
        let count_at = out.len();
        out.extend_from_slice(&0u32.to_le_bytes());
        FrameWriter {
            out,
            count_at,
            count: 0,
        }
    }

    /// Writes an event; false (and nothing written) for a record with no
    /// binary form (see [`encodes`]).
    pub fn push(&mut self, seq: u64, op: Op, record: &Record) -> bool {
        let kind = match record {
            Record::Log(_) => LOG,
            Record::Sample(_) => SAMPLE,
            _ => return false,
        };
        self.out.extend_from_slice(&seq.to_le_bytes());
        self.out.push(match op {
            Op::Added => 0,
            Op::Updated => 1,
            Op::Removed => 2,
        });
        self.out.push(kind);
        match record {
            Record::Log(entry) => self.log(entry),
            Record::Sample(sample) => self.sample(sample),
            _ => unreachable!("only kinds with a binary form get here"),
        }
        self.count += 1;
        true
    }

    fn log(&mut self, entry: &LogEntry) {
        let out = &mut self.out;
        out.extend_from_slice(&entry.ts.to_le_bytes());
        out.push(entry.priority);
        let fields = (!entry.fields.is_empty())
            .then(|| serde_json::to_string(&entry.fields).expect("fields serialize"));
        let optional = [
            entry.unit.as_deref(),
            entry.task.as_deref(),
            entry.file.as_deref(),
            entry.identifier.as_deref(),
            entry.stream.as_deref(),
            entry.message_base64.as_deref(),
            fields.as_deref(),
        ];
        let present = optional
            .iter()
            .enumerate()
            .fold(0u8, |bits, (i, s)| bits | (u8::from(s.is_some()) << i));
        out.push(present);
        for s in [&entry.cursor, &entry.node, &entry.message] {
            put_str(out, s);
        }
        for s in optional.into_iter().flatten() {
            put_str(out, s);
        }
    }

    fn sample(&mut self, sample: &Sample) {
        let out = &mut self.out;
        put_str(out, &sample.name);
        // Past 65,535 tags (no real sample has a hundred) the rest are cut.
        let tags = sample.tags.len().min(u16::MAX as usize);
        out.extend_from_slice(&(tags as u16).to_le_bytes());
        for (key, value) in sample.tags.iter().take(tags) {
            put_str(out, key);
            put_str(out, value);
        }
        out.extend_from_slice(&sample.ts.to_le_bytes());
        out.extend_from_slice(&sample.value.to_le_bytes());
        put_str(out, &sample.unit);
    }

    /// Events written so far.
    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.out[self.count_at..self.count_at + 4].copy_from_slice(&self.count.to_le_bytes());
        self.out
    }
}

/// Reads a binary frame back into the `event` message it stands for.
pub fn decode(bytes: &[u8]) -> Result<ServerMsg, String> {
    let mut r = Reader(bytes);
    if r.take(4)? != MAGIC {
        return Err("not a binary event frame (no D2BF at its start)".into());
    }
    let version = r.u8()?;
    if version != VERSION {
        return Err(format!(
            "binary event frame version {version}; this day2top reads {VERSION}"
        ));
    }
    let sub = r.string()?;
    let count = r.u32()? as usize;
    // Each event takes at least 30 bytes: a count past what the frame can
    // hold is a lie, not a reason to reserve memory.
    let mut events = Vec::with_capacity(count.min(r.0.len() / 30));
    for _ in 0..count {
        events.push(r.event()?);
    }
    if !r.0.is_empty() {
        return Err(format!("{} bytes past the last event", r.0.len()));
    }
    Ok(ServerMsg::Event { sub, events })
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("the frame ends inside an event".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        Ok(self.take(N)?.try_into().expect("took N bytes"))
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    fn string(&mut self) -> Result<String, String> {
        let len = self.u32()? as usize;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|e| format!("a string that is not UTF-8: {e}"))
    }

    fn event(&mut self) -> Result<Event, String> {
        let seq = u64::from_le_bytes(self.array()?);
        let op = match self.u8()? {
            0 => Op::Added,
            1 => Op::Updated,
            2 => Op::Removed,
            n => return Err(format!("unknown op {n}")),
        };
        let data = match self.u8()? {
            LOG => Record::Log(self.log()?),
            SAMPLE => Record::Sample(self.sample()?),
            n => return Err(format!("unknown kind of event {n}")),
        };
        Ok(Event { seq, op, data })
    }

    fn log(&mut self) -> Result<LogEntry, String> {
        let ts = self.i64()?;
        let priority = self.u8()?;
        let present = self.u8()?;
        if present >> 7 != 0 {
            return Err(format!("unknown optional fields (bits {present:#010b})"));
        }
        let (cursor, node, message) = (self.string()?, self.string()?, self.string()?);
        let mut optional: [Option<String>; 7] = Default::default();
        for (i, slot) in optional.iter_mut().enumerate() {
            if present & (1 << i) != 0 {
                *slot = Some(self.string()?);
            }
        }
        let [unit, task, file, identifier, stream, message_base64, fields] = optional;
        let fields = match fields {
            Some(json) => serde_json::from_str(&json).map_err(|e| format!("fields: {e}"))?,
            None => Default::default(),
        };
        Ok(LogEntry {
            cursor,
            ts,
            node,
            unit,
            task,
            file,
            identifier,
            stream,
            priority,
            message,
            message_base64,
            fields,
        })
    }

    fn sample(&mut self) -> Result<Sample, String> {
        let name = self.string()?;
        let count = u16::from_le_bytes(self.array()?);
        let mut pairs = Vec::with_capacity(usize::from(count).min(self.0.len() / 8));
        for _ in 0..count {
            pairs.push((self.string()?, self.string()?));
        }
        let ts = self.i64()?;
        let value = f64::from_le_bytes(self.array()?);
        let unit = self.string()?;
        Ok(Sample {
            name,
            tags: pairs.into_iter().collect(),
            ts,
            value,
            unit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{FieldValue, Labels};

    fn entry(n: u64) -> Record {
        Record::Log(LogEntry {
            cursor: format!("f:1:{n}"),
            ts: 1_700_000_000_000 + n as i64,
            node: "agent-001".into(),
            unit: n.is_multiple_of(2).then(|| "web.service".into()),
            task: n.is_multiple_of(3).then(|| "web-1".into()),
            file: Some("/var/log/web.log".into()),
            identifier: None,
            stream: n.is_multiple_of(5).then(|| "stderr".into()),
            priority: (n % 8) as u8,
            message: format!("line {n} \"quoted\" ünïcode \u{1b}[31m"),
            message_base64: (n == 4).then(|| "/w==".into()),
            fields: if n == 3 {
                [("_PID".to_string(), FieldValue::Text("42".into()))].into()
            } else {
                Default::default()
            },
        })
    }

    fn sample(n: u64) -> Record {
        Record::Sample(Sample {
            name: "task.cpu.percent".into(),
            tags: if n == 0 {
                Labels::new()
            } else {
                Labels::of(&[("node_id", "agent-001"), ("task_id", &format!("web-{n}"))])
            },
            ts: 1_700_000_000_000 + n as i64,
            value: n as f64 * 1.5 - 3.0,
            unit: if n == 2 { "%".into() } else { String::new() },
        })
    }

    fn encoded(records: &[Record]) -> Vec<u8> {
        let mut frame = FrameWriter::new("logs", 0);
        for (i, r) in records.iter().enumerate() {
            assert!(frame.push(i as u64 + 10, Op::Added, r));
        }
        assert_eq!(frame.count(), records.len() as u32);
        frame.finish()
    }

    #[test]
    fn a_frame_reads_back_as_the_event_message_json_would_give() {
        let records: Vec<Record> = (0..12).map(entry).chain((0..4).map(sample)).collect();
        let msg = decode(&encoded(&records)).unwrap();
        let want = ServerMsg::Event {
            sub: "logs".into(),
            events: records
                .into_iter()
                .enumerate()
                .map(|(i, data)| Event {
                    seq: i as u64 + 10,
                    op: Op::Added,
                    data,
                })
                .collect(),
        };
        assert_eq!(msg, want);
    }

    #[test]
    fn only_log_entries_and_samples_have_a_binary_form() {
        let check = Record::Series(crate::api::Series {
            name: "x".into(),
            tags: Labels::new(),
            unit: String::new(),
            points: vec![(1, 1.0)],
        });
        assert!(!encodes(&check));
        let mut frame = FrameWriter::new("n", 0);
        assert!(!frame.push(1, Op::Added, &check));
        assert_eq!(frame.count(), 0);
        assert!(decode(&frame.finish()).is_ok());
    }

    #[test]
    fn a_bad_frame_is_an_error_that_says_why() {
        let good = encoded(&[entry(1), sample(2)]);
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = good.clone();
        extra.push(0);
        assert!(decode(&extra).unwrap_err().contains("past the last event"));
        let mut lying = good.clone();
        // The count (after magic, version and the sub "logs") says 4 billion.
        lying[13..17].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&lying).is_err());
        let mut kind = good.clone();
        // The first event's kind, after its seq and op.
        kind[17 + 9] = 7;
        assert!(decode(&kind).unwrap_err().contains("unknown kind"));
        let mut not_utf8 = encoded(&[entry(1)]);
        let at = not_utf8.len() - 1;
        not_utf8[at] = 0xff;
        assert!(decode(&not_utf8).is_err());
        assert!(
            decode(b"{\"type\":\"event\"}")
                .unwrap_err()
                .contains("D2BF")
        );
    }

    #[test]
    fn the_fuzz_seeds_are_frames_that_read() {
        let seed = |name: &str| {
            std::fs::read(format!(
                "{}/fuzz/seeds/binary_frame/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        let Ok(ServerMsg::Event { events, .. }) = decode(&seed("lines")) else {
            panic!("the seed reads");
        };
        assert_eq!(events.len(), 2);
        let Record::Log(second) = &events[1].data else {
            panic!("a log entry");
        };
        assert_eq!(second.unit.as_deref(), Some("db.service"));
        assert_eq!(second.fields.len(), 1);
        let Ok(ServerMsg::Event { events, .. }) = decode(&seed("samples")) else {
            panic!("the seed reads");
        };
        assert!(matches!(&events[0].data, Record::Sample(s) if s.tags.len() == 2));
        assert!(decode(&seed("empty")).is_ok());
        assert!(decode(&seed("base64")).is_ok());
    }
}
