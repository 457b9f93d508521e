//! Long metric history from Prometheus (`--prometheus URL`): the series a
//! range read asks for, read with `query_range` at the read's step, and
//! joined to what the gateway holds, so a dashboard window reaches back
//! past the gateway's memory and through its restarts.
//!
//! Names and tags are mapped the way `/metrics` exposes them: a series
//! `node.cpu.percent{node_id=x}` is `day2top_node_cpu_percent{node_id="x"}`.
//! Through a hub, Prometheus scrapes the agents, each target labelled
//! `agent="NAME"`; a hub's fleet id `NAME:x` is then `agent="NAME",node_id="x"`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::api::{Filter, Labels, Series, UnixMillis, collected_name, sanitize, split_fleet_id};

/// How long a query may take before the read goes on without it.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Tags that hold ids (a hub's are fleet ids).
const ID_TAGS: [&str; 2] = ["node_id", "task_id"];
/// Labels Prometheus adds that are no tag of ours.
const SCRAPE_LABELS: [&str; 3] = ["__name__", "job", "instance"];

#[derive(Clone)]
pub struct History {
    http: reqwest::Client,
    base: String,
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    result: Vec<Matrix>,
}

#[derive(Deserialize)]
struct Matrix {
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    crate::api::push_quoted(&mut out, value);
    out
}

/// The PromQL selector of one name of a read (a trailing `*` is a prefix).
fn selector(name: &str, tags: &[String], fleet: bool) -> String {
    let mut matchers = Vec::new();
    match name.strip_suffix('*') {
        Some(prefix) => matchers.push(format!(
            "__name__=~{}",
            quoted(&format!("{}.*", regex::escape(&collected_name(prefix))))
        )),
        None => matchers.push(format!("__name__={}", quoted(&collected_name(name)))),
    }
    for tag in tags {
        let Some((key, value)) = tag.split_once(':') else {
            continue;
        };
        let key = sanitize(key);
        match (
            fleet && ID_TAGS.contains(&key.as_str()),
            split_fleet_id(value),
        ) {
            (true, Some((agent, local))) => {
                matchers.push(format!("agent={}", quoted(agent)));
                matchers.push(format!("{key}={}", quoted(local)));
            }
            _ => matchers.push(format!("{key}={}", quoted(value))),
        }
    }
    format!("{{{}}}", matchers.join(","))
}

impl History {
    pub fn new(url: &str) -> Result<History, String> {
        let base = url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!(
                "--prometheus {url:?} must start with http:// or https://"
            ));
        }
        let tls = super::tls_config(None)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .user_agent(super::USER_AGENT)
            .timeout(QUERY_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(History { http, base })
    }

    /// The series `filter` names over `from..=to`, a point a `step`.
    /// `fleet`: ids in the filter and the answer are a hub's fleet ids.
    pub async fn range(
        &self,
        filter: &Filter,
        from: UnixMillis,
        to: UnixMillis,
        step: i64,
        fleet: bool,
    ) -> Result<Vec<Series>, String> {
        let mut out = Vec::new();
        for name in &filter.names {
            let query = selector(name, &filter.tags, fleet);
            let params = form_urlencoded::Serializer::new(String::new())
                .append_pair("query", &query)
                .append_pair("start", &format!("{:.3}", from as f64 / 1000.0))
                .append_pair("end", &format!("{:.3}", to as f64 / 1000.0))
                .append_pair("step", &format!("{:.3}", step.max(1) as f64 / 1000.0))
                .finish();
            let request = self
                .http
                .get(format!("{}/api/v1/query_range?{params}", self.base));
            let answer: Answer = request
                .send()
                .await
                .map_err(|e| format!("Prometheus at {}: {}", self.base, super::error_chain(&e)))?
                .json()
                .await
                .map_err(|e| format!("Prometheus at {}: {e}", self.base))?;
            if answer.status != "success" {
                return Err(format!(
                    "Prometheus at {} refused {query}: {}",
                    self.base,
                    answer.error.unwrap_or_default()
                ));
            }
            for matrix in answer.data.map(|d| d.result).unwrap_or_default() {
                out.push(series_of(name, matrix, fleet));
            }
        }
        Ok(out)
    }
}

