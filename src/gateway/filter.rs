//! Which records a subscription or a REST query wants.

use crate::api::{FieldValue, Filter, LogEntry, Node, Record, Sample, Series, Task};

/// A [`Filter`] parsed once, matched many times.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    node: Option<String>,
    state: Option<String>,
    q: Option<String>,
    names: Vec<String>,
    tags: Vec<(String, String)>,
    task: Option<String>,
    unit: Option<String>,
    priority: Option<u8>,
    fields: Vec<(String, String)>,
    regex: Option<regex::Regex>,
    /// Points a metrics snapshot carries at most.
    pub points: Option<usize>,
}

impl Matcher {
    pub fn new(filter: &Filter) -> Result<Matcher, String> {
        let mut tags = Vec::with_capacity(filter.tags.len());
        for tag in &filter.tags {
            let (k, v) = tag
                .split_once(':')
                .ok_or_else(|| format!("tag filter {tag:?} is not of the form key:value"))?;
            tags.push((k.to_string(), v.to_string()));
        }
        if let Some(state) = &filter.state
            && crate::api::TaskState::parse(state).is_none()
        {
            return Err(format!(
                "unknown task state {state:?}; one of staging, starting, running, finished, failed, killed, lost"
            ));
        }
        let mut fields = Vec::with_capacity(filter.matches.len());
        for m in &filter.matches {
            let (k, v) = m
                .split_once('=')
                .ok_or_else(|| format!("match {m:?} is not of the form FIELD=value"))?;
            fields.push((k.to_string(), v.to_string()));
        }
        if filter.priority.is_some_and(|p| p > 7) {
            return Err("priority is 0 (emerg) to 7 (debug)".into());
        }
        let regex = match filter.regex.as_deref().filter(|r| !r.is_empty()) {
            Some(r) => Some(
                regex::RegexBuilder::new(r)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("regex {r:?}: {e}"))?,
            ),
            None => None,
        };
        Ok(Matcher {
            task: filter.task.clone().filter(|s| !s.is_empty()),
            unit: filter.unit.clone().filter(|s| !s.is_empty()),
            priority: filter.priority,
            fields,
            regex,
            points: filter.points,
            node: filter.node.clone().filter(|s| !s.is_empty()),
            state: filter.state.clone().filter(|s| !s.is_empty()),
            q: filter
                .q
                .as_ref()
                .filter(|s| !s.is_empty())
                .map(|s| s.to_lowercase()),
            names: filter.names.clone(),
            tags,
        })
    }

    pub fn matches(&self, record: &Record) -> bool {
        match record {
            Record::Node(node) => self.matches_node(node),
            Record::Task(task) => self.matches_task(task),
            Record::Sample(Sample { name, tags, .. })
            | Record::Series(Series { name, tags, .. }) => self.matches_series(name, tags),
            Record::Log(entry) => self.matches_log(entry),
            Record::Check(check) => self.matches_check(check),
            Record::Trace(t) => self
                .q
                .as_ref()
                .is_none_or(|q| t.services.iter().any(|s| s == q)),
            Record::Audit(a) => self.task.as_ref().is_none_or(|t| &a.task == t),
        }
    }

    /// A check linked to the node and task asked for, if any were.
    pub fn matches_check(&self, check: &crate::api::Check) -> bool {
        self.node
            .as_ref()
            .is_none_or(|n| check.node_id.as_ref() == Some(n))
            && self
                .task
                .as_ref()
                .is_none_or(|t| check.task_id.as_ref() == Some(t))
    }

    pub fn matches_log(&self, entry: &LogEntry) -> bool {
        let same = |want: &Option<String>, have: &Option<String>| {
            want.as_ref().is_none_or(|w| have.as_ref() == Some(w))
        };
        self.node.as_ref().is_none_or(|n| &entry.node == n)
            && same(&self.task, &entry.task)
            && same(&self.unit, &entry.unit)
            && self.priority.is_none_or(|p| entry.priority <= p)
            && self.fields.iter().all(|(k, v)| log_field_is(entry, k, v))
            && self
                .regex
                .as_ref()
                .is_none_or(|r| r.is_match(&entry.message))
    }

    pub fn matches_node(&self, node: &Node) -> bool {
        self.q
            .as_ref()
            .is_none_or(|q| contains_lower(&node.id, q) || contains_lower(&node.hostname, q))
    }

    pub fn matches_task(&self, task: &Task) -> bool {
        self.node.as_ref().is_none_or(|n| &task.node_id == n)
            && self.state.as_ref().is_none_or(|s| task.state.as_str() == s)
            && self.q.as_ref().is_none_or(|q| {
                contains_lower(&task.id, q)
                    || contains_lower(&task.name, q)
                    || contains_lower(&task.group, q)
            })
    }

    pub fn matches_series(&self, name: &str, tags: &crate::api::Labels) -> bool {
        let name_ok = self.names.is_empty()
            || self
                .names
                .iter()
                .any(|pattern| match pattern.strip_suffix('*') {
                    Some(prefix) => name.starts_with(prefix),
                    None => name == pattern,
                });
        name_ok
            && self
                .tags
                .iter()
                .all(|(k, v)| tags.get(k).is_some_and(|actual| actual == v))
    }
}

/// Whether a log field has a value, by its journald name or ours.
fn log_field_is(entry: &LogEntry, field: &str, value: &str) -> bool {
    let ours = match field {
        "_SYSTEMD_UNIT" | "unit" => entry.unit.as_deref(),
        "SYSLOG_IDENTIFIER" | "identifier" => entry.identifier.as_deref(),
        "_HOSTNAME" | "node" => Some(entry.node.as_str()),
        "task" => entry.task.as_deref(),
        "file" => entry.file.as_deref(),
        "stream" => entry.stream.as_deref(),
        "PRIORITY" => return entry.priority.to_string() == value,
        "MESSAGE" => Some(entry.message.as_str()),
        _ => None,
    };
    if ours == Some(value) {
        return true;
    }
    fn has(v: &FieldValue, value: &str) -> bool {
        match v {
            FieldValue::Text(t) => t == value,
            FieldValue::Many(vs) => vs.iter().any(|v| has(v, value)),
            FieldValue::Bytes { .. } => false,
        }
    }
    entry.fields.get(field).is_some_and(|v| has(v, value))
}

fn contains_lower(haystack: &str, needle_lower: &str) -> bool {
    haystack.to_lowercase().contains(needle_lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_filters_say_what_is_wrong() {
        let err = Matcher::new(&Filter {
            tags: vec!["node_id".into()],
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.contains("key:value"), "{err}");
        let err = Matcher::new(&Filter {
            state: Some("sleeping".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.contains("unknown task state"), "{err}");
    }

    #[test]
    fn metric_names_match_by_prefix() {
        let m = Matcher::new(&Filter {
            names: vec!["node.cpu*".into()],
            tags: vec!["node_id:a".into()],
            ..Default::default()
        })
        .unwrap();
        let mut tags = crate::api::Labels::new();
        tags.insert("node_id".to_string(), "a".to_string());
        assert!(m.matches_series("node.cpu.percent", &tags));
        assert!(!m.matches_series("node.mem.percent", &tags));
        tags.insert("node_id".to_string(), "b".to_string());
        assert!(!m.matches_series("node.cpu.percent", &tags));
    }
}
