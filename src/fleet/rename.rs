//! Records up from an agent take fleet ids; filters down to an agent lose
//! them. Both directions live here so they cannot disagree.

use crate::api::{
    Check, Filter, FleetCursor, LogEntry, Node, Sample, Series, Span, Task, fleet_id,
    split_fleet_id,
};

/// The label (and metric tag) naming the agent a node or task came from.
pub const AGENT_LABEL: &str = "agent";

pub fn node(agent: &str, mut node: Node) -> Node {
    node.id = fleet_id(agent, &node.id);
    node.labels.insert(AGENT_LABEL.into(), agent.into());
    node
}

pub fn task(agent: &str, mut task: Task) -> Task {
    task.id = fleet_id(agent, &task.id);
    task.node_id = fleet_id(agent, &task.node_id);
    task.labels.insert(AGENT_LABEL.into(), agent.into());
    task
}

/// Series tags that hold ids.
const ID_TAGS: [&str; 2] = ["node_id", "task_id"];

fn tags(agent: &str, tags: &mut crate::api::Labels) {
    for key in ID_TAGS {
        if let Some(id) = tags.get(key) {
            let id = fleet_id(agent, id);
            tags.insert(key.into(), id);
        }
    }
}

pub fn sample(agent: &str, mut sample: Sample) -> Sample {
    tags(agent, &mut sample.tags);
    sample
}

pub fn series(agent: &str, mut series: Series) -> Series {
    tags(agent, &mut series.tags);
    series
}

pub fn check(agent: &str, mut check: Check) -> Check {
    check.id = fleet_id(agent, &check.id);
    check.name = format!("{agent}: {}", check.name);
    check.node_id = check.node_id.map(|id| fleet_id(agent, &id));
    check.task_id = check.task_id.map(|id| fleet_id(agent, &id));
    check
}

pub fn log(agent: &str, mut entry: LogEntry) -> LogEntry {
    entry.cursor = FleetCursor::one(agent, &entry.cursor);
    entry.node = fleet_id(agent, &entry.node);
    entry.task = entry.task.map(|id| fleet_id(agent, &id));
    entry
}

pub fn span(agent: &str, mut span: Span) -> Span {
    span.node_id = span.node_id.map(|id| fleet_id(agent, &id));
    span.task_id = span.task_id.map(|id| fleet_id(agent, &id));
    span
}

/// The filter an agent is asked with, or `None` when the filter names
/// another agent's node or task (so the agent is not asked at all).
pub fn filter_for(agent: &str, filter: &Filter) -> Option<Filter> {
    let local = |id: &Option<String>| -> Option<Option<String>> {
        match id {
            None => Some(None),
            Some(id) => match split_fleet_id(id) {
                Some((a, local)) if a == agent => Some(Some(local.to_string())),
                _ => None,
            },
        }
    };
    let mut down = filter.clone();
    down.node = local(&filter.node)?;
    down.task = local(&filter.task)?;
    down.tags = Vec::with_capacity(filter.tags.len());
    for tag in &filter.tags {
        let key = tag.split_once(':').map(|(k, _)| k);
        match key.filter(|k| ID_TAGS.contains(k)) {
            Some(key) => {
                let value = &tag[key.len() + 1..];
                let local = local(&Some(value.to_string()))??;
                down.tags.push(format!("{key}:{local}"));
            }
            None => down.tags.push(tag.clone()),
        }
    }
    Some(down)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_naming_an_agents_task_goes_to_that_agent_only() {
        let f = Filter {
            task: Some("web1:1234".into()),
            tags: vec!["node_id:web1:web1".into(), "group:db".into()],
            ..Default::default()
        };
        let down = filter_for("web1", &f).unwrap();
        assert_eq!(down.task.as_deref(), Some("1234"));
        assert_eq!(down.tags, ["node_id:web1", "group:db"]);
        assert_eq!(filter_for("web2", &f), None);
        assert_eq!(
            filter_for("web2", &Filter::default()),
            Some(Filter::default())
        );
    }
}
