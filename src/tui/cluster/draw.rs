//! The landing view: task counts by state, every node with live CPU and
//! memory sparklines, and the most recent task state changes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::api::TaskState;
use crate::tui::config::theme::Role;
use crate::tui::feature::Scene;
use crate::tui::model::{CPU_SERIES, MEM_SERIES};
use crate::tui::tables::state::TableState;
use crate::tui::widgets::sparkline::sparkline;
use crate::tui::widgets::text::{inert, pad};
use crate::tui::widgets::units::age;

/// The three boxes: task counts, nodes, changes.
fn split(body: Rect) -> [Rect; 3] {
    let counts_h = 3.min(body.height);
    let rest = body.height - counts_h;
    let nodes_h = if rest >= 8 {
        (rest * 3 / 5).max(4)
    } else {
        rest
    };
    let changes_h = rest - nodes_h;
    [
        Rect {
            height: counts_h,
            ..body
        },
        Rect {
            y: body.y + counts_h,
            height: nodes_h,
            ..body
        },
        Rect {
            y: body.y + counts_h + nodes_h,
            height: changes_h,
            ..body
        },
    ]
}

/// Node rows that fit in the cluster view's node box.
pub fn node_rows(body: Rect) -> usize {
    split(body)[1].height.saturating_sub(3) as usize
}

pub fn state_role(state: TaskState) -> Role {
    match state {
        TaskState::Running => Role::Ok,
        TaskState::Staging | TaskState::Starting => Role::Info,
        TaskState::Finished => Role::Muted,
        TaskState::Killed => Role::Warn,
        TaskState::Failed | TaskState::Lost => Role::Error,
    }
}

pub fn draw(frame: &mut Frame, body: Rect, scene: &Scene, cluster: &TableState) {
    let [counts, nodes, changes] = split(body);
    draw_counts(frame, counts, scene);
    draw_nodes(frame, nodes, scene, cluster);
    draw_changes(frame, changes, scene);
}

fn boxed<'a>(scene: &Scene, title: String) -> Block<'a> {
    let theme = &scene.defs.theme;
    let mut spans = vec![Span::styled(format!(" {title} "), theme.style(Role::Title))];
    if scene.model.is_stale() {
        spans.push(Span::styled("stale ", theme.style(Role::Warn)));
    }
    Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Line::from(spans))
}

fn draw_counts(frame: &mut Frame, area: Rect, scene: &Scene) {
    let theme = &scene.defs.theme;
    let block = boxed(scene, format!("Tasks {}", scene.model.tasks.len()));
    // Only the states some task is in: the line must fit 80 columns.
    let mut spans = Vec::new();
    for state in TaskState::ALL {
        let n = scene.model.tasks_by_state.get(&state).copied().unwrap_or(0);
        if n > 0 {
            spans.push(Span::styled(
                format!("{n} "),
                theme.style(state_role(state)),
            ));
            spans.push(Span::styled(
                format!("{}  ", state.as_str()),
                theme.style(Role::Muted),
            ));
        }
    }
    // The checks, at the right of the title: failing ones in the error
    // colour (H opens them).
    let checks = scene.model.checks.len();
    let block = match (checks, scene.model.failing_checks()) {
        (0, _) => block,
        (n, 0) => block.title_top(
            Line::from(Span::styled(
                format!(" {n} checks passing "),
                theme.style(Role::Ok),
            ))
            .right_aligned(),
        ),
        (n, failing) => block.title_top(
            Line::from(vec![
                Span::styled(format!(" {failing} failing "), theme.style(Role::Error)),
                Span::styled(format!("of {n} checks "), theme.style(Role::Muted)),
            ])
            .right_aligned(),
        ),
    };
    frame.render_widget(Paragraph::new(Line::from(spans)).block(block), area);
}

/// A node's series as a sparkline of `width` cells, on a 0–100 scale.
fn spark(scene: &Scene, name: &str, node: &str, width: u16) -> String {
    match scene.model.node_history(name, node) {
        Some(ring) => sparkline(ring.iter(), 100.0, width as usize),
        None => " ".repeat(width as usize),
    }
}

