//! Recording from the console (`R`, `:record [FILE|stop]`, `m`, `:mark
//! TEXT`): what the stream brings is written as it comes, with markers and
//! the presenter's view changes, through `crate::record`. On start the
//! console's subscriptions are asked for afresh, so the recording begins
//! with whole snapshots of what is on hand.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::api::{ServerMsg, UnixMillis};
use crate::record::format::{Header, ViewChange, What};
use crate::record::writer::{DEFAULT_PART_BYTES, Recorder};
use crate::tui::effect::Effect;
use crate::tui::widgets::units::bytes;

#[derive(Default)]
pub struct Recording {
    recorder: Option<Recorder>,
    marks: u32,
    /// The last view recorded, so only changes are.
    view: String,
}

impl Recording {
    pub fn is_on(&self) -> bool {
        self.recorder.is_some()
    }

    /// Starts recording into `path` (else a new file in `dir`); the
    /// effects ask the console's subscriptions afresh.
    pub fn start(
        &mut self,
        path: Option<&Path>,
        dir: Option<&Path>,
        origin: (&str, &str),
        shared: bool,
        now: UnixMillis,
    ) -> Result<(Vec<Effect>, String), String> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => default_path(dir, now)?,
        };
        let subscriptions = crate::tui::connection::recorded_subscriptions();
        let mut header = Header::new(
            origin.1.to_string(),
            Some(origin.0.to_string()),
            &subscriptions,
            now,
        );
        if shared {
            header.shared();
        }
        let recorder = Recorder::create(&path, header, DEFAULT_PART_BYTES)?;
        let said = format!(
            "recording to {} (m marks a moment, R stops)",
            recorder.path.display()
        );
        self.recorder = Some(recorder);
        self.marks = 0;
        self.view.clear();
        let effects = subscriptions
            .into_iter()
            .map(|s| Effect::Subscribe(Box::new(s)))
            .collect();
        Ok((effects, said))
    }

    /// Stops, and says what was written.
    pub fn stop(&mut self) -> Result<String, String> {
        let Some(recorder) = self.recorder.take() else {
            return Err("not recording (R starts)".into());
        };
        let (progress, path) = (recorder.progress.clone(), recorder.path.clone());
        recorder.finish()?;
        let dropped = progress.dropped.load(Ordering::Relaxed);
        Ok(format!(
            "recorded {} to {}{}",
            bytes(progress.bytes.load(Ordering::Relaxed) as f64),
            path.display(),
            if dropped > 0 {
                format!(" ({dropped} entries dropped: the disk did not keep up)")
            } else {
                String::new()
            }
        ))
    }

    /// A message from the gateway, as it came.
    pub fn message(&self, msg: &ServerMsg, now: UnixMillis) {
        if let Some(r) = &self.recorder {
            r.record(now, What::Msg(msg.clone()));
        }
    }

    /// A marker: `label`, else a numbered one.
    pub fn mark(&mut self, label: &str, now: UnixMillis) -> Result<String, String> {
        let Some(r) = &self.recorder else {
            return Err("not recording: R (or :record) starts, then m marks".into());
        };
        self.marks += 1;
        let label = if label.trim().is_empty() {
            format!("mark {}", self.marks)
        } else {
            label.trim().to_string()
        };
        r.record(now, What::Mark(label.clone()));
        Ok(format!("marked: {label}"))
    }

    /// The view on screen (its breadcrumbs and the route stack that
    /// makes it), recorded when it changed.
    pub fn view(&mut self, crumbs: &str, routes: serde_json::Value, now: UnixMillis) {
        if let Some(r) = &self.recorder
            && self.view != crumbs
        {
            self.view = crumbs.to_string();
            let crumbs = crumbs.to_string();
            r.record(now, What::View(ViewChange { crumbs, routes }));
        }
    }

    /// The header's badge while recording.
    pub fn badge(&self) -> Option<String> {
        let r = self.recorder.as_ref()?;
        let size = bytes(r.progress.bytes.load(Ordering::Relaxed) as f64);
        let dropped = r.progress.dropped.load(Ordering::Relaxed);
        Some(if dropped > 0 {
            format!("● REC {size}, {dropped} dropped")
        } else {
            format!("● REC {size}")
        })
    }
}

/// `day2top-2026-12-02-210306Z.d2rec` (UTC) in the data folder's
/// `recordings`.
fn default_path(dir: Option<&Path>, now: UnixMillis) -> Result<PathBuf, String> {
    let dir = dir
        .map(|d| d.join("recordings"))
        .ok_or("no data folder to record into: give a file, :record FILE")?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let stamp = jiff::Timestamp::from_millisecond(now)
        .map(|t| t.strftime("%Y-%m-%d-%H%M%SZ").to_string())
        .unwrap_or_else(|_| now.to_string());
    Ok(dir.join(format!("day2top-{stamp}.d2rec")))
}
