//! What each panel shows, worked out before a frame for the width it
//! gets, never inside the draw.

use std::collections::BTreeMap;

use crate::api::UnixMillis;
use crate::tui::config::dashboard::PanelDef;
use crate::tui::dash::series::{CachedSeries, SeriesCache};
use crate::tui::model::Model;

/// The time windows a dashboard shows, narrowest first.
pub const WINDOWS: [i64; 4] = [60_000, 300_000, 900_000, 3_600_000];
/// Points a window is kept at, so an hour costs what a minute does.
const POINTS_PER_WINDOW: i64 = 600;

/// One line of a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelRow {
    pub label: String,
    /// One value a cell, oldest at the left; `None` where no point fell.
    pub values: Vec<Option<f64>>,
    pub latest: Option<f64>,
}

/// What a panel shows this frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PanelView {
    pub rows: Vec<PanelRow>,
    /// Series behind the panel.
    pub series: usize,
}

/// A group's label: a node's or task's name where the tag is an id.
fn label(model: &Model, tag: Option<&str>, value: Option<&String>) -> String {
    let Some(value) = value else {
        return if tag.is_some() {
            "-".into()
        } else {
            "all".into()
        };
    };
    match tag {
        Some("node_id") => model.node_name(value).to_string(),
        Some("task_id") => model
            .tasks
            .get(value.as_str())
            .map_or_else(|| value.clone(), |t| t.name.clone()),
        _ => value.clone(),
    }
}

/// A panel's lines over `window` ending `now`, `cells` values wide: each
/// cell the panel's aggregate over its group's series of the newest point
/// each has in that cell.
pub fn compute(
    def: &PanelDef,
    cache: &SeriesCache,
    model: &Model,
    now: UnixMillis,
    window: i64,
    cells: usize,
) -> PanelView {
    let tag = def.group_by.as_deref();
    let (rows, series) = compute_by(def, cache, now, window, cells, |s| {
        label(model, tag, tag.and_then(|t| s.tags.get(t)))
    });
    PanelView { rows, series }
}

/// The series behind a panel, a line each, labelled by their tags.
pub fn compute_each(
    def: &PanelDef,
    cache: &SeriesCache,
    now: UnixMillis,
    window: i64,
    cells: usize,
) -> Vec<PanelRow> {
    compute_by(def, cache, now, window, cells, |s| {
        let tags: Vec<String> = s.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if tags.is_empty() {
            "-".into()
        } else {
            tags.join(" ")
        }
    })
    .0
}

fn compute_by(
    def: &PanelDef,
    cache: &SeriesCache,
    now: UnixMillis,
    window: i64,
    cells: usize,
    group: impl Fn(&CachedSeries) -> String,
) -> (Vec<PanelRow>, usize) {
    // No more cells than the cache has points across the window: a cell
    // with no point is a gap, and a gap must mean missing data.
    let cells = cells
        .min((window / cache.resolution.max(1)).max(1) as usize)
        .max(1);
    let start = now - window;
    let mut groups: BTreeMap<String, Vec<&CachedSeries>> = BTreeMap::new();
    let mut series = 0;
    for s in cache.of(&def.metric) {
        series += 1;
        groups.entry(group(s)).or_default().push(s);
    }
    let rows = groups
        .into_iter()
        .map(|(label, members)| {
            // Per member, the newest point in each cell.
            let mut per_cell: Vec<Vec<f64>> = vec![Vec::new(); cells];
            let mut latest = Vec::new();
            for s in &members {
                let mut last_cell = None;
                for &(ts, v) in s.points.iter().filter(|(ts, _)| *ts > start && *ts <= now) {
                    let cell = (((ts - start - 1) as i128 * cells as i128) / window.max(1) as i128)
                        .clamp(0, cells as i128 - 1) as usize;
                    if last_cell == Some(cell) {
                        if let Some(slot) = per_cell[cell].last_mut() {
                            *slot = v;
                        }
                    } else {
                        per_cell[cell].push(v);
                        last_cell = Some(cell);
                    }
                }
                if let Some(&(ts, v)) = s.points.back()
                    && ts > start
                {
                    latest.push(v);
                }
            }
            PanelRow {
                label,
                values: per_cell
                    .into_iter()
                    .map(|vs| def.aggregate.apply(vs.into_iter()))
                    .collect(),
                latest: def.aggregate.apply(latest.into_iter()),
            }
        })
        .collect();
    (rows, series)
}

