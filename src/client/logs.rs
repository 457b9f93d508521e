//! Pages of `GET /api/v1/logs`: the entries, and the headers that say how
//! to read on back and where history ends. The console's scroll-back and
//! `day2top logs --since` read through here.

use super::{Client, ClientError};
use crate::api::{Filter, HISTORY_HEADER, LogEntry, MISSING_HEADER, OLDER_HEADER, UnixMillis};

/// What a page read asks for, besides its filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageAsk {
    pub since: Option<UnixMillis>,
    pub until: Option<UnixMillis>,
    /// Older entries: before this cursor or an earlier page's token; `""`
    /// for the newest of the range.
    pub before: Option<String>,
    /// Newer entries: after this cursor.
    pub cursor: Option<String>,
    pub limit: usize,
}

/// A page, oldest first.
#[derive(Debug, Clone, Default)]
pub struct LogPage {
    pub entries: Vec<LogEntry>,
    /// The `before` that reads the page before this one.
    pub older: Option<String>,
    /// Why there is nothing older: `start`, `since` or `kept`.
    pub end: Option<String>,
    /// What the gateway could not read, in its words.
    pub missing: Option<String>,
}

impl Client {
    pub async fn log_page(&self, filter: &Filter, ask: &PageAsk) -> Result<LogPage, ClientError> {
        let query = query(filter, ask);
        let response = self
            .http
            .get(self.address(&format!("/api/v1/logs?{query}")))
            .bearer_auth(&self.endpoint.token)
            .send()
            .await;
        let header = |name: &str| {
            let r = response.as_ref().ok()?;
            Some(r.headers().get(name)?.to_str().ok()?.to_string())
        };
        let (older, end, missing) = (
            header(OLDER_HEADER),
            header(HISTORY_HEADER),
            header(MISSING_HEADER),
        );
        let text = self.body(response).await?;
        let mut entries: Vec<LogEntry> = text
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(serde_json::from_slice)
            .collect::<Result<_, _>>()
            .map_err(|e| ClientError::Protocol(format!("a log line the gateway sent: {e}")))?;
        if let Some(redactor) = self.share.active() {
            entries.iter_mut().for_each(|e| redactor.log_entry(e));
        }
        Ok(LogPage {
            entries,
            older,
            end,
            missing,
        })
    }
}

/// The query of a page read.
fn query(filter: &Filter, ask: &PageAsk) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (key, value) in [
        ("node", &filter.node),
        ("task", &filter.task),
        ("unit", &filter.unit),
        ("regex", &filter.regex),
        ("before", &ask.before),
        ("cursor", &ask.cursor),
    ] {
        if let Some(value) = value {
            q.append_pair(key, value);
        }
    }
    for m in &filter.matches {
        q.append_pair("match", m);
    }
    let numbers = [
        ("priority", filter.priority.map(i64::from)),
        ("since", ask.since),
        ("until", ask.until),
        ("limit", Some(ask.limit as i64)),
    ];
    for (key, value) in numbers {
        if let Some(value) = value {
            q.append_pair(key, &value.to_string());
        }
    }
    q.finish()
}
