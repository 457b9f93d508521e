//! `day2top top`: one screenful of the cluster's figures for a terminal
//! that cannot run the console (a CI log, `watch`, a pager): the cluster's
//! counts, then the busiest nodes and tasks by CPU.

use std::io::Write;

use super::Failure;
use super::output::{Table, visible};
use crate::api::{ClusterInfo, Node, Task, TaskState};
use crate::client::Client;
use crate::tui::widgets::units::bytes;

#[derive(serde::Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

/// `rows`: how many nodes and how many tasks to show.
pub async fn run(client: &Client, rows: usize, out: &mut dyn Write) -> Result<(), Failure> {
    let info: ClusterInfo = client.get("/api/v1/cluster").await?;
    let Items { items: mut nodes } = client.get::<Items<Node>>("/api/v1/nodes").await?;
    let Items { items: mut tasks } = client.get::<Items<Task>>("/api/v1/tasks").await?;
    let Items { items: checks } = client
        .get::<Items<crate::api::Check>>("/api/v1/health")
        .await?;
    let failing = checks
        .iter()
        .filter(|c| c.status == crate::api::CheckStatus::Failing)
        .count();
    let states: Vec<String> = TaskState::ALL
        .iter()
        .filter_map(|s| {
            let n = info.tasks_by_state.get(s).copied().unwrap_or(0);
            (n > 0).then(|| format!("{n} {}", s.as_str()))
        })
        .collect();
    let unhealthy = nodes
        .iter()
        .filter(|n| n.health != crate::api::Health::Healthy)
        .count();
    let io = Failure::io;
    writeln!(
        out,
        "{} ({}): {} nodes, {} not healthy; {} checks failing",
        visible(&info.name),
        info.source,
        info.nodes,
        unhealthy,
        failing
    )
    .map_err(io)?;
    writeln!(out, "{} tasks: {}", info.tasks, states.join(", ")).map_err(io)?;
    let names: std::collections::HashMap<&str, &str> = nodes
        .iter()
        .map(|n| (n.id.as_str(), n.hostname.as_str()))
        .collect();
    let mut task_table = Table {
        headers: ["TASK", "NODE", "STATE", "CPU", "MEM", "GROUP"]
            .map(String::from)
            .to_vec(),
        right: vec![false, false, false, true, true, false],
        ..Default::default()
    };
    tasks.retain(|t| t.state == TaskState::Running);
    tasks.sort_by(|a, b| b.cpu.total_cmp(&a.cpu).then_with(|| a.id.cmp(&b.id)));
    for t in tasks.iter().take(rows) {
        task_table.rows.push(vec![
            t.name.clone(),
            names.get(t.node_id.as_str()).unwrap_or(&"?").to_string(),
            t.state.as_str().into(),
            format!("{:.2}", t.cpu),
            bytes(t.mem_bytes as f64),
            t.group.clone(),
        ]);
    }
    nodes.sort_by(|a, b| {
        b.usage
            .cpu_percent
            .total_cmp(&a.usage.cpu_percent)
            .then_with(|| a.hostname.cmp(&b.hostname))
    });
    let mut node_table = Table {
        headers: ["NODE", "ROLE", "HEALTH", "CPU%", "MEM%", "LOAD1"]
            .map(String::from)
            .to_vec(),
        right: vec![false, false, false, true, true, true],
        ..Default::default()
    };
    for n in nodes.iter().take(rows) {
        let mem = if n.capacity.mem_bytes > 0 {
            100.0 * n.usage.mem_bytes as f64 / n.capacity.mem_bytes as f64
        } else {
            0.0
        };
        node_table.rows.push(vec![
            n.hostname.clone(),
            n.role.clone(),
            n.health.as_str().into(),
            format!("{:.1}", n.usage.cpu_percent),
            format!("{mem:.1}"),
            format!("{:.2}", n.usage.load[0]),
        ]);
    }
    writeln!(out).map_err(io)?;
    for line in node_table.lines(true, true) {
        writeln!(out, "{line}").map_err(io)?;
    }
    writeln!(out).map_err(io)?;
    for line in task_table.lines(true, true) {
        writeln!(out, "{line}").map_err(io)?;
    }
    out.flush().map_err(io)
}
