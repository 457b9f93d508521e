//! The systemd journal, read through the real `journalctl -o json`: a
//! follow for live entries, and `--after-cursor` reads for resumes. Fields
//! map faithfully: MESSAGE as text or, when journald sends bytes, as bytes;
//! repeated fields as arrays; entries linked to their task by `_PID`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use base64::Engine;
use serde_json::Value;

use super::history::{HistoryAsk, Reached, SourcePage};
use super::logline;
use crate::api::{FieldValue, LogEntry};

/// Which journal to read.
#[derive(Debug, Clone, Default)]
pub struct JournalConfig {
    /// A journal directory (`journalctl --directory`).
    pub dir: Option<PathBuf>,
    /// Journal files (`journalctl --file`, globs allowed).
    pub files: Vec<String>,
    /// Entries read at start (and after journalctl restarts with nothing
    /// seen yet); `None` for the default of 1,000.
    pub backfill: Option<usize>,
}

impl JournalConfig {
    fn args(&self) -> Vec<String> {
        // `--merge`: a directory of several hosts' journals (as
        // systemd-journal-remote writes them) is one stream in time order.
        // Without it, `journalctl --follow` (systemd 252) shows one file's
        // entries only; reads that end interleave either way.
        let mut args = vec![
            "-o".to_string(),
            "json".into(),
            "--no-pager".into(),
            "--merge".into(),
        ];
        if let Some(dir) = &self.dir {
            args.push(format!("--directory={}", dir.display()));
        }
        for file in &self.files {
            args.push(format!("--file={file}"));
        }
        args
    }

    /// Why there is nothing to read, if there is not: no journalctl, or no
    /// journal on this host.
    pub fn unavailable(&self) -> Option<String> {
        if Command::new("journalctl")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            return Some("journalctl is not installed".into());
        }
        if self.dir.is_some() || !self.files.is_empty() {
            return None;
        }
        let has_files = |dir: &str| {
            std::fs::read_dir(dir).is_ok_and(|d| {
                d.flatten().any(|e| {
                    e.path().extension().is_some_and(|x| x == "journal")
                        || std::fs::read_dir(e.path()).is_ok_and(|mut sub| sub.next().is_some())
                })
            })
        };
        if has_files("/var/log/journal") || has_files("/run/log/journal") {
            None
        } else {
            Some("no journal on this host".into())
        }
    }

    /// `journalctl`, from right after a journald cursor (`j:…`), or else
    /// with the last `backfill` entries; following the journal, or reading
    /// what there is now and ending.
    pub fn read(
        &self,
        after: Option<&str>,
        backfill: usize,
        follow: bool,
    ) -> std::io::Result<Child> {
        use std::os::unix::process::CommandExt;
        let start = match after {
            Some(cursor) => format!("--after-cursor={}", cursor.trim_start_matches("j:")),
            None => format!("--lines={backfill}"),
        };
        let mut command = Command::new("journalctl");
        command
            .args(self.args())
            .args(follow.then_some("--follow"))
            .arg(start)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A follow never ends by itself: make it end with the gateway,
        // however the gateway ends.
        // SAFETY: only an async-signal-safe prctl between fork and exec.
        unsafe {
            command.pre_exec(|| {
                rustix::process::set_parent_process_death_signal(Some(
                    rustix::process::Signal::TERM,
                ))
                .map_err(std::io::Error::from)
            });
        }
        command.spawn()
    }

    /// A read back into the journal: before or after a journal cursor, or
    /// from a time, within the ask's range (journalctl's own `--since`,
    /// `--until` and `--reverse`), within its deadline.
    pub fn history(&self, node: &str, ask: &HistoryAsk) -> Result<SourcePage, String> {
        let mut command = Command::new("journalctl");
        command.args(self.args());
        if ask.older {
            command.arg("--reverse");
        }
        match ask.anchor {
            Some(cursor) => {
                let native = cursor.strip_prefix("j:").unwrap_or(cursor);
                if !is_journal_cursor(native) {
                    return Err("not a well-formed journal cursor".into());
                }
                // `--cursor`, not `--after-cursor`: with a unit's matches,
                // an anchor that does not match would make the latter skip
                // one that does. The anchor itself is passed over below.
                // journalctl takes a cursor or `--since`, not both: the
                // lower bound is then kept here.
                command.arg(format!("--cursor={native}"));
            }
            None => {
                if let Some(since) = ask.since {
                    command.arg(format!("--since={}", at_micros(since * 1000)));
                }
            }
        }
        if let Some(until) = ask.until {
            // `--until` includes its moment; ours does not.
            command.arg(format!("--until={}", at_micros(until * 1000 - 1)));
        }
        if let Some(unit) = ask.unit {
            // A unit's entries as `parse` finds it: its own field or UNIT.
            command.args([
                &format!("_SYSTEMD_UNIT={unit}"),
                "+",
                &format!("UNIT={unit}"),
            ]);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run journalctl: {e}"))?;
        let stdout = child.stdout.take().ok_or("journalctl has no output")?;
        // The reader below blocks on the pipe: a watchdog ends journalctl
        // if it has not finished in time, which ends the read too.
        let pid = child.id();
        let deadline = ask.deadline;
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            if finished.recv_timeout(deadline) == Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                && let Some(pid) = rustix::process::Pid::from_raw(pid as i32)
            {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                return true;
            }
            false
        });
        let mut page = SourcePage::default();
        // Past this, what was found is answered: a filter that passes over
        // much of the journal pages on from where the read stopped.
        let enough = std::time::Instant::now() + deadline.mul_f32(0.6);
        for line in BufReader::with_capacity(256 * 1024, stdout).lines() {
            let Ok(line) = line else { break };
            let Some(entry) = parse(&line, node) else {
                continue;
            };
            if ask.anchor == Some(entry.cursor.as_str()) {
                continue;
            }
            if std::time::Instant::now() > enough {
                page.reached = Reached::Limit;
                break;
            }
            if !page.offer(ask, entry) {
                break;
            }
        }
        if page.reached != Reached::Edge {
            let _ = child.kill();
        }
        let status = child.wait();
        drop(done);
        if watchdog.join().unwrap_or(false) {
            return Err(format!("journalctl did not answer within {deadline:?}"));
        }
        if page.reached == Reached::Edge && !status.is_ok_and(|s| s.success()) {
            // journalctl fails on a cursor it cannot seek to.
            return Err(match ask.anchor {
                Some(_) => "the journal has no entry at that cursor".into(),
                None => "journalctl could not read the journal".into(),
            });
        }
        if ask.older {
            page.entries.reverse();
        }
        Ok(page)
    }
}