fn series_of(asked: &str, matrix: Matrix, fleet: bool) -> Series {
    let exposed = matrix.metric.get("__name__").cloned().unwrap_or_default();
    // A prefix read names what it found; an exact one, what it asked.
    let name = match asked.strip_suffix('*') {
        Some(_) => exposed.trim_start_matches("day2top_").replace('_', "."),
        None => asked.to_string(),
    };
    let agent = matrix.metric.get("agent").cloned();
    let mut tags = Labels::new();
    for (key, value) in matrix.metric {
        if SCRAPE_LABELS.contains(&key.as_str()) || (fleet && key == "agent") {
            continue;
        }
        let value = match (&agent, fleet && ID_TAGS.contains(&key.as_str())) {
            (Some(agent), true) => crate::api::fleet_id(agent, &value),
            _ => value,
        };
        tags.insert(key, value);
    }
    let points = matrix
        .values
        .into_iter()
        .filter_map(|(ts, v)| Some(((ts * 1000.0).round() as UnixMillis, v.parse().ok()?)))
        .collect();
    Series {
        name,
        tags,
        unit: String::new(),
        points,
    }
}

/// What the gateway holds, reaching back with history: per series, the
/// history's points before the first one held; series only in history
/// come whole. Units are the gateway's where it knows them.
pub fn join(held: Vec<Series>, history: Vec<Series>) -> Vec<Series> {
    let key = |s: &Series| crate::api::series_key(&s.name, &s.tags);
    let mut by_key: BTreeMap<String, Series> = held.into_iter().map(|s| (key(&s), s)).collect();
    for old in history {
        match by_key.get_mut(&key(&old)) {
            Some(held) => {
                let first = held.points.first().map_or(i64::MAX, |p| p.0);
                let mut points: Vec<(UnixMillis, f64)> =
                    old.points.into_iter().filter(|p| p.0 < first).collect();
                points.append(&mut held.points);
                held.points = points;
            }
            None => {
                by_key.insert(key(&old), old);
            }
        }
    }
    by_key.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_map_names_tags_and_fleet_ids() {
        assert_eq!(
            selector("node.cpu.percent", &["node_id:web1:db-1".into()], true),
            r#"{__name__="day2top_node_cpu_percent",agent="web1",node_id="db-1"}"#
        );
        assert_eq!(
            selector("node.cpu.percent", &["node_id:web1:db-1".into()], false),
            r#"{__name__="day2top_node_cpu_percent",node_id="web1:db-1"}"#
        );
        assert_eq!(
            selector("nodes", &[], false),
            r#"{__name__="day2top_collected_nodes"}"#
        );
        assert_eq!(
            selector("node.cpu.*", &[], false),
            r#"{__name__=~"day2top_node_cpu_.*"}"#
        );
    }

    #[test]
    fn history_reaches_back_before_what_is_held() {
        let s = |points: Vec<(i64, f64)>| Series {
            name: "x".into(),
            tags: Labels::of(&[("node_id", "a:n")]),
            unit: "percent".into(),
            points,
        };
        let joined = join(
            vec![s(vec![(30, 3.0), (40, 4.0)])],
            vec![s(vec![(10, 1.0), (20, 2.0), (30, 9.0)]), {
                let mut other = s(vec![(10, 5.0)]);
                other.name = "y".into();
                other
            }],
        );
        assert_eq!(
            joined[0].points,
            [(10, 1.0), (20, 2.0), (30, 3.0), (40, 4.0)]
        );
        assert_eq!(joined[0].unit, "percent");
        assert_eq!(joined[1].name, "y");
        // A series' matrix from Prometheus, through a hub.
        let matrix = Matrix {
            metric: [
                ("__name__", "day2top_x"),
                ("agent", "web1"),
                ("node_id", "n"),
                ("instance", "10.0.0.1:7070"),
                ("job", "day2top"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            values: vec![(1700000000.5, "2.5".into()), (1700000001.5, "NaNx".into())],
        };
        let series = series_of("x", matrix, true);
        assert_eq!(series.tags, Labels::of(&[("node_id", "web1:n")]));
        assert_eq!(series.points, [(1_700_000_000_500, 2.5)]);
    }
}
