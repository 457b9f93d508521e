//! The nodes and tasks tables: columns from the view definition, only the
//! visible rows drawn, so 10,000 rows cost what 50 do.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::tui::config::theme::Role;
use crate::tui::config::viewdef::{Align, TableDef};
use crate::tui::feature::Scene;
use crate::tui::model::{SUB_AGENTS, SUB_HEALTH, SUB_NODES, SUB_TASKS, SUB_TRACES};
use crate::tui::tables::Tables;
use crate::tui::tables::fields::{self, Value};
use crate::tui::tables::state::TableState;
use crate::tui::widgets::text::{inert, pad};

/// Table rows that fit in a body of this size (borders and header taken off).
pub fn rows_height(body: Rect) -> usize {
    body.height.saturating_sub(3) as usize
}

pub fn draw_nodes(frame: &mut Frame, area: Rect, scene: &Scene, tables: &Tables) {
    let title = scene.defs.nodes_view.title.clone();
    draw(
        frame,
        area,
        scene,
        &scene.defs.nodes_view,
        &tables.nodes,
        SUB_NODES,
        title,
        scene.model.nodes.len(),
        |id, field| {
            scene
                .model
                .nodes
                .get(id)
                .map(|n| fields::node_field(n, field, scene.model))
        },
    );
}

pub fn draw_tasks(
    frame: &mut Frame,
    area: Rect,
    scene: &Scene,
    tables: &Tables,
    node: Option<&str>,
) {
    let (scope, total) = match node {
        Some(id) => (
            inert(scene.model.node_name(id)).into_owned(),
            scene.model.tasks_per_node.get(id).copied().unwrap_or(0),
        ),
        None => ("all".to_string(), scene.model.tasks.len()),
    };
    let title = format!("{}({scope})", scene.defs.tasks_view.title);
    draw(
        frame,
        area,
        scene,
        &scene.defs.tasks_view,
        &tables.tasks,
        SUB_TASKS,
        title,
        total,
        |id, field| {
            scene
                .model
                .tasks
                .get(id)
                .map(|t| fields::task_field(t, field, scene.model))
        },
    );
}

pub fn draw_traces(frame: &mut Frame, area: Rect, scene: &Scene, tables: &Tables) {
    let f = &tables.trace_filter;
    let mut scope = Vec::new();
    if let Some(s) = &f.service {
        scope.push(inert(s).into_owned());
    }
    if let Some(d) = f.min_duration {
        scope.push(format!(">{}ms", d / 1_000_000));
    }
    if f.errors_only {
        scope.push("errors".into());
    }
    if let Some(id) = &f.task {
        let name = scene
            .model
            .tasks
            .get(id.as_str())
            .map_or(id.as_str(), |t| &t.name);
        scope.push(format!("in {}", inert(name)));
    }
    if let Some(w) = f.window {
        scope.push(w.label(scene.zone, scene.now));
    }
    let title = match scope.is_empty() {
        true => scene.defs.traces_view.title.clone(),
        false => format!("{}({})", scene.defs.traces_view.title, scope.join(" ")),
    };
    draw(
        frame,
        area,
        scene,
        &scene.defs.traces_view,
        &tables.traces,
        SUB_TRACES,
        title,
        scene.model.traces.len(),
        |id, field| {
            scene
                .model
                .traces
                .get(id)
                .map(|t| fields::trace_field(t, field, scene.model))
        },
    );
}

pub fn draw_agents(frame: &mut Frame, area: Rect, scene: &Scene, tables: &Tables) {
    let down = scene
        .model
        .agents
        .values()
        .filter(|a| a.state != crate::api::AgentState::Up)
        .count();
    let title = match down {
        0 => scene.defs.agents_view.title.clone(),
        n => format!("{}({n} not up)", scene.defs.agents_view.title),
    };
    draw(
        frame,
        area,
        scene,
        &scene.defs.agents_view,
        &tables.agents,
        SUB_AGENTS,
        title,
        scene.model.agents.len(),
        |id, field| (scene.model.agents.get(id)).map(|a| fields::agent_field(a, field)),
    );
}