/// A moment as journalctl's `--since`/`--until` take it: `@SECONDS.MICROS`.
fn at_micros(us: i64) -> String {
    format!(
        "@{}.{:06}",
        us.div_euclid(1_000_000),
        us.rem_euclid(1_000_000)
    )
}

/// Whether `native` has a journald cursor's shape (`s=HEX;i=HEX;b=HEX;…`,
/// lower-case letters and hex digits): checked before a client's cursor
/// is handed to a journalctl process.
pub fn is_journal_cursor(native: &str) -> bool {
    native.len() <= 512
        && native.split(';').all(|part| {
            part.split_once('=').is_some_and(|(key, value)| {
                key.len() == 1
                    && key.bytes().all(|b| b.is_ascii_lowercase())
                    && !value.is_empty()
                    && value.bytes().all(|b| b.is_ascii_hexdigit())
            })
        })
}

/// Reads a `journalctl -o json` stream, handing entries over in batches:
/// whenever the pipe has nothing more for now, or every `batch` entries.
/// How journalctl ended: `Err` when it failed.
pub fn pump(
    child: &mut Child,
    node: &str,
    batch: usize,
    mut deliver: impl FnMut(Vec<LogEntry>),
) -> Result<String, String> {
    let Some(stdout) = child.stdout.take() else {
        return Err("journalctl has no output".into());
    };
    let mut reader = BufReader::with_capacity(256 * 1024, stdout);
    let mut entries = Vec::with_capacity(batch);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {
                if let Some(entry) = parse(line.trim_end(), node) {
                    entries.push(entry);
                }
                if entries.len() >= batch || reader.buffer().is_empty() {
                    deliver(std::mem::take(&mut entries));
                }
            }
            Err(e) => return Err(format!("reading journalctl: {e}")),
        }
    }
    if !entries.is_empty() {
        deliver(entries);
    }
    let mut why = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut stderr, &mut why);
    }
    match child.wait() {
        Ok(status) if status.success() => Ok(format!("journalctl ended ({status})")),
        Ok(status) => Err(format!("journalctl ended ({status}) {}", why.trim())),
        Err(e) => Err(format!("cannot wait for journalctl: {e}")),
    }
}