/// The cache's resolution for a window: about 600 points across it, and
/// never finer than the gateway's second.
pub fn resolution(window: i64) -> i64 {
    (window / POINTS_PER_WINDOW).max(1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Sample, Series};
    use crate::tui::config::dashboard::{Aggregate, Chart, Unit};
    use crate::tui::dash::series::MAX_SERIES;

    fn sample(name: &str, node: &str, ts: i64, value: f64) -> Sample {
        Sample {
            name: name.into(),
            tags: [("node_id".to_string(), node.to_string())].into(),
            ts,
            value,
            unit: String::new(),
        }
    }

    fn panel(group_by: Option<&str>, aggregate: Aggregate) -> PanelDef {
        PanelDef {
            title: "t".into(),
            metric: "cpu".into(),
            group_by: group_by.map(str::to_string),
            aggregate,
            unit: Unit::Percent,
            chart: Chart::Sparkline,
            warn: None,
            crit: None,
            max: None,
        }
    }

    #[test]
    fn groups_cells_and_aggregates() {
        let mut cache = SeriesCache {
            resolution: 1000,
            ..Default::default()
        };
        for s in 0..60 {
            cache.push(&sample("cpu", "a", s * 1000, 10.0));
            cache.push(&sample("cpu", "b", s * 1000, 30.0));
        }
        cache.push(&sample("other", "a", 0, 1.0));
        let model = Model::default();
        let by_node = compute(
            &panel(Some("node_id"), Aggregate::Avg),
            &cache,
            &model,
            59_000,
            60_000,
            6,
        );
        assert_eq!(by_node.series, 2);
        assert_eq!(by_node.rows.len(), 2);
        assert_eq!(by_node.rows[0].label, "a");
        assert_eq!(by_node.rows[1].latest, Some(30.0));
        assert_eq!(by_node.rows[0].values.len(), 6);
        assert!(by_node.rows[0].values.iter().all(|v| *v == Some(10.0)));
        let all = compute(
            &panel(None, Aggregate::Sum),
            &cache,
            &model,
            59_000,
            60_000,
            6,
        );
        assert_eq!(all.rows.len(), 1);
        assert_eq!(all.rows[0].label, "all");
        assert_eq!(all.rows[0].latest, Some(40.0));
        // A narrower window leaves the older points out.
        let recent = compute(
            &panel(None, Aggregate::Max),
            &cache,
            &model,
            59_000,
            10_000,
            10,
        );
        assert_eq!(recent.rows[0].values.iter().flatten().count(), 10);
    }

    #[test]
    fn bounded_and_merged_by_age() {
        let mut cache = SeriesCache {
            resolution: 5000,
            ..Default::default()
        };
        for s in 0..10 {
            cache.push(&sample("cpu", "a", 100_000 + s * 1000, s as f64));
        }
        let held = cache.of("cpu").next().unwrap().points.len();
        assert_eq!(held, 2, "one point per 5 s");
        cache.merge(Series {
            name: "cpu".into(),
            tags: [("node_id".to_string(), "a".to_string())].into(),
            unit: String::new(),
            points: vec![(0, 1.0), (50_000, 2.0), (105_000, 9.0)],
        });
        let points: Vec<i64> = cache
            .of("cpu")
            .next()
            .unwrap()
            .points
            .iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(points[..2], [0, 50_000], "older range points go in front");
        assert_eq!(points.len(), 4);
        for n in 0..MAX_SERIES + 3 {
            cache.push(&sample("flood", &n.to_string(), 0, 0.0));
        }
        assert_eq!(cache.len(), MAX_SERIES);
        assert!(cache.refused >= 3);
    }
}
