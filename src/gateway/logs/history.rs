//! Paging through logs by time: older pages (`before`), and a range
//! (`since`, `until`). The ring answers first; where it does not reach,
//! the sources that keep their own history (journald, followed files) are
//! read back, each as a run in its own order, and the runs are merged by
//! time. An older page ends with a position, handed to the client as an
//! opaque token, naming where the ring and every run go on from, so that
//! paging back loses and repeats nothing.

use std::collections::HashSet;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::seek::{self, Asker, SEEK_DEADLINE};
use crate::api::{ApiError, ErrorCode, LogEntry, UnixMillis};
use crate::collect::history::{HistoryAsk, Reached, SourcePage, take_newest};
use crate::gateway::Shared;
use crate::gateway::filter::Matcher;

/// A history token begins with this; anything else is a plain cursor.
const TOKEN: &str = "h:";

/// Where an older read goes on from.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Position {
    /// Ring entries before this sequence number are still to be read;
    /// `None` once the ring is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ring: Option<u64>,
    /// The oldest time the pages reached: a run with no cursor yet reads
    /// by time, before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<UnixMillis>,
    /// The source runs still to read.
    #[serde(default)]
    runs: Vec<Run>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Run {
    key: String,
    /// The cursor to read before; `None`: by time, before `t`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    before: Option<String>,
}

/// A read's time range: at or after `since`, before `until`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Range {
    pub since: Option<UnixMillis>,
    pub until: Option<UnixMillis>,
}

impl Range {
    pub fn contains(&self, ts: UnixMillis) -> bool {
        self.since.is_none_or(|s| ts >= s) && self.until.is_none_or(|u| ts < u)
    }
}

/// Why an older page has nothing before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The sources' first entries: there is nothing older anywhere.
    Start,
    /// The range's `since`.
    Since,
    /// The oldest entry the gateway kept: older ones existed, and no
    /// source it reads keeps them (the demo, or entries of a source with
    /// no history of its own).
    Kept,
}

impl End {
    pub fn word(self) -> &'static str {
        match self {
            End::Start => "start",
            End::Since => "since",
            End::Kept => "kept",
        }
    }
}

/// A page of entries, oldest first.
#[derive(Debug, Default)]
pub struct Page {
    pub entries: Vec<LogEntry>,
    /// The token for the page before this one, if there may be one.
    pub older: Option<String>,
    /// Why there is nothing older, if there is not.
    pub end: Option<End>,
    /// Sources that could not answer, and why.
    pub missing: Vec<String>,
}

/// What a read is for: its filter, its range, and a unit to read less by.
pub struct Read<'a> {
    pub matcher: Arc<Matcher>,
    pub range: Range,
    pub unit: Option<String>,
    pub asker: Asker<'a>,
}

impl Read<'_> {
    fn keeps(&self, e: &LogEntry) -> bool {
        self.range.contains(e.ts) && self.matcher.matches_log(e)
    }
}

/// The newest `limit` entries before `before` (a token from an earlier
/// page, a cursor, or none for the newest), oldest first.
pub async fn older(
    gw: &Arc<Shared>,
    read: &Read<'_>,
    before: Option<&str>,
    limit: usize,
) -> Result<Page, ApiError> {
    let mut pos = position(gw, read, before)?;
    let mut page = Page::default();
    let mut evicted = false;
    if let Some(seq) = pos.ring {
        let ring = gw.store.ring_older(|e| read.keeps(e), seq, limit);
        page.entries = ring.entries;
        pos.ring = ring.stopped;
        evicted = ring.evicted;
        if pos.ring.is_none() && ring.evicted && ring.front_unclaimed {
            page.missing.push(
                "lines older than the gateway's buffer of a source that keeps no history (the demo's since it began)".into(),
            );
        }
        // The runs are covered down to the oldest of each scanned; those
        // this scan did not meet keep where earlier pages left them.
        for (key, cursor) in ring.runs {
            match pos.runs.iter_mut().find(|r| r.key == key) {
                Some(run) => run.before = Some(cursor),
                None => pos.runs.push(Run {
                    key,
                    before: Some(cursor),
                }),
            }
        }
        if pos.ring.is_none() {
            // The ring is done: a source with nothing in it reads by time,
            // before the ring's oldest.
            pos.t = [ring.front_ts, page.entries.first().map(|e| e.ts)]
                .into_iter()
                .flatten()
                .min()
                .or(Some(crate::api::now_millis()));
            for seeker in gw.store.seekers.list() {
                let name = seeker.name();
                if seeker.by_time() && !pos.runs.iter().any(|r| owner_name(&r.key) == name) {
                    pos.runs.push(Run {
                        key: name.into(),
                        before: None,
                    });
                }
            }
        }
    }
    let need = limit - page.entries.len();
    let mut ends = Vec::new();
    if need > 0 && !pos.runs.is_empty() {
        let older = from_sources(gw, read, &mut pos, need, &mut page.missing, &mut ends).await?;
        let mut entries = older;
        entries.append(&mut page.entries);
        page.entries = entries;
    }
    if let Some(first) = page.entries.first() {
        pos.t = Some(pos.t.map_or(first.ts, |t| t.min(first.ts)));
    }
    if pos.ring.is_some() || !pos.runs.is_empty() {
        let json = serde_json::to_vec(&pos).expect("a position serializes");
        page.older = Some(format!("{TOKEN}{}", URL_SAFE_NO_PAD.encode(json)));
    } else {
        page.end = Some(if ends.contains(&Reached::Bound) {
            End::Since
        } else if evicted && gw.store.seekers.list().is_empty() {
            End::Kept
        } else {
            End::Start
        });
    }
    Ok(page)
}