fn field(value: &Value) -> Option<FieldValue> {
    match value {
        Value::String(s) => Some(FieldValue::Text(s.clone())),
        // journald sends a field that is not UTF-8 as an array of bytes.
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_u64) => {
            let bytes: Vec<u8> = items
                .iter()
                .filter_map(|b| b.as_u64())
                .map(|b| b as u8)
                .collect();
            Some(FieldValue::Bytes {
                base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            })
        }
        // A field given more than once: all its values.
        Value::Array(items) => Some(FieldValue::Many(items.iter().filter_map(field).collect())),
        Value::Null => None,
        other => Some(FieldValue::Text(other.to_string())),
    }
}

fn text(fields: &BTreeMap<String, FieldValue>, name: &str) -> Option<String> {
    match fields.get(name)? {
        FieldValue::Text(s) => Some(s.clone()),
        FieldValue::Many(vs) => vs.iter().find_map(|v| match v {
            FieldValue::Text(s) => Some(s.clone()),
            _ => None,
        }),
        FieldValue::Bytes { .. } => None,
    }
}

/// One line of `journalctl -o json` as an entry; `None` if it is not one.
pub fn parse(line: &str, node: &str) -> Option<LogEntry> {
    let Value::Object(map) = serde_json::from_str::<Value>(line).ok()? else {
        return None;
    };
    let mut fields: BTreeMap<String, FieldValue> = map
        .iter()
        .filter_map(|(k, v)| field(v).map(|f| (k.clone(), f)))
        .collect();
    let cursor = text(&fields, "__CURSOR")?;
    let ts = text(&fields, "__REALTIME_TIMESTAMP")
        .and_then(|t| t.parse::<i64>().ok())
        .map_or(0, |us| us / 1000);
    let raw: Vec<u8> = match fields.get("MESSAGE") {
        Some(FieldValue::Text(s)) => s.clone().into_bytes(),
        Some(FieldValue::Bytes { base64 }) => base64::engine::general_purpose::STANDARD
            .decode(base64)
            .unwrap_or_default(),
        Some(FieldValue::Many(vs)) => vs
            .iter()
            .filter_map(|v| match v {
                FieldValue::Text(s) => Some(s.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes(),
        None => Vec::new(),
    };
    let mut entry = logline::entry(format!("j:{cursor}"), ts, node, &raw);
    entry.node = text(&fields, "_HOSTNAME").unwrap_or_else(|| node.to_string());
    entry.unit = text(&fields, "_SYSTEMD_UNIT").or_else(|| text(&fields, "UNIT"));
    entry.identifier = text(&fields, "SYSLOG_IDENTIFIER").or_else(|| text(&fields, "_COMM"));
    // The host source's tasks are its processes, by pid.
    entry.task = text(&fields, "_PID");
    if text(&fields, "_TRANSPORT").as_deref() == Some("stdout") {
        entry.stream = Some("stdout".into());
    }
    if let Some(p) = text(&fields, "PRIORITY").and_then(|p| p.parse::<u8>().ok()) {
        entry.priority = p.min(7);
    }
    for known in ["__CURSOR", "__REALTIME_TIMESTAMP", "MESSAGE", "PRIORITY"] {
        fields.remove(known);
    }
    entry.fields = fields;
    Some(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_text_bytes_and_repeated_fields() {
        let line = r#"{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1700000000123456","MESSAGE":[104,105,255],"PRIORITY":"3","_SYSTEMD_UNIT":"web.service","SYSLOG_IDENTIFIER":"web","_PID":"42","_HOSTNAME":"node-a","TAG":["a","b"],"_TRANSPORT":"stdout"}"#;
        let e = parse(line, "fallback").unwrap();
        assert_eq!(e.cursor, "j:s=1;i=2");
        assert_eq!(e.ts, 1_700_000_000_123);
        assert_eq!(e.message, "hi\u{FFFD}");
        assert_eq!(e.message_base64.as_deref(), Some("aGn/"));
        assert_eq!(e.priority, 3);
        assert_eq!(e.unit.as_deref(), Some("web.service"));
        assert_eq!(e.identifier.as_deref(), Some("web"));
        assert_eq!(e.task.as_deref(), Some("42"));
        assert_eq!(e.node, "node-a");
        assert_eq!(e.stream.as_deref(), Some("stdout"));
        assert_eq!(
            e.fields["TAG"],
            FieldValue::Many(vec![
                FieldValue::Text("a".into()),
                FieldValue::Text("b".into())
            ])
        );
        assert!(!e.fields.contains_key("MESSAGE"));
        assert!(parse("not json", "n").is_none());
        assert!(parse(r#"{"MESSAGE":"no cursor"}"#, "n").is_none());
    }
}
