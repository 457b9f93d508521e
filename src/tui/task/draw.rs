//! One task in full: every field, its labels, its recent state changes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::tui::cluster::draw::state_role;
use crate::tui::config::theme::Role;
use crate::tui::feature::Scene;
use crate::tui::widgets::text::inert;
use crate::tui::widgets::units::{age, bytes, number};

pub fn draw(frame: &mut Frame, area: Rect, scene: &Scene, id: &str) {
    let theme = &scene.defs.theme;
    let Some(task) = scene.model.tasks.get(id) else {
        let block = Block::bordered().border_style(theme.style(Role::Border));
        let text = format!(
            "task {} is gone: the gateway removed it (Esc goes back)",
            inert(id)
        );
        frame.render_widget(
            Paragraph::new(Span::styled(text, theme.style(Role::Muted))).block(block),
            area,
        );
        return;
    };
    let key = |k: &str| Span::styled(format!("{k:>10}  "), theme.style(Role::TableHeader));
    let plain = |v: String| Span::styled(v, theme.style(Role::Text));
    let limit = |used: String, limit: Option<String>| match limit {
        Some(l) => format!("{used} of {l}"),
        None => format!("{used} (no limit)"),
    };
    let health_role = match task.health {
        crate::api::Health::Healthy => Role::Ok,
        crate::api::Health::Unhealthy => Role::Error,
        crate::api::Health::Unknown => Role::Muted,
    };
    let mut lines = vec![
        Line::from(vec![key("id"), plain(inert(&task.id).into_owned())]),
        Line::from(vec![key("name"), plain(inert(&task.name).into_owned())]),
        Line::from(vec![key("group"), plain(inert(&task.group).into_owned())]),
        Line::from(vec![
            key("node"),
            plain(format!(
                "{} ({})",
                inert(scene.model.node_name(&task.node_id)),
                inert(&task.node_id)
            )),
        ]),
        Line::from(vec![
            key("state"),
            Span::styled(task.state.as_str(), theme.style(state_role(task.state))),
        ]),
        Line::from(vec![
            key("health"),
            Span::styled(task.health.as_str(), theme.style(health_role)),
        ]),
        Line::from(vec![
            key("cpu"),
            plain(limit(
                format!("{} cores", number(task.cpu)),
                (task.cpu_limit > 0.0).then(|| number(task.cpu_limit)),
            )),
        ]),
        Line::from(vec![
            key("memory"),
            plain(limit(
                bytes(task.mem_bytes as f64),
                (task.mem_limit > 0).then(|| bytes(task.mem_limit as f64)),
            )),
        ]),
        Line::from(vec![
            key("started"),
            plain(format!("{} ago", age(scene.now - task.started))),
        ]),
        Line::from(vec![
            key("updated"),
            plain(format!("{} ago", age(scene.now - task.updated))),
        ]),
        Line::from(vec![
            key("version"),
            plain(inert(&task.version).into_owned()),
        ]),
    ];
    for (i, (k, v)) in task.labels.iter().enumerate() {
        let label = if i == 0 { "labels" } else { "" };
        lines.push(Line::from(vec![
            key(label),
            Span::styled(format!("{}=", inert(k)), theme.style(Role::Muted)),
            plain(inert(v).into_owned()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "  state changes, newest first",
        theme.style(Role::Title),
    ));
    for status in task.statuses.iter().rev() {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:>10}  ", format!("{} ago", age(scene.now - status.at))),
                theme.style(Role::Muted),
            ),
            Span::styled(
                format!("{:<9}", status.state.as_str()),
                theme.style(state_role(status.state)),
            ),
            plain(inert(&status.message).into_owned()),
        ]));
    }
    let title = Line::from(vec![Span::styled(
        format!(" Task {} ", inert(&task.name)),
        theme.style(Role::Title),
    )]);
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(title);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