/// The first `limit` entries at or after the range's `since`, oldest
/// first: the ring's and, where it does not reach back, the sources'.
pub async fn newer(gw: &Arc<Shared>, read: &Read<'_>, limit: usize) -> Result<Page, ApiError> {
    let (ring, front) = gw.store.ring_newer(|e| read.keeps(e), limit);
    let mut page = Page::default();
    let reaches = match (read.range.since, front) {
        (Some(since), Some(front)) => front < since,
        _ => false,
    };
    let mut runs = vec![ring];
    if !reaches {
        let _permit = gw.store.seekers.permit()?;
        let seekers: Vec<_> = gw
            .store
            .seekers
            .list()
            .into_iter()
            .filter(|s| s.by_time())
            .collect();
        let (matcher, range, unit) = (read.matcher.clone(), read.range, read.unit.clone());
        let answers = tokio::task::spawn_blocking(move || {
            seekers
                .iter()
                .map(|s| {
                    let keep = |e: &LogEntry| range.contains(e.ts) && matcher.matches_log(e);
                    let ask = ask(false, None, range, limit, &keep, unit.as_deref());
                    (s.name(), s.history(&ask))
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|_| unavailable("the read of the sources failed"))?;
        for (name, answer) in answers {
            match answer {
                Ok(p) => runs.push(p.entries),
                Err(why) => page.missing.push(format!("{name} ({why})")),
            }
        }
    }
    // Oldest first across runs, each run's own order kept; a source's
    // entries the ring also holds are taken once.
    let mut seen = HashSet::new();
    let mut heads: Vec<std::iter::Peekable<std::vec::IntoIter<LogEntry>>> =
        runs.into_iter().map(|r| r.into_iter().peekable()).collect();
    while page.entries.len() < limit {
        let next = heads
            .iter_mut()
            .enumerate()
            .filter_map(|(i, h)| h.peek().map(|e| (e.ts, i)))
            .min();
        let Some((_, i)) = next else { break };
        let e = heads[i].next().expect("peeked");
        if seen.insert(e.cursor.clone()) {
            page.entries.push(e);
        }
    }
    Ok(page)
}

/// The first `limit` entries after a cursor the ring no longer holds,
/// read on in the source that made it (filtered as it reads, so a page of
/// a sparse filter is still full).
pub async fn after(
    gw: &Arc<Shared>,
    read: &Read<'_>,
    cursor: &str,
    limit: usize,
) -> Result<Vec<LogEntry>, ApiError> {
    let owner = gw.store.seekers.list().into_iter().find(|s| s.owns(cursor));
    let Some(seeker) = owner else {
        return Err(seek::refuse(
            gw,
            &read.asker,
            cursor,
            "no log source of this gateway made that cursor",
        ));
    };
    let _permit = gw.store.seekers.permit()?;
    let (matcher, range, unit) = (read.matcher.clone(), read.range, read.unit.clone());
    let anchor = cursor.to_string();
    let answer = tokio::task::spawn_blocking(move || {
        let keep = |e: &LogEntry| range.contains(e.ts) && matcher.matches_log(e);
        seeker.history(&ask(
            false,
            Some(&anchor),
            range,
            limit,
            &keep,
            unit.as_deref(),
        ))
    })
    .await
    .map_err(|_| unavailable("the read of the sources failed"))?;
    answer
        .map(|page| page.entries)
        .map_err(|why| seek::refuse(gw, &read.asker, cursor, &why))
}

/// Where an older read starts.
fn position(gw: &Arc<Shared>, read: &Read<'_>, before: Option<&str>) -> Result<Position, ApiError> {
    let Some(before) = before else {
        return Ok(Position {
            ring: Some(u64::MAX),
            ..Default::default()
        });
    };
    if let Some(token) = before.strip_prefix(TOKEN) {
        return URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::BadRequest,
                    "before: not a position this gateway gave (take X-Day2top-Older from a page)",
                )
            });
    }
    if let Some(seq) = gw.store.log_seq(before) {
        return Ok(Position {
            ring: Some(seq),
            ..Default::default()
        });
    }
    // Gone from the ring: its own source reads back from it (only that
    // source: a page's token pages back every source together).
    let owner = gw.store.seekers.list().into_iter().find(|s| s.owns(before));
    match owner {
        Some(s) => Ok(Position {
            runs: vec![Run {
                key: s.name().into(),
                before: Some(before.into()),
            }],
            ..Default::default()
        }),
        None => Err(seek::refuse(
            gw,
            &read.asker,
            before,
            "no log source of this gateway made that cursor",
        )),
    }
}

