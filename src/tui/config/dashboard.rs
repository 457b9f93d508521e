//! Dashboard definitions: a grid of panels, each a metric grouped by a tag
//! and drawn as sparklines or a line chart. Built in from
//! `views/dashboard.toml`; `views/dashboard*.toml` in the config directory
//! add dashboards or replace the built-in one.

use std::path::Path;

use serde::Deserialize;

use crate::tui::config::toml::parse;

pub const BUILTIN_DASHBOARD: &str = include_str!("../../../views/dashboard.toml");
/// The name of the built-in dashboard, and of its file.
pub const DEFAULT_DASHBOARD: &str = "dashboard";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    #[default]
    Avg,
    Sum,
    Min,
    Max,
}

impl Aggregate {
    pub fn apply(self, values: impl Iterator<Item = f64>) -> Option<f64> {
        let (mut n, mut sum, mut min, mut max) = (0usize, 0.0, f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            n += 1;
            sum += v;
            min = min.min(v);
            max = max.max(v);
        }
        (n > 0).then(|| match self {
            Aggregate::Avg => sum / n as f64,
            Aggregate::Sum => sum,
            Aggregate::Min => min,
            Aggregate::Max => max,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    #[default]
    #[serde(rename = "")]
    Plain,
    Percent,
    Bytes,
    BytesPerSecond,
    PerSecond,
    Ms,
    Seconds,
    Count,
}

impl Unit {
    /// A value as people read it: `42.1%`, `1.2G`, `3.4M/s`, `250ms`, `2m`.
    pub fn format(self, v: f64) -> String {
        use crate::tui::widgets::units::{bytes, number};
        match self {
            Unit::Plain => number(v),
            Unit::Percent => format!("{v:.1}%"),
            Unit::Bytes => bytes(v),
            Unit::BytesPerSecond => format!("{}/s", bytes(v)),
            Unit::PerSecond => format!("{}/s", si(v)),
            Unit::Count => si(v),
            Unit::Ms if v.abs() < 1000.0 => format!("{v:.0}ms"),
            Unit::Ms => duration(v / 1000.0),
            Unit::Seconds => duration(v),
        }
    }
}

/// 1234 → `1.2k`, 5_600_000 → `5.6M`.
fn si(v: f64) -> String {
    for (per, suffix) in [(1e9, "G"), (1e6, "M"), (1e3, "k")] {
        if v.abs() >= per {
            return format!("{:.1}{suffix}", v / per);
        }
    }
    crate::tui::widgets::units::number(v)
}

fn duration(seconds: f64) -> String {
    match seconds.abs() {
        s if s < 60.0 => format!("{seconds:.1}s"),
        s if s < 3600.0 => format!("{:.1}m", seconds / 60.0),
        _ => format!("{:.1}h", seconds / 3600.0),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Chart {
    #[default]
    Sparkline,
    Line,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelDef {
    pub title: String,
    pub metric: String,
    #[serde(default)]
    pub group_by: Option<String>,
    #[serde(default)]
    pub aggregate: Aggregate,
    #[serde(default)]
    pub unit: Unit,
    #[serde(default)]
    pub chart: Chart,
    pub warn: Option<f64>,
    pub crit: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashDef {
    #[serde(skip)]
    pub name: String,
    pub title: String,
    #[serde(default = "two")]
    pub columns: u16,
    #[serde(default, rename = "panel")]
    pub panels: Vec<PanelDef>,
}

fn two() -> u16 {
    2
}

impl DashDef {
    /// Every metric the panels draw, once each.
    pub fn metrics(&self) -> Vec<String> {
        let mut names: Vec<String> = self.panels.iter().map(|p| p.metric.clone()).collect();
        names.sort();
        names.dedup();
        names
    }
}

pub fn parse_dash(origin: &str, name: &str, text: &str) -> Result<DashDef, String> {
    let mut def: DashDef = parse(origin, text)?;
    if def.panels.is_empty() {
        return Err(format!(
            "{origin}: a dashboard needs at least one [[panel]]"
        ));
    }
    def.columns = def.columns.clamp(1, 6);
    def.name = name.to_string();
    Ok(def)
}

/// The built-in dashboard and the user's `views/dashboard*.toml`, by name;
/// a user file that does not load is reported and left out.
/// The built-in dashboard, for when no list holds one.
pub fn builtin_dashboard() -> &'static DashDef {
    static BUILTIN: std::sync::OnceLock<DashDef> = std::sync::OnceLock::new();
    BUILTIN.get_or_init(|| {
        parse_dash("built-in dashboard", DEFAULT_DASHBOARD, BUILTIN_DASHBOARD)
            .expect("the built-in dashboard parses")
    })
}

pub fn load_dashboards(dir: Option<&Path>, warnings: &mut Vec<String>) -> Vec<DashDef> {
    let mut dashes = vec![builtin_dashboard().clone()];
    let Some(entries) = dir.and_then(|d| std::fs::read_dir(d.join("views")).ok()) else {
        return dashes;
    };
    let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if !stem.starts_with(DEFAULT_DASHBOARD) || path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let shown = path.display().to_string();
        let loaded = std::fs::read_to_string(&path)
            .map_err(|e| format!("{shown}: {e}"))
            .and_then(|text| parse_dash(&shown, stem, &text));
        match loaded {
            Ok(def) => match dashes.iter_mut().find(|d| d.name == def.name) {
                Some(existing) => *existing = def,
                None => dashes.push(def),
            },
            Err(e) => warnings.push(format!("{e} (dashboard left out)")),
        }
    }
    dashes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_for_people() {
        assert_eq!(Unit::Percent.format(42.06), "42.1%");
        assert_eq!(
            Unit::BytesPerSecond.format(3.5 * 1024.0 * 1024.0),
            "3.5Mi/s"
        );
        assert_eq!(Unit::PerSecond.format(12_500.0), "12.5k/s");
        assert_eq!(Unit::Ms.format(250.0), "250ms");
        assert_eq!(Unit::Ms.format(90_000.0), "1.5m");
        assert_eq!(Unit::Seconds.format(7200.0), "2.0h");
        assert_eq!(Aggregate::Max.apply([1.0, 5.0, 3.0].into_iter()), Some(5.0));
        assert_eq!(Aggregate::Avg.apply(std::iter::empty()), None);
    }

    #[test]
    fn user_dashboards_add_replace_and_report_mistakes() {
        let dir = std::env::temp_dir().join(format!("day2top-dash-{}", std::process::id()));
        let views = dir.join("views");
        std::fs::create_dir_all(&views).unwrap();
        std::fs::write(
            views.join("dashboard-payments.toml"),
            "title = \"Payments\"\n[[panel]]\ntitle = \"p99\"\nmetric = \"payments.latency.p99\"\nunit = \"ms\"\n",
        )
        .unwrap();
        std::fs::write(
            views.join("dashboard-broken.toml"),
            "title = \"B\"\n[[panel]]\ntitle = \"x\"\nmetric = \"m\"\nchart = \"pie\"\n",
        )
        .unwrap();
        let mut warnings = Vec::new();
        let dashes = load_dashboards(Some(&dir), &mut warnings);
        let names: Vec<&str> = dashes.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["dashboard", "dashboard-payments"]);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("dashboard-broken.toml:5"),
            "{warnings:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
