//! The config file (`config.toml` in the config directory, or `--config`):
//! console settings, named gateway contexts, and the gateway's settings.
//! Every gateway flag has a key in `[gateway]`; flags win over keys.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Theme name (`default`, `light`, `high-contrast`, `mono`, or a user theme).
    pub theme: Option<String>,
    /// Keymap name (`default`, `vim`, or a user keymap).
    pub keymap: Option<String>,
    /// The context to connect to when no `--context` or `--gateway` is given.
    pub default_context: Option<String>,
    /// Log lines the console keeps (`--log-lines`).
    pub log_lines: Option<usize>,
    /// Draw only ASCII (`--ascii`).
    pub ascii: Option<bool>,
    /// Share mode's own rules, gitleaks format (`--share-rules`).
    pub share_rules: Option<PathBuf>,
    /// Share mode hides IP addresses too (`--share-ips`).
    pub share_ips: Option<bool>,
    #[serde(default)]
    pub context: BTreeMap<String, ContextDef>,
    #[serde(default)]
    pub gateway: GatewaySection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextDef {
    pub url: String,
    pub token_file: PathBuf,
    pub ca: Option<PathBuf>,
    /// Hide exec in this context (`--readonly`).
    pub readonly: Option<bool>,
    /// A Prometheus scraping this context's gateway (or its agents).
    pub prometheus: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    pub listen: Option<String>,
    pub token_file: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub insecure: Option<bool>,
    pub demo: Option<bool>,
    pub seed: Option<u64>,
    pub demo_nodes: Option<usize>,
    pub demo_tasks: Option<usize>,
    pub demo_log_rate: Option<usize>,
    pub demo_trace_rate: Option<usize>,
    pub refresh_ms: Option<u64>,
    /// Read the journal (default true for this host, false for the demo).
    pub journal: Option<bool>,
    pub journal_dir: Option<PathBuf>,
    #[serde(default)]
    pub journal_files: Vec<String>,
    #[serde(default)]
    pub log_files: Vec<String>,
    pub log_buffer_mb: Option<usize>,
    /// `--statsd`: an address, or "off".
    pub statsd: Option<String>,
    /// `--otlp`: an address, or "off".
    pub otlp: Option<String>,
    pub max_series: Option<usize>,
    /// `--checks`: a checks file.
    pub checks: Option<PathBuf>,
    pub metrics_mb: Option<usize>,
    /// `--metrics-fine`, a span like "1h".
    pub metrics_fine: Option<String>,
    pub metrics_coarse: Option<String>,
    /// `--audit-log`: the append-only audit file.
    pub audit_log: Option<PathBuf>,
    /// `--alerts`: the alert rules and receivers.
    pub alerts: Option<PathBuf>,
    /// Connections open at once on each listener.
    pub max_connections: Option<usize>,
    /// Stream WebSockets one token may hold open.
    pub max_streams_per_token: Option<usize>,
    /// `--prometheus`: a Prometheus scraping this gateway, for long history.
    pub prometheus: Option<String>,
    /// `--agents`: be a hub over the agents this file lists (re-read on change).
    pub agents: Option<PathBuf>,
    /// Agents listed here instead of in a file (`[[gateway.agent]]`), read at start.
    #[serde(default)]
    pub agent: Vec<crate::fleet::agents::AgentSpec>,
    /// `--kube`: watch a Kubernetes cluster through its API server.
    pub kube: Option<bool>,
    pub kubeconfig: Option<PathBuf>,
    pub kube_context: Option<String>,
    /// `-n`: the one namespace pods and events are watched in.
    pub namespace: Option<String>,
    /// `-A`: every namespace.
    pub all_namespaces: Option<bool>,
}

pub fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "day2top")
}

/// `~/.config/day2top` on Linux.
pub fn config_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().to_path_buf())
}

/// `~/.local/state/day2top` on Linux: logs and the generated gateway token.
pub fn state_dir() -> Option<PathBuf> {
    project_dirs().map(|d| {
        d.state_dir()
            .unwrap_or_else(|| d.data_local_dir())
            .to_path_buf()
    })
}

/// `~/x` as the home directory's `x`.
pub fn expand(path: &Path) -> PathBuf {
    let path = match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    };
    // Absolute from here on: a source that runs a program (journalctl) or
    // reopens the path later must not depend on where it was started.
    std::path::absolute(&path).unwrap_or(path)
}

/// [`expand`] for a glob given as text.
pub fn expand_glob(pattern: &str) -> String {
    expand(Path::new(pattern)).to_string_lossy().into_owned()
}

impl ConfigFile {
    /// Reads `explicit`, or the default file if it exists.
    pub fn load(explicit: Option<&Path>) -> Result<ConfigFile, String> {
        let path = match explicit {
            Some(p) => expand(p),
            None => match config_dir().map(|d| d.join("config.toml")) {
                Some(p) if p.exists() => p,
                _ => return Ok(ConfigFile::default()),
            },
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        crate::tui::config::toml::parse(&path.display().to_string(), &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_contexts_and_gateway_keys() {
        let text = r#"
theme = "light"
default_context = "prod"

[context.prod]
url = "https://gw.example:7070"
token_file = "~/prod.token"

[gateway]
listen = "0.0.0.0:7070"
demo = true
seed = 7
"#;
        let cfg: ConfigFile = crate::tui::config::toml::parse("config.toml", text).unwrap();
        assert_eq!(cfg.context["prod"].url, "https://gw.example:7070");
        assert_eq!(cfg.gateway.seed, Some(7));
        let bad = "[gateway]\nlisten = 7070\n";
        let err = crate::tui::config::toml::parse::<ConfigFile>("config.toml", bad).unwrap_err();
        assert!(err.starts_with("config.toml:2:"), "{err}");
    }
}