/// Reads the runs back, `need` entries in all: the newest of what they
/// have, merged by time; moves each run's cursor past what was taken.
async fn from_sources(
    gw: &Arc<Shared>,
    read: &Read<'_>,
    pos: &mut Position,
    need: usize,
    missing: &mut Vec<String>,
    ends: &mut Vec<Reached>,
) -> Result<Vec<LogEntry>, ApiError> {
    let _permit = gw.store.seekers.permit()?;
    let seekers = gw.store.seekers.list();
    let runs = pos.runs.clone();
    let (matcher, range, unit, t) = (read.matcher.clone(), read.range, read.unit.clone(), pos.t);
    let answers = tokio::task::spawn_blocking(move || {
        runs.iter()
            .map(|run| {
                let Some(seeker) = seekers.iter().find(|s| s.name() == owner_name(&run.key)) else {
                    return Err("this gateway no longer reads that source".to_string());
                };
                let mut range = range;
                if run.before.is_none() {
                    range.until = [range.until, t].into_iter().flatten().min();
                }
                let keep = |e: &LogEntry| range.contains(e.ts) && matcher.matches_log(e);
                let ask = ask(
                    true,
                    run.before.as_deref(),
                    range,
                    need,
                    &keep,
                    unit.as_deref(),
                );
                seeker.history(&ask)
            })
            .collect::<Vec<Result<SourcePage, String>>>()
    })
    .await
    .map_err(|_| unavailable("the read of the sources failed"))?;
    let mut pages: Vec<Option<SourcePage>> = Vec::new();
    for (run, answer) in pos.runs.iter().zip(answers) {
        match answer {
            Ok(p) => pages.push(Some(p)),
            Err(why) => {
                missing.push(format!("{} ({why})", run.key));
                pages.push(None);
            }
        }
    }
    // The newest `need` over every run.
    let mut lists: Vec<Vec<LogEntry>> = pages
        .iter_mut()
        .map(|p| {
            p.as_mut()
                .map(|p| std::mem::take(&mut p.entries))
                .unwrap_or_default()
        })
        .collect();
    let merged = take_newest(&mut lists.iter_mut().collect::<Vec<_>>(), need);
    for (page, left) in pages.iter_mut().zip(lists) {
        if let Some(p) = page {
            p.entries = left;
        }
    }
    let mut oldest_taken: Vec<Option<String>> = vec![None; pages.len()];
    for (i, e) in merged.iter().rev() {
        oldest_taken[*i] = Some(e.cursor.clone());
    }
    let taken: Vec<LogEntry> = merged.into_iter().map(|(_, e)| e).collect();
    let mut kept = Vec::new();
    for ((run, page), oldest) in pos.runs.drain(..).zip(pages).zip(oldest_taken) {
        let Some(page) = page else { continue };
        if page.entries.is_empty() && page.reached != Reached::Limit {
            // Every entry it had is on this page or an earlier one.
            ends.push(page.reached);
            continue;
        }
        let before = match page.entries.is_empty() {
            // All of it used: on from where the source stopped reading.
            true => page.read_to.or(oldest).or(run.before),
            false => oldest.or(run.before),
        };
        kept.push(Run {
            key: run.key,
            before,
        });
    }
    pos.runs = kept;
    Ok(taken)
}

fn ask<'a>(
    older: bool,
    anchor: Option<&'a str>,
    range: Range,
    limit: usize,
    keep: &'a (dyn Fn(&LogEntry) -> bool + Sync),
    unit: Option<&'a str>,
) -> HistoryAsk<'a> {
    HistoryAsk {
        older,
        anchor,
        since: range.since,
        until: range.until,
        limit,
        keep,
        unit,
        deadline: SEEK_DEADLINE,
    }
}

/// The seeker a run key names: `journal`, `files:/var/log/x.log` → `files`.
fn owner_name(key: &str) -> &str {
    key.split(':').next().unwrap_or(key)
}

fn unavailable(why: &str) -> ApiError {
    ApiError::new(ErrorCode::Unavailable, why)
}