fn draw_nodes(frame: &mut Frame, area: Rect, scene: &Scene, cluster: &TableState) {
    let theme = &scene.defs.theme;
    let state = &cluster;
    let block = boxed(scene, format!("Nodes {}", scene.model.nodes.len()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 2 || inner.width == 0 {
        return;
    }
    // NAME ROLE HEALTH TASKS CPU% [spark] MEM% [spark]
    let fixed: u16 = 16 + 1 + 12 + 1 + 9 + 1 + 5 + 1 + 6 + 1 + 6 + 1;
    let spark_w = inner.width.saturating_sub(fixed + 1) / 2;
    let header = format!(
        "{} {} {} {} {} {} {}",
        pad("NAME", 16, false),
        pad("ROLE", 12, false),
        pad("HEALTH", 9, false),
        pad("TASKS", 5, true),
        pad("CPU%", 6, true),
        pad("", spark_w as usize, false),
        pad("MEM%", 6, true),
    );
    frame.render_widget(
        Paragraph::new(Span::styled(header, theme.style(Role::TableHeader))),
        Rect { height: 1, ..inner },
    );
    for (row, (index, id)) in state
        .ids()
        .enumerate()
        .skip(state.offset)
        .take(inner.height as usize - 1)
        .enumerate()
    {
        let Some(node) = scene.model.nodes.get(id) else {
            continue;
        };
        let y = inner.y + 1 + row as u16;
        let selected = index == state.cursor;
        let base = if selected {
            theme.style(Role::Selection)
        } else {
            theme.style(Role::Text)
        };
        let health_role = match node.health {
            crate::api::Health::Healthy => Role::Ok,
            crate::api::Health::Unhealthy => Role::Error,
            crate::api::Health::Unknown => Role::Muted,
        };
        let mem_pct = if node.capacity.mem_bytes > 0 {
            100.0 * node.usage.mem_bytes as f64 / node.capacity.mem_bytes as f64
        } else {
            0.0
        };
        let cell = |role: Role| if selected { base } else { theme.style(role) };
        let load_role = |pct: f64| {
            if pct > 90.0 {
                Role::Error
            } else if pct > 70.0 {
                Role::Warn
            } else {
                Role::Text
            }
        };
        let running = scene
            .model
            .running_per_node
            .get(node.id.as_str())
            .copied()
            .unwrap_or(0);
        let left = Line::from(vec![
            Span::styled(pad(&inert(&node.hostname), 16, false), base),
            Span::styled(" ", base),
            Span::styled(pad(&inert(&node.role), 12, false), cell(Role::Muted)),
            Span::styled(" ", base),
            Span::styled(pad(node.health.as_str(), 9, false), cell(health_role)),
            Span::styled(" ", base),
            Span::styled(pad(&running.to_string(), 5, true), base),
            Span::styled(" ", base),
            Span::styled(
                pad(&format!("{:.1}", node.usage.cpu_percent), 6, true),
                cell(load_role(node.usage.cpu_percent)),
            ),
            Span::styled(" ", base),
        ]);
        let left_w = (fixed - 6 - 1).min(inner.width);
        frame.render_widget(
            Paragraph::new(left).style(base),
            Rect::new(inner.x, y, left_w, 1),
        );
        let mut x = inner.x + left_w;
        if spark_w > 0 {
            let cpu = spark(scene, CPU_SERIES, &node.id, spark_w);
            frame.render_widget(
                Span::styled(cpu, theme.style(Role::Sparkline)),
                Rect::new(x, y, spark_w, 1),
            );
            x += spark_w;
        }
        let mem_w = 8.min(inner.right().saturating_sub(x));
        frame.render_widget(
            Paragraph::new(Span::styled(
                pad(&format!("{mem_pct:.1}"), 7, true),
                cell(load_role(mem_pct)),
            )),
            Rect::new(x, y, mem_w, 1),
        );
        x += mem_w;
        let rest = inner.right().saturating_sub(x + 1);
        if rest > 0 {
            let mem = spark(scene, MEM_SERIES, &node.id, rest);
            frame.render_widget(
                Span::styled(mem, theme.style(Role::SparklineAlt)),
                Rect::new(x + 1, y, rest, 1),
            );
        }
    }
}

fn draw_changes(frame: &mut Frame, area: Rect, scene: &Scene) {
    if area.height == 0 {
        return;
    }
    let theme = &scene.defs.theme;
    let block = boxed(scene, "Recent state changes".to_string());
    let inner = block.inner(area);
    let lines: Vec<Line> = scene
        .model
        .changes
        .iter()
        .take(inner.height as usize)
        .map(|c| {
            let from = c.from.map(|s| s.as_str()).unwrap_or("new");
            Line::from(vec![
                Span::styled(
                    pad(&age(scene.now - c.at), 7, true),
                    theme.style(Role::Muted),
                ),
                Span::raw(" "),
                Span::styled(
                    pad(&inert(&c.task_name), 20, false),
                    theme.style(Role::Text),
                ),
                Span::raw(" "),
                Span::styled(pad(from, 8, true), theme.style(Role::Muted)),
                Span::styled(" → ", theme.style(Role::Muted)),
                Span::styled(pad(c.to.as_str(), 8, false), theme.style(state_role(c.to))),
                Span::raw(" "),
                Span::styled(
                    pad(&inert(scene.model.node_name(&c.node_id)), 14, false),
                    theme.style(Role::Muted),
                ),
                Span::raw(" "),
                Span::styled(inert(&c.message).into_owned(), theme.style(Role::Muted)),
            ])
        })
        .collect();
    let empty = lines.is_empty();
    frame.render_widget(Paragraph::new(lines).block(block), area);
    if empty && inner.height > 0 {
        frame.render_widget(
            Paragraph::new(Span::styled("no changes yet", theme.style(Role::Muted))),
            inner,
        );
    }
}
