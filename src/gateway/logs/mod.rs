//! `GET /api/v1/logs`: range reads of the logs. The newest entries, those
//! after a cursor, older pages (`before`) and time ranges (`since`,
//! `until`), from the ring and, where it does not reach, from the sources
//! that keep history; through a hub, from its agents; with `--kube`, a
//! pod's lines from the API server.

pub mod history;
pub mod seek;

use std::sync::Arc;

use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::Shared;
use super::filter::Matcher;
use super::request::partial;
use super::request::{Actor, HttpError};
use crate::api::{ApiError, ErrorCode, Filter, HISTORY_HEADER, LogEntry, OLDER_HEADER};
use history::Range;

/// Entries a range read returns unless told, and at most.
const DEFAULT_LOG_LIMIT: usize = 100;
const MAX_LOG_LIMIT: usize = 10_000;

/// What a read asks for, besides its filter.
#[derive(Default)]
struct Ask {
    cursor: Option<String>,
    before: Option<String>,
    skip: i64,
    limit: usize,
    range: Range,
}

pub async fn read(
    State(gw): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<super::Peer>,
    axum::Extension(actor): axum::Extension<Actor>,
    headers: axum::http::HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, HttpError> {
    let bad = |m: String| HttpError(ApiError::new(ErrorCode::BadRequest, m));
    let query = query.unwrap_or_default();
    let (filter, ask) = parse(&query).map_err(bad)?;
    let matcher = Arc::new(Matcher::new(&filter).map_err(bad)?);
    let source = peer.0.to_string();
    let client = super::request::user_agent(&headers);
    let asker = seek::Asker {
        actor: &actor.0,
        source: &source,
        client: &client,
        route: "GET /api/v1/logs",
    };
    // Everything but a read on from a cursor (and the old `skip` from the
    // end) pages by time, reaching into the sources past the ring.
    let by_range = ask.before.is_some() || (ask.cursor.is_none() && ask.skip == 0);
    if let Some(fleet) = &gw.fleet {
        if by_range && (ask.before.is_some() || ask.range.since.is_none()) {
            let before = ask.before.as_deref().unwrap_or_default();
            let page = fleet
                .older_logs(&filter, before, ask.range.since, ask.range.until, ask.limit)
                .await
                .map_err(bad)?;
            return Ok(paged(
                &page.entries,
                page.older,
                page.end.as_deref(),
                &page.missing,
            ));
        }
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let (entries, missing) = fleet
            .read_logs(&filter, ask.cursor.as_deref(), ask.skip, ask.limit, &pairs)
            .await
            .map_err(bad)?;
        let entries = in_range(entries, &ask);
        return Ok(partial(ndjson(&entries), &missing));
    }
    #[cfg(feature = "kube")]
    if let (Some(kube), None) = (&gw.kube, &ask.cursor) {
        // Pod logs have no place in the store: read from the API server.
        if let Some((mut entries, missing)) = kube.read_logs(&filter, ask.limit).await {
            if ask.before.is_some() {
                return Err(bad(
                    "before: pod logs have no cursors to page back by; use since".into(),
                ));
            }
            entries.retain(|e| ask.range.contains(e.ts) && matcher.matches_log(e));
            entries.drain(..entries.len().saturating_sub(ask.limit));
            return Ok(partial(ndjson(&entries), &missing));
        }
    }
    if by_range {
        let read = history::Read {
            matcher: matcher.clone(),
            range: ask.range,
            unit: filter.unit.clone(),
            asker,
        };
        // An empty `before` is the range's end: its newest entries.
        let before = ask.before.as_deref().filter(|b| !b.is_empty());
        let page = match (&ask.before, ask.range.since) {
            (None, Some(_)) => history::newer(&gw, &read, ask.limit).await,
            _ => history::older(&gw, &read, before, ask.limit).await,
        }
        .map_err(HttpError)?;
        let end = page.end.map(|e| e.word());
        return Ok(paged(&page.entries, page.older, end, &page.missing));
    }
    let entries = match gw
        .store
        .read_logs(&matcher, ask.cursor.as_deref(), ask.skip, ask.limit)
    {
        Some(entries) => entries,
        None => {
            // Not in the ring any more: read on in the source that made it.
            let cursor = ask.cursor.clone().unwrap_or_default();
            let skip = ask.skip.max(0) as usize;
            let read = history::Read {
                matcher: matcher.clone(),
                range: ask.range,
                unit: filter.unit.clone(),
                asker,
            };
            let mut entries = history::after(&gw, &read, &cursor, ask.limit + skip)
                .await
                .map_err(HttpError)?;
            entries.drain(..skip.min(entries.len()));
            entries
        }
    };
    Ok(ndjson(&in_range(entries, &ask)).into_response())
}

/// A page of an older read, with how to go on and where history ends.
fn paged(
    entries: &[LogEntry],
    older: Option<String>,
    end: Option<&str>,
    missing: &[String],
) -> Response {
    let mut response = partial(ndjson(entries), missing);
    let headers = response.headers_mut();
    if let Some(older) = older.and_then(|t| header::HeaderValue::from_str(&t).ok()) {
        headers.insert(OLDER_HEADER, older);
    }
    if let Some(end) = end.and_then(|e| header::HeaderValue::from_str(e).ok()) {
        headers.insert(HISTORY_HEADER, end);
    }
    response
}

/// The query's filter and what it asks for.
fn parse(query: &str) -> Result<(Filter, Ask), String> {
    let mut filter = Filter::default();
    let mut ask = Ask {
        limit: DEFAULT_LOG_LIMIT,
        ..Default::default()
    };
    let now = crate::api::now_millis();
    let time = |key: &str, value: &str| {
        crate::api::parse_time(value, now).ok_or(format!(
            "{key} {value:?} is not a time: RFC 3339 (2026-12-02T14:02:00Z), milliseconds since 1970, or a span ago (15m, -1h, now-2d)"
        ))
    };
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = value.into_owned();
        match key.as_ref() {
            "node" => filter.node = Some(value),
            "task" => filter.task = Some(value),
            "unit" => filter.unit = Some(value),
            "regex" => filter.regex = Some(value),
            "match" => filter.matches.push(value),
            "cursor" => ask.cursor = Some(value),
            "before" => ask.before = Some(value),
            "since" => ask.range.since = Some(time("since", &value)?),
            "until" => ask.range.until = Some(time("until", &value)?),
            "priority" => {
                filter.priority = Some(
                    value
                        .parse()
                        .map_err(|_| format!("priority {value:?} is not 0-7"))?,
                )
            }
            "skip" => {
                ask.skip = value
                    .parse()
                    .map_err(|_| format!("skip {value:?} is not a whole number"))?
            }
            "limit" => {
                ask.limit = value
                    .parse()
                    .map_err(|_| format!("limit {value:?} is not a whole number"))?
            }
            other => return Err(format!("unknown parameter {other:?}")),
        }
    }
    if ask.cursor.is_some() && ask.before.is_some() {
        return Err("cursor and before: one reads on, the other back; give one".into());
    }
    if let (Some(since), Some(until)) = (ask.range.since, ask.range.until)
        && since >= until
    {
        return Err("since is not before until".into());
    }
    ask.limit = ask.limit.clamp(1, MAX_LOG_LIMIT);
    Ok((filter, ask))
}

/// A read on from a cursor, cut to the range.
fn in_range(mut entries: Vec<LogEntry>, ask: &Ask) -> Vec<LogEntry> {
    entries.retain(|e| ask.range.contains(e.ts));
    entries
}

fn ndjson(entries: &[LogEntry]) -> impl IntoResponse + use<> {
    let mut body = String::with_capacity(entries.len() * 256);
    for entry in entries {
        body.push_str(&serde_json::to_string(entry).expect("log entries serialize"));
        body.push('\n');
    }
    ([(header::CONTENT_TYPE, "application/x-ndjson")], body)
}
