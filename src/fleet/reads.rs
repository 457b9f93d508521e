//! Reads a hub passes to its agents and merges: a trace's spans, the
//! services, series over a range. Each agent is asked at once, each with
//! a deadline, so a hung agent costs a read its deadline and no more.

use std::time::Duration;

use serde::de::DeserializeOwned;

use super::{Fleet, rename};
use crate::api::{ErrorCode, Filter, Series, SeriesRange, Span};
use crate::client::ClientError;

/// How long a read waits for one agent.
pub(super) const AGENT_DEADLINE: Duration = Duration::from_secs(5);

/// What the agents answered a read, and which could not (down, refused,
/// too slow, an error), for the reader to be told.
pub struct Answers<T> {
    pub got: Vec<(String, T)>,
    /// `NAME (why)` of each agent that did not answer.
    pub missing: Vec<String>,
}

impl Fleet {
    /// `GET path` of every agent `path_for` gives a path for, at once, the
    /// body read by `parse`; an agent's "not found" is an answer of none.
    pub async fn ask<T: Send + 'static>(
        &self,
        path_for: impl Fn(&str) -> Option<String>,
        parse: fn(&str) -> Result<T, String>,
    ) -> Answers<T> {
        let mut asks = Vec::new();
        let mut missing = Vec::new();
        for agent in self.agents() {
            let Some(path) = path_for(agent.name()) else {
                continue;
            };
            let client = agent.client.clone().filter(|_| agent.is_up());
            let Some(client) = client else {
                // Its state says why; no one waits on it.
                let state = agent.held().status.state;
                missing.push(format!("{} ({})", agent.name(), state.as_str()));
                continue;
            };
            let name = agent.name().to_string();
            asks.push(tokio::spawn(async move {
                let answer = tokio::time::timeout(AGENT_DEADLINE, client.get_text(&path)).await;
                (name, answer)
            }));
        }
        let mut got = Vec::new();
        for ask in asks {
            let Ok((name, answer)) = ask.await else {
                continue;
            };
            match answer {
                Ok(Ok(text)) => match parse(&text) {
                    Ok(value) => got.push((name, value)),
                    Err(e) => missing.push(format!("{name} (an answer that does not read: {e})")),
                },
                Ok(Err(ClientError::Api(e))) if e.error.code == ErrorCode::NotFound => {}
                Ok(Err(e)) => missing.push(format!("{name} ({e})")),
                Err(_) => missing.push(format!("{name} (no answer within {AGENT_DEADLINE:?})")),
            }
        }
        for m in &missing {
            tracing::debug!("a read without agent {m}");
        }
        Answers { got, missing }
    }

    /// A trace's spans from every agent that holds some; `None` if none does.
    pub async fn trace(&self, trace_id: &str) -> (Option<Vec<Span>>, Vec<String>) {
        let path = format!("/api/v1/traces/{trace_id}");
        let parts = self.ask(|_| Some(path.clone()), json::<Vec<Span>>).await;
        if parts.got.is_empty() {
            return (None, parts.missing);
        }
        let mut spans: Vec<Span> = parts
            .got
            .into_iter()
            .flat_map(|(agent, spans)| spans.into_iter().map(move |s| rename::span(&agent, s)))
            .collect();
        spans.sort_by(|a, b| {
            a.start
                .cmp(&b.start)
                .then_with(|| a.span_id.cmp(&b.span_id))
        });
        // A span sent to two agents (a retried export) is one span.
        spans.dedup_by(|a, b| a.span_id == b.span_id && a.start == b.start);
        (Some(spans), parts.missing)
    }

    /// Every agent's services with their operations, as one list.
    pub async fn services<T: DeserializeOwned + Send + 'static>(&self) -> (Vec<T>, Vec<String>) {
        let answers = self
            .ask(|_| Some("/api/v1/services".into()), json::<Vec<T>>)
            .await;
        let all = answers.got.into_iter().flat_map(|(_, s)| s).collect();
        (all, answers.missing)
    }

    /// Series over a range from the agents that can hold them (a filter on
    /// a node or task goes to its agent only), with fleet ids in their tags.
    pub async fn series(
        &self,
        filter: &Filter,
        from: i64,
        to: i64,
        step: i64,
    ) -> (Vec<Series>, Vec<String>) {
        let path_for = |agent: &str| {
            let down = rename::filter_for(agent, filter)?;
            Some(crate::client::series_path(&down, from, to, Some(step)))
        };
        let answers = self.ask(path_for, json::<SeriesRange>).await;
        let series = answers
            .got
            .into_iter()
            .flat_map(|(agent, range)| {
                range
                    .series
                    .into_iter()
                    .map(move |s| rename::series(&agent, s))
            })
            .collect();
        (series, answers.missing)
    }
}

/// A JSON answer.
fn json<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}
