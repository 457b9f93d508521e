//! What a hub adds to the wire: fleet ids and fleet log cursors.
//!
//! A hub prefixes every id an agent gave with the agent's name and a colon
//! (`web1:nginx.service`), so two hosts with the same hostname or the same
//! pid never collide. A log entry through a hub has a cursor naming its
//! agent (`fleet:web1~<base64 of the agent's cursor>`); a client keeps the
//! newest cursor of every agent, joined by commas
//! (`fleet:web1~…,web2~…`), and resumes from that: each agent then carries
//! on after its own entry, exactly once, through a restart of the hub or
//! of the agent.

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::UnixMillis;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The header of an answer that lacks part of what was asked: the hub's
/// agents that could not answer, a Prometheus that did not (`NAME (why)`,
/// comma-separated). The answer is what the others gave.
pub const MISSING_HEADER: &str = "x-day2top-missing";

/// Separates an agent's name from the id it gave.
pub const FLEET_ID_SEPARATOR: char = ':';

/// The fleet id of an agent's `id`.
pub fn fleet_id(agent: &str, id: &str) -> String {
    format!("{agent}{FLEET_ID_SEPARATOR}{id}")
}

/// `(agent, the agent's own id)` of a fleet id.
pub fn split_fleet_id(id: &str) -> Option<(&str, &str)> {
    id.split_once(FLEET_ID_SEPARATOR)
}

const PREFIX: &str = "fleet:";

/// How a hub stands with one of its agents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// Not heard from yet.
    #[default]
    Connecting,
    Up,
    /// Unreachable (or silent) since `since`; the hub retries with backoff.
    Down,
    /// The agent refused the hub's token or its scope; asked again each minute.
    Refused,
    /// The hub cannot even try: its token or CA file for the agent is unreadable.
    Misconfigured,
}

impl AgentState {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Connecting => "connecting",
            AgentState::Up => "up",
            AgentState::Down => "down",
            AgentState::Refused => "refused",
            AgentState::Misconfigured => "misconfigured",
        }
    }
}

/// `GET /api/v1/agents`: one agent of a hub.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentStatus {
    pub name: String,
    pub url: String,
    pub state: AgentState,
    /// When the agent entered this state.
    pub since: UnixMillis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the hub last heard from the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_contact: Option<UnixMillis>,
    /// The agent's clock minus the hub's, from its heartbeats (network
    /// delay included, so tens of milliseconds are noise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_offset_ms: Option<i64>,
    pub nodes: usize,
    pub tasks: usize,
    /// Events lost between the agent and the hub (gaps, full queues).
    #[serde(default)]
    pub dropped: u64,
}

/// Where a fleet log subscription is on each agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetCursor {
    /// Agent name → that agent's own cursor.
    pub positions: BTreeMap<String, String>,
}

impl FleetCursor {
    /// The cursor of one entry: its agent's position only.
    pub fn one(agent: &str, cursor: &str) -> String {
        FleetCursor {
            positions: BTreeMap::from([(agent.to_string(), cursor.to_string())]),
        }
        .to_string()
    }

    /// A fleet cursor, or `None` for a plain gateway's cursor (or garbage).
    pub fn parse(text: &str) -> Option<FleetCursor> {
        let rest = text.strip_prefix(PREFIX)?;
        let mut positions = BTreeMap::new();
        for part in rest.split(',').filter(|p| !p.is_empty()) {
            let (agent, encoded) = part.split_once('~')?;
            let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
            positions.insert(agent.to_string(), String::from_utf8(bytes).ok()?);
        }
        Some(FleetCursor { positions })
    }

    /// Takes in a newer cursor: its agents' positions replace these.
    pub fn advance(&mut self, newer: FleetCursor) {
        self.positions.extend(newer.positions);
    }

    /// `old` moved on by `newer`, when both are fleet cursors; else `newer`.
    pub fn merge(old: Option<&str>, newer: &str) -> String {
        match (old.and_then(FleetCursor::parse), FleetCursor::parse(newer)) {
            (Some(mut old), Some(newer)) => {
                old.advance(newer);
                old.to_string()
            }
            _ => newer.to_string(),
        }
    }
}

impl std::fmt::Display for FleetCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(PREFIX)?;
        for (i, (agent, cursor)) in self.positions.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{agent}~{}", URL_SAFE_NO_PAD.encode(cursor))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_merge_per_agent() {
        let a = FleetCursor::one("web1", "j:s=1;i=2,x");
        assert_eq!(
            FleetCursor::parse(&a).unwrap().positions["web1"],
            "j:s=1;i=2,x"
        );
        let both = FleetCursor::merge(Some(&a), &FleetCursor::one("web2", "f:1:2:3"));
        let later = FleetCursor::merge(Some(&both), &FleetCursor::one("web1", "j:s=1;i=3"));
        let positions = FleetCursor::parse(&later).unwrap().positions;
        assert_eq!(positions["web1"], "j:s=1;i=3");
        assert_eq!(positions["web2"], "f:1:2:3");
        // A plain gateway's cursor replaces, as before.
        assert_eq!(FleetCursor::merge(Some(&a), "d:5"), "d:5");
        assert_eq!(FleetCursor::parse("d:5"), None);
        assert_eq!(FleetCursor::parse("fleet:web1~%%"), None);
    }

    #[test]
    fn fleet_ids_split_at_the_first_colon() {
        let id = fleet_id("web1", "j:odd:id");
        assert_eq!(split_fleet_id(&id), Some(("web1", "j:odd:id")));
    }
}
