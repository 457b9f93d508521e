//! Which records a subscription or a REST query wants.

use crate::api::{Filter, Node, Record, Sample, Series, Task};

/// A [`Filter`] parsed once, matched many times.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    node: Option<String>,
    state: Option<String>,
    q: Option<String>,
    names: Vec<String>,
    tags: Vec<(String, String)>,
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
        Ok(Matcher {
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
            Record::Node(node) => self
                .q
                .as_ref()
                .is_none_or(|q| contains_lower(&node.id, q) || contains_lower(&node.hostname, q)),
            Record::Task(task) => self.matches_task(task),
            Record::Sample(Sample { name, tags, .. })
            | Record::Series(Series { name, tags, .. }) => self.matches_series(name, tags),
        }
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

    pub fn matches_series(
        &self,
        name: &str,
        tags: &std::collections::BTreeMap<String, String>,
    ) -> bool {
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
        let mut tags = std::collections::BTreeMap::new();
        tags.insert("node_id".to_string(), "a".to_string());
        assert!(m.matches_series("node.cpu.percent", &tags));
        assert!(!m.matches_series("node.mem.percent", &tags));
        tags.insert("node_id".to_string(), "b".to_string());
        assert!(!m.matches_series("node.cpu.percent", &tags));
    }
}
