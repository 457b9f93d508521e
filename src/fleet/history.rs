//! Older pages of logs through a hub: each agent pages back on its own
//! (from its ring into its journal or files), and the hub merges their
//! pages by time. The hub's position is every agent's own: a fleet cursor
//! of each agent's `before`, so paging back loses and repeats nothing on
//! any agent.

use std::collections::BTreeMap;

use super::reads::AGENT_DEADLINE;
use super::{Fleet, rename};
use crate::api::{Filter, FleetCursor, LogEntry, UnixMillis};
use crate::client::{LogPage, PageAsk};
use crate::collect::history::take_newest;

/// A hub's older-page position begins with this (then a fleet cursor).
const POSITION: &str = "hh:";

/// A page through the hub, oldest first.
#[derive(Debug, Default)]
pub struct HubPage {
    pub entries: Vec<LogEntry>,
    /// The `before` of the page before this one.
    pub older: Option<String>,
    /// Why nothing is older, when nothing is: the agents' words.
    pub end: Option<String>,
    /// Agents that could not answer, and why.
    pub missing: Vec<String>,
}

impl Fleet {
    /// The newest `limit` entries before `before`: a position this hub
    /// gave, an entry's fleet cursor (its agent from there, the others
    /// from `until`), or empty (every agent from its newest).
    pub async fn older_logs(
        &self,
        filter: &Filter,
        before: &str,
        since: Option<UnixMillis>,
        until: Option<UnixMillis>,
        limit: usize,
    ) -> Result<HubPage, String> {
        // Each agent's own `before`, and whether it keeps `until`.
        let mut from: BTreeMap<String, (String, bool)> = BTreeMap::new();
        if let Some(position) = before.strip_prefix(POSITION) {
            let cursor = FleetCursor::parse(position)
                .ok_or("before: not a position this hub gave (take X-Day2top-Older from a page)")?;
            for (agent, b) in cursor.positions {
                from.insert(agent, (b, true));
            }
        } else {
            let named = match before {
                "" => FleetCursor::default(),
                c => FleetCursor::parse(c).ok_or(format!(
                    "before {c:?} is neither a hub's cursor (fleet:…) nor a position it gave"
                ))?,
            };
            for agent in self.agents() {
                let name = agent.name().to_string();
                let entry = match named.positions.get(&name) {
                    // Its own cursor: exact within the agent, no time bound.
                    Some(c) => (c.clone(), false),
                    None => (String::new(), true),
                };
                from.insert(name, entry);
            }
        }
        let mut missing = Vec::new();
        let mut asks = Vec::new();
        for agent in self.agents() {
            let Some((b, keeps_until)) = from.get(agent.name()).cloned() else {
                continue;
            };
            let Some(down) = rename::filter_for(agent.name(), filter) else {
                from.remove(agent.name());
                continue;
            };
            let Some(client) = agent.client.clone().filter(|_| agent.is_up()) else {
                let state = agent.held().status.state;
                missing.push(format!("{} ({})", agent.name(), state.as_str()));
                continue;
            };
            let ask = PageAsk {
                before: Some(b),
                since,
                until: until.filter(|_| keeps_until),
                limit,
                ..Default::default()
            };
            let name = agent.name().to_string();
            asks.push(tokio::spawn(async move {
                let page = tokio::time::timeout(AGENT_DEADLINE, client.log_page(&down, &ask)).await;
                (name, page)
            }));
        }
        let mut pages: Vec<(String, LogPage)> = Vec::new();
        for ask in asks {
            let Ok((name, answer)) = ask.await else {
                continue;
            };
            match answer {
                Ok(Ok(page)) => pages.push((name, page)),
                Ok(Err(e)) => missing.push(format!("{name} ({e})")),
                Err(_) => missing.push(format!("{name} (no answer within {AGENT_DEADLINE:?})")),
            }
        }
        // An agent that did not answer leaves the position: paging goes
        // on without it (said in the missing header), never stuck on it.
        from.retain(|agent, _| pages.iter().any(|(name, _)| name == agent));

        // The newest `limit` over every agent's page.
        let mut runs: Vec<&mut Vec<LogEntry>> =
            pages.iter_mut().map(|(_, p)| &mut p.entries).collect();
        let merged = take_newest(&mut runs, limit);
        let mut oldest: BTreeMap<String, String> = BTreeMap::new();
        let mut taken = Vec::with_capacity(merged.len());
        for (i, e) in merged {
            let name = &pages[i].0;
            oldest
                .entry(name.clone())
                .or_insert_with(|| e.cursor.clone());
            taken.push(rename::log(name, e));
        }
        let mut ends = Vec::new();
        for (name, page) in pages {
            let next = match (page.entries.is_empty(), oldest.remove(&name)) {
                // All of it used: on from the agent's own position.
                (true, _) => page.older,
                // Some left: on from the oldest taken, or where it was.
                (false, Some(cursor)) => Some(cursor),
                (false, None) => from.get(&name).map(|(b, _)| b.clone()),
            };
            match next {
                Some(b) => {
                    from.insert(name, (b, true));
                }
                None => {
                    from.remove(&name);
                    ends.extend(page.end);
                }
            }
        }
        let older = (!from.is_empty()).then(|| {
            let positions = from.into_iter().map(|(a, (b, _))| (a, b)).collect();
            format!("{POSITION}{}", FleetCursor { positions })
        });
        let end = older.is_none().then(|| {
            let word = ["since", "kept"]
                .into_iter()
                .find(|w| ends.iter().any(|e| e == w))
                .unwrap_or("start");
            word.to_string()
        });
        Ok(HubPage {
            entries: taken,
            older,
            end,
            missing,
        })
    }
}
