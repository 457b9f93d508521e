//! Reads a hub passes to its agents and merges: a trace's spans, the
//! services, series over a range. Each agent is asked at once, each with
//! a deadline, so a hung agent costs a read its deadline and no more.

use std::time::Duration;

use serde::de::DeserializeOwned;

use super::{Fleet, rename};
use crate::api::{Filter, Series, SeriesRange, Span};

/// How long a read waits for one agent.
const AGENT_DEADLINE: Duration = Duration::from_secs(5);

impl Fleet {
    /// `GET path` of every agent `path_for` gives a path for, at once;
    /// the answers that came in time, by agent name.
    pub async fn ask<T: DeserializeOwned + Send + 'static>(
        &self,
        path_for: impl Fn(&str) -> Option<String>,
    ) -> Vec<(String, T)> {
        let mut asks = Vec::new();
        for agent in self.agents() {
            let (Some(client), Some(path)) = (agent.client.clone(), path_for(agent.name())) else {
                continue;
            };
            if !agent.is_up() {
                continue; // its state says why; no one waits on it
            }
            let name = agent.name().to_string();
            asks.push(tokio::spawn(async move {
                let answer = tokio::time::timeout(AGENT_DEADLINE, client.get::<T>(&path)).await;
                (name, answer)
            }));
        }
        let mut out = Vec::new();
        for ask in asks {
            let Ok((name, answer)) = ask.await else {
                continue;
            };
            match answer {
                Ok(Ok(value)) => out.push((name, value)),
                Ok(Err(e)) => tracing::debug!("agent {name}: {e}"),
                Err(_) => tracing::warn!("agent {name}: no answer within {AGENT_DEADLINE:?}"),
            }
        }
        out
    }

    /// A trace's spans from every agent that holds some; `None` if none does.
    pub async fn trace(&self, trace_id: &str) -> Option<Vec<Span>> {
        let path = format!("/api/v1/traces/{trace_id}");
        let parts: Vec<(String, Vec<Span>)> = self.ask(|_| Some(path.clone())).await;
        if parts.is_empty() {
            return None;
        }
        let mut spans: Vec<Span> = parts
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
        Some(spans)
    }

    /// Every agent's services with their operations, as one list.
    pub async fn services<T: DeserializeOwned + Send + 'static>(&self) -> Vec<T> {
        self.ask::<Vec<T>>(|_| Some("/api/v1/services".into()))
            .await
            .into_iter()
            .flat_map(|(_, s)| s)
            .collect()
    }

    /// Series over a range from the agents that can hold them (a filter on
    /// a node or task goes to its agent only), with fleet ids in their tags.
    pub async fn series(&self, filter: &Filter, from: i64, to: i64, step: i64) -> Vec<Series> {
        let answers: Vec<(String, SeriesRange)> = self
            .ask(|agent| {
                let down = rename::filter_for(agent, filter)?;
                let mut q = form_urlencoded::Serializer::new(String::new());
                for name in &down.names {
                    q.append_pair("name", name);
                }
                for tag in &down.tags {
                    q.append_pair("tag", tag);
                }
                q.append_pair("from", &from.to_string());
                q.append_pair("to", &to.to_string());
                q.append_pair("step", &format!("{step}ms"));
                Some(format!("/api/v1/metrics/series?{}", q.finish()))
            })
            .await;
        answers
            .into_iter()
            .flat_map(|(agent, range)| {
                range
                    .series
                    .into_iter()
                    .map(move |s| rename::series(&agent, s))
            })
            .collect()
    }
}
