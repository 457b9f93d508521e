//! `day2top describe TASK|NODE`: one object in full, as `kubectl
//! describe` shows a pod: its fields, its state history, its checks and
//! (a task's) last error lines, (a node's) its tasks; or all of that as
//! one JSON or YAML document.

use std::io::Write;

use serde::Serialize;

use super::output::{self, Format, time, visible};
use super::{EXIT_NOT_FOUND, Failure};
use crate::api::{Check, LogEntry, Node, Task, now_millis};
use crate::client::{Client, ClientError};
use crate::tui::widgets::units::{age, bytes};

/// Error lines a task's description ends with, at most.
const ERRORS: usize = 5;

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Described {
    Task {
        task: Task,
        /// Its node's hostname.
        node: String,
        checks: Vec<Check>,
        /// Its last lines of priority err or worse, oldest first.
        errors: Vec<LogEntry>,
    },
    Node {
        node: Node,
        tasks: Vec<Task>,
        checks: Vec<Check>,
    },
}

#[derive(serde::Deserialize)]
struct Item<T> {
    item: T,
}

#[derive(serde::Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

pub async fn run(
    client: &Client,
    name: &str,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let described = match super::task_id(client, name, None).await {
        Ok(id) => task(client, &id).await?,
        Err(e) if e.code == EXIT_NOT_FOUND => match node(client, name).await? {
            Some(node) => node,
            None => {
                return Err(Failure::new(
                    EXIT_NOT_FOUND,
                    format!("no task or node with the id or name {name:?}"),
                ));
            }
        },
        Err(e) => return Err(e),
    };
    match format {
        Format::Json | Format::Yaml => output::document(out, format, &described),
        Format::Ndjson => output::one(out, Format::Ndjson, &described),
        Format::Table | Format::Wide => {
            let text = words(&described);
            out.write_all(text.as_bytes()).map_err(Failure::io)
        }
    }
}

fn path(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn task(client: &Client, id: &str) -> Result<Described, Failure> {
    let Item { item: task } = client
        .get::<Item<Task>>(&format!("/api/v1/tasks/{}", path(id)))
        .await?;
    let node = match client
        .get::<Item<Node>>(&format!("/api/v1/nodes/{}", path(&task.node_id)))
        .await
    {
        Ok(Item { item }) => item.hostname,
        Err(_) => task.node_id.clone(),
    };
    let Items { items: checks } = client
        .get::<Items<Check>>(&format!("/api/v1/health?task={}", path(id)))
        .await?;
    let text = client
        .get_text(&format!(
            "/api/v1/logs?task={}&priority=3&limit={ERRORS}",
            path(id)
        ))
        .await?;
    let errors = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Ok(Described::Task {
        task,
        node,
        checks,
        errors,
    })
}

async fn node(client: &Client, name: &str) -> Result<Option<Described>, Failure> {
    let Items { items: nodes } = client.get::<Items<Node>>("/api/v1/nodes").await?;
    let Some(node) = nodes
        .into_iter()
        .find(|n| n.id == name || n.hostname == name)
    else {
        return Ok(None);
    };
    let Items { items: mut tasks } = client
        .get::<Items<Task>>(&format!("/api/v1/tasks?node={}", path(&node.id)))
        .await?;
    tasks.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let checks = match client
        .get::<Items<Check>>(&format!("/api/v1/health?node={}", path(&node.id)))
        .await
    {
        Ok(Items { items }) => items,
        Err(ClientError::Api(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    Ok(Some(Described::Node {
        node,
        tasks,
        checks,
    }))
}

/// The description in words, a field a line.
fn words(d: &Described) -> String {
    let now = now_millis();
    let mut out = String::new();
    let mut field = |name: &str, value: String| {
        out.push_str(&format!("{:<12}{}\n", format!("{name}:"), visible(&value)));
    };
    let labels = |l: &crate::api::Labels| {
        l.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut rest = String::new();
    let checks_of = |checks: &[Check], rest: &mut String| {
        rest.push_str("Checks:\n");
        if checks.is_empty() {
            rest.push_str("  none\n");
        }
        for c in checks {
            rest.push_str(&format!(
                "  {:<8} {}  {}\n",
                c.status.as_str(),
                visible(&c.name),
                visible(&c.last_output)
            ));
        }
    };
    match d {
        Described::Task {
            task: t,
            node,
            checks,
            errors,
        } => {
            field("Name", t.name.clone());
            field("Id", t.id.clone());
            field("Group", t.group.clone());
            field("Node", format!("{node} ({})", t.node_id));
            field(
                "State",
                format!("{} since {}", t.state.as_str(), time(t.updated)),
            );
            field("Health", t.health.as_str().to_string());
            field("Version", t.version.clone());
            field(
                "Started",
                format!("{} ({} ago)", time(t.started), age(now - t.started)),
            );
            let limit = |v: String, l: bool| if l { v } else { "none".into() };
            field(
                "CPU",
                format!(
                    "{:.2} cores (limit {})",
                    t.cpu,
                    limit(format!("{:.2}", t.cpu_limit), t.cpu_limit > 0.0)
                ),
            );
            field(
                "Memory",
                format!(
                    "{} (limit {})",
                    bytes(t.mem_bytes as f64),
                    limit(bytes(t.mem_limit as f64), t.mem_limit > 0)
                ),
            );
            field("Labels", labels(&t.labels));
            rest.push_str("States:\n");
            for s in &t.statuses {
                rest.push_str(&format!(
                    "  {}  {:<9} {}\n",
                    time(s.at),
                    s.state.as_str(),
                    visible(&s.message)
                ));
            }
            checks_of(checks, &mut rest);
            rest.push_str("Last errors:\n");
            if errors.is_empty() {
                rest.push_str("  none held\n");
            }
            for e in errors {
                rest.push_str(&format!("  {}  {}\n", time(e.ts), visible(&e.message)));
            }
        }
        Described::Node {
            node: n,
            tasks,
            checks,
        } => {
            field("Name", n.hostname.clone());
            field("Id", n.id.clone());
            field("Role", n.role.clone());
            field("Address", n.addresses.join(", "));
            field("Health", n.health.as_str().to_string());
            field("OS", n.os.clone());
            field(
                "Up",
                format!("since {} ({})", time(n.boot_time), age(now - n.boot_time)),
            );
            field(
                "CPU",
                format!(
                    "{:.1}% of {} cores, load {:.2} {:.2} {:.2}",
                    n.usage.cpu_percent,
                    n.capacity.cpus,
                    n.usage.load[0],
                    n.usage.load[1],
                    n.usage.load[2]
                ),
            );
            field(
                "Memory",
                format!(
                    "{} of {}",
                    bytes(n.usage.mem_bytes as f64),
                    bytes(n.capacity.mem_bytes as f64)
                ),
            );
            for d in &n.disks {
                field(
                    "Disk",
                    format!(
                        "{} {} of {} ({})",
                        d.mount,
                        bytes(d.used_bytes as f64),
                        bytes(d.total_bytes as f64),
                        d.device
                    ),
                );
            }
            if let Some(since) = n.unreachable_since {
                field("Unreachable", format!("since {}", time(since)));
            }
            field("Labels", labels(&n.labels));
            rest.push_str(&format!("Tasks ({}):\n", tasks.len()));
            for t in tasks {
                rest.push_str(&format!(
                    "  {:<9} {:<9} {}  {}\n",
                    t.state.as_str(),
                    t.health.as_str(),
                    visible(&t.name),
                    visible(&t.id)
                ));
            }
            checks_of(checks, &mut rest);
        }
    }
    out + &rest
}
