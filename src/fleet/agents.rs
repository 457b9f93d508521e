//! The agents file: which gateways a hub fans in, read again when it
//! changes (the way Prometheus reads file-based discovery), so an agent
//! joins or leaves without a restart.
//!
//! ```toml
//! [[agent]]
//! name = "web1"                          # unique; [A-Za-z0-9_.-]
//! url = "https://10.0.0.11:7070"
//! token_file = "/etc/day2top/hub-on-web1.token"
//! ca_file = "/etc/day2top/fleet-ca.pem"  # optional
//! ```

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;

use crate::config::expand;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    /// Prefixes the agent's ids at the hub (`web1:nginx.service`).
    pub name: String,
    pub url: String,
    /// The token the agent issued to the hub (a bare secret or a token file).
    pub token_file: PathBuf,
    /// CA certificates to trust for the agent's TLS certificate.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    agent: Vec<AgentSpec>,
}

/// Whether `name` may name an agent: it is the prefix of fleet ids, so it
/// holds no `:` (the separator) and nothing a URL or a shell would mangle.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Checks a list of agents: names valid and unique, URLs with a scheme.
/// Relative paths are taken from `base` (the agents file's folder).
pub fn check(mut agents: Vec<AgentSpec>, base: &Path) -> Result<Vec<AgentSpec>, String> {
    let mut seen = std::collections::HashSet::new();
    for agent in &mut agents {
        if !valid_name(&agent.name) {
            return Err(format!(
                "agent name {:?} must be 1-64 letters, digits, '_', '.' or '-' (it prefixes the agent's ids)",
                agent.name
            ));
        }
        if !seen.insert(agent.name.clone()) {
            return Err(format!("agent name {:?} is listed twice", agent.name));
        }
        if !(agent.url.starts_with("http://") || agent.url.starts_with("https://")) {
            return Err(format!(
                "agent {}: url {:?} must start with http:// or https://",
                agent.name, agent.url
            ));
        }
        agent.token_file = resolve(base, &agent.token_file);
        agent.ca_file = agent.ca_file.as_deref().map(|p| resolve(base, p));
    }
    Ok(agents)
}

/// `~` is the home folder; another relative path is from `base`.
fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_relative() && !path.starts_with("~") {
        return base.join(path);
    }
    expand(path)
}

/// Reads an agents file.
pub fn load(path: &Path) -> Result<Vec<AgentSpec>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read agents file {}: {e}", path.display()))?;
    parse(&text, path)
}

fn parse(text: &str, path: &Path) -> Result<Vec<AgentSpec>, String> {
    let file: File =
        toml::from_str(text).map_err(|e| format!("agents file {}: {e}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    check(file.agent, base).map_err(|e| format!("agents file {}: {e}", path.display()))
}

/// What a file looked like when last read, to tell a change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stamp(Option<(SystemTime, u64)>);

impl Stamp {
    pub fn of(path: &Path) -> Stamp {
        Stamp(
            std::fs::metadata(path)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len()))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_agents_and_resolves_paths_from_the_file() {
        let text = r#"
[[agent]]
name = "web1"
url = "https://10.0.0.11:7070"
token_file = "tokens/web1"
ca_file = "/etc/ca.pem"
"#;
        let agents = parse(text, Path::new("/etc/day2top/agents.toml")).unwrap();
        assert_eq!(
            agents[0].token_file,
            PathBuf::from("/etc/day2top/tokens/web1")
        );
        assert_eq!(agents[0].ca_file, Some(PathBuf::from("/etc/ca.pem")));
    }

    #[test]
    fn refuses_what_would_make_ids_ambiguous() {
        let p = Path::new("/a.toml");
        let one = |name: &str| {
            format!("[[agent]]\nname = {name:?}\nurl = \"http://h:1\"\ntoken_file = \"t\"\n")
        };
        assert!(parse(&one("a:b"), p).unwrap_err().contains("letters"));
        assert!(parse(&one(""), p).is_err());
        let twice = format!("{}{}", one("a"), one("a"));
        assert!(parse(&twice, p).unwrap_err().contains("twice"));
        assert!(
            parse(
                "[[agent]]\nname = \"a\"\nurl = \"h:1\"\ntoken_file = \"t\"\n",
                p
            )
            .unwrap_err()
            .contains("http://")
        );
        assert!(
            parse("[[agent]]\nname = \"a\"\n", p).is_err(),
            "url missing"
        );
    }
}