pub fn draw_health(frame: &mut Frame, area: Rect, scene: &Scene, tables: &Tables) {
    let failing = scene.model.failing_checks();
    let of = tables.check_task.as_ref().map(|id| {
        let name = scene
            .model
            .tasks
            .get(id.as_str())
            .map_or(id.as_str(), |t| &t.name);
        format!("of {}", inert(name))
    });
    let title = match (failing, of) {
        (0, None) => scene.defs.health_view.title.clone(),
        (0, Some(of)) => format!("{}({of})", scene.defs.health_view.title),
        (n, None) => format!("{}({n} failing)", scene.defs.health_view.title),
        (n, Some(of)) => format!(
            "{}({of} · {n} failing in all)",
            scene.defs.health_view.title
        ),
    };
    draw(
        frame,
        area,
        scene,
        &scene.defs.health_view,
        &tables.health,
        SUB_HEALTH,
        title,
        scene.model.checks.len(),
        |id, field| {
            scene
                .model
                .checks
                .get(id)
                .map(|c| fields::check_field(c, field, scene.model))
        },
    );
}

#[allow(clippy::too_many_arguments)]
fn draw<'a>(
    frame: &mut Frame,
    area: Rect,
    scene: &'a Scene<'a>,
    def: &TableDef,
    state: &TableState,
    // The subscription that fills the table.
    sub: &str,
    title: String,
    total: usize,
    value: impl Fn(&str, &str) -> Option<Value<'a>>,
) {
    let theme = &scene.defs.theme;
    let mut title_spans = vec![
        Span::styled(format!(" {title}"), theme.style(Role::Title)),
        Span::styled(
            format!("[{}/{total}] ", state.len()),
            theme.style(Role::Muted),
        ),
    ];
    if let Some(filter) = &state.filter {
        title_spans.push(Span::styled(
            format!("</{}> ", inert(&filter.text)),
            theme.style(Role::Accent),
        ));
    }
    if scene.model.is_stale() {
        title_spans.push(Span::styled("stale ", theme.style(Role::Warn)));
    }
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Line::from(title_spans));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let columns = def.layout(inner.width, &scene.model.source);

    let mut header = Vec::with_capacity(columns.len() * 2);
    for (n, (i, width)) in columns.iter().enumerate() {
        let column = &def.columns[*i];
        let sorted = *i == state.sort.min(def.columns.len() - 1);
        let mut label = column.title.clone();
        if sorted {
            label.push(if state.descending { '↓' } else { '↑' });
        }
        if n > 0 {
            header.push(Span::raw(" "));
        }
        let role = if sorted {
            Role::Sorted
        } else {
            Role::TableHeader
        };
        header.push(Span::styled(
            pad(&label, *width as usize, column.align == Align::Right),
            theme.style(role),
        ));
    }
    frame.render_widget(
        Paragraph::new(Line::from(header)),
        Rect { height: 1, ..inner },
    );

    let body = Rect {
        y: inner.y + 1,
        height: inner.height - 1,
        ..inner
    };
    if state.is_empty() {
        let what = if sub == SUB_AGENTS && scene.model.has_snapshot(sub) && !scene.model.is_fleet()
        {
            "this gateway is no hub, so it has no agents (day2top gateway --agents FILE makes one)"
        } else if !scene.model.has_snapshot(sub) {
            "loading: the gateway is still sending these"
        } else if state.filter.is_some() {
            "nothing matches the filter (Esc clears it)"
        } else {
            "nothing here yet"
        };
        frame.render_widget(
            Paragraph::new(Span::styled(what, theme.style(Role::Muted))),
            body,
        );
        return;
    }
    let visible = state
        .ids()
        .enumerate()
        .skip(state.offset)
        .take(body.height as usize);
    let mut lines = Vec::with_capacity(body.height as usize);
    for (index, id) in visible {
        let selected = index == state.cursor;
        let base = if selected {
            theme.style(Role::Selection)
        } else {
            Style::default()
        };
        let mut spans = Vec::with_capacity(columns.len() * 2);
        for (n, (i, width)) in columns.iter().enumerate() {
            let column = &def.columns[*i];
            let v = value(id, &column.field).unwrap_or(Value::Missing);
            let (text, role) = fields::cell(column, &v, scene.now);
            if n > 0 {
                spans.push(Span::styled(" ", base));
            }
            let style = match (selected, role) {
                (true, _) => base,
                (false, Some(role)) => theme.style(role),
                (false, None) => theme.style(Role::Text),
            };
            spans.push(Span::styled(
                pad(&text, *width as usize, column.align == Align::Right),
                style,
            ));
        }
        lines.push(Line::from(spans).style(base));
    }
    frame.render_widget(Paragraph::new(lines), body);
}
