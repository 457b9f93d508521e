//! Logs through a hub: a subscription is passed down to the agents whose
//! nodes and tasks it can match, and what they send is merged; nothing is
//! read from an agent that no one asked for. Each agent resumes from its
//! own cursor (see `api::FleetCursor`), so a resume is exactly once
//! through a restart of the hub or of any agent.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Agent, Fleet, rename};
use crate::api::{Filter, FleetCursor, From, LogEntry, Record, ServerMsg, StartPoint, Topic};
use crate::client::{StreamEvent, Subscription};
use crate::collect::follow::{FollowEvent, LogFollow, merged_tail};

/// Entries a fresh subscription starts with, unless it says.
const DEFAULT_TAIL: usize = 1000;
/// How long a fresh subscription waits for the agents' tails before it
/// sends what it has (a slow agent's lines follow as they come).
const TAIL_WAIT: Duration = Duration::from_secs(3);
/// Messages between the agents' streams and the merge.
const QUEUE: usize = 64;
/// How often the fleet is looked at for agents that joined.
const MEMBERSHIP_EVERY: Duration = Duration::from_secs(2);

/// One agent's stream, feeding the merge.
struct Feed {
    _stream: JoinHandle<()>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self._stream.abort();
    }
}

impl Fleet {
    /// Follows the logs `filter` admits across the fleet, starting at `from`.
    pub fn follow_logs(self: &Arc<Self>, filter: Filter, from: From) -> LogFollow {
        let (tx, events) = mpsc::channel(QUEUE);
        LogFollow::new(events, tokio::spawn(merge(self.clone(), filter, from, tx)))
    }
}

/// Where each agent starts, from where the subscription starts.
fn start_of(agent: &str, from: &From) -> From {
    match from {
        From::Cursor { cursor } => match FleetCursor::parse(cursor) {
            Some(at) => match at.positions.get(agent) {
                Some(cursor) => From::Cursor {
                    cursor: cursor.clone(),
                },
                // No entry of this agent reached the client: it had none
                // that matched, or joined since. All it has now is new.
                None => From::Tail { tail: DEFAULT_TAIL },
            },
            None => From::Tail { tail: DEFAULT_TAIL },
        },
        From::Tail { tail } => From::Tail { tail: *tail },
        From::Named(StartPoint::Now) => From::Named(StartPoint::Now),
        From::Named(StartPoint::Snapshot) | From::Seq { .. } => From::Tail { tail: DEFAULT_TAIL },
    }
}

fn open(
    agent: &Arc<Agent>,
    filter: Filter,
    from: From,
    tx: mpsc::Sender<(String, StreamEvent)>,
) -> Option<Feed> {
    let client = agent.client.clone()?;
    let name = agent.name().to_string();
    let stream = tokio::spawn(async move {
        let subscription = Subscription {
            sub: "logs".into(),
            topic: Topic::Logs,
            filter,
        };
        let mut stream = client.stream_from(vec![subscription], vec![("logs".into(), from)]);
        while let Some(event) = stream.events.recv().await {
            if tx.send((name.clone(), event)).await.is_err() {
                return;
            }
        }
    });
    Some(Feed { _stream: stream })
}

async fn merge(fleet: Arc<Fleet>, filter: Filter, from: From, out: mpsc::Sender<FollowEvent>) {
    let (tx, mut rx) = mpsc::channel::<(String, StreamEvent)>(QUEUE);
    let mut feeds: HashMap<String, Feed> = HashMap::new();
    let tail = match &from {
        From::Tail { tail } => Some(*tail),
        From::Named(StartPoint::Snapshot) | From::Seq { .. } => Some(DEFAULT_TAIL),
        _ => None,
    };
    // A fresh subscription gathers the agents' tails first.
    let mut waiting: BTreeSet<String> = BTreeSet::new();
    for agent in fleet.agents() {
        let Some(down) = rename::filter_for(agent.name(), &filter) else {
            continue;
        };
        if let Some(feed) = open(&agent, down, start_of(agent.name(), &from), tx.clone()) {
            if tail.is_some() && agent.is_up() {
                waiting.insert(agent.name().to_string());
            }
            feeds.insert(agent.name().to_string(), feed);
        }
    }
    let mut gathered: Vec<Vec<LogEntry>> = Vec::new();
    let deadline = tokio::time::Instant::now() + TAIL_WAIT;
    if let Some(tail) = tail {
        while !waiting.is_empty() {
            let got = tokio::select! {
                got = rx.recv() => got,
                _ = tokio::time::sleep_until(deadline) => break,
            };
            let Some((agent, event)) = got else { return };
            match event {
                StreamEvent::Message(ServerMsg::Snapshot { items, .. }) => {
                    waiting.remove(&agent);
                    gathered.push(logs_of(&agent, items));
                }
                // Lines that came after an agent's tail (which comes first).
                StreamEvent::Message(ServerMsg::Event { events, .. }) => {
                    gathered.push(logs_of(
                        &agent,
                        events.into_iter().map(|e| e.data).collect(),
                    ));
                }
                StreamEvent::Refused { .. } | StreamEvent::Disconnected { .. } => {
                    waiting.remove(&agent);
                }
                _ => {}
            }
        }
        let snapshot = merged_tail(gathered, tail);
        if out.send(FollowEvent::Snapshot(snapshot)).await.is_err() {
            return;
        }
    }
    let mut membership = tokio::time::interval(MEMBERSHIP_EVERY);
    membership.tick().await;
    loop {
        let (agent, event) = tokio::select! {
            got = rx.recv() => match got {
                Some(got) => got,
                None => return,
            },
            _ = membership.tick() => {
                follow_membership(&fleet, &filter, &mut feeds, &tx);
                continue;
            }
        };
        let sent = match event {
            StreamEvent::Message(ServerMsg::Snapshot { items, .. }) => {
                // A later snapshot only comes after a resync: the agent lost
                // its place, and said so (below); its lines go on from here.
                FollowEvent::Entries(logs_of(&agent, items))
            }
            StreamEvent::Message(ServerMsg::Event { events, .. }) => FollowEvent::Entries(logs_of(
                &agent,
                events.into_iter().map(|e| e.data).collect(),
            )),
            StreamEvent::Message(ServerMsg::Gap {
                dropped, reason, ..
            }) => FollowEvent::Gap {
                dropped,
                reason: format!("agent {agent}: {reason}"),
            },
            StreamEvent::Message(ServerMsg::Resync { .. }) => FollowEvent::Gap {
                dropped: 0,
                reason: format!(
                    "agent {agent} could not resume its logs exactly; its latest lines follow, some may repeat"
                ),
            },
            StreamEvent::Refused { error } => FollowEvent::Gap {
                dropped: 0,
                reason: format!("agent {agent} refused the hub ({error}); its logs stop here"),
            },
            _ => continue,
        };
        if matches!(&sent, FollowEvent::Entries(e) if e.is_empty()) {
            continue;
        }
        if out.send(sent).await.is_err() {
            return;
        }
    }
}

/// Agents that joined the fleet are followed from their tail; those that
/// left are let go.
fn follow_membership(
    fleet: &Fleet,
    filter: &Filter,
    feeds: &mut HashMap<String, Feed>,
    tx: &mpsc::Sender<(String, StreamEvent)>,
) {
    let agents = fleet.agents();
    feeds.retain(|name, _| agents.iter().any(|a| a.name() == name));
    for agent in agents {
        if feeds.contains_key(agent.name()) {
            continue;
        }
        let Some(down) = rename::filter_for(agent.name(), filter) else {
            continue;
        };
        let from = From::Tail { tail: DEFAULT_TAIL };
        if let Some(feed) = open(&agent, down, from, tx.clone()) {
            feeds.insert(agent.name().to_string(), feed);
        }
    }
}

fn logs_of(agent: &str, records: Vec<Record>) -> Vec<LogEntry> {
    records
        .into_iter()
        .filter_map(|r| match r {
            Record::Log(entry) => Some(rename::log(agent, entry)),
            _ => None,
        })
        .collect()
}

/// `GET /api/v1/logs` through the hub: without a cursor, the newest
/// `limit` of every agent merged by time; with a fleet cursor, the entries
/// after it of each agent it names, merged. Also says which agents could
/// not answer.
impl Fleet {
    pub async fn read_logs(
        &self,
        filter: &Filter,
        cursor: Option<&str>,
        skip: i64,
        limit: usize,
        query: &[(String, String)],
    ) -> Result<(Vec<LogEntry>, Vec<String>), String> {
        let positions = match cursor {
            None => None,
            Some(c) => Some(FleetCursor::parse(c).ok_or_else(|| {
                format!("cursor {c:?} is not a hub's cursor (they begin with \"fleet:\"); take one from the hub's own entries")
            })?),
        };
        let path_for = |agent: &str| {
            let down = rename::filter_for(agent, filter)?;
            let agent_cursor = match &positions {
                Some(p) => Some(p.positions.get(agent)?),
                None => None,
            };
            let mut params = form_urlencoded::Serializer::new(String::new());
            for (k, v) in query {
                if !matches!(k.as_str(), "node" | "task" | "cursor" | "limit" | "skip") {
                    params.append_pair(k, v);
                }
            }
            if let Some(node) = &down.node {
                params.append_pair("node", node);
            }
            if let Some(task) = &down.task {
                params.append_pair("task", task);
            }
            if let Some(c) = agent_cursor {
                params.append_pair("cursor", c);
            }
            params.append_pair("skip", &skip.to_string());
            params.append_pair("limit", &limit.to_string());
            Some(format!("/api/v1/logs?{}", params.finish()))
        };
        let answers = self.ask(path_for, ndjson).await;
        let mut all: Vec<LogEntry> = answers
            .got
            .into_iter()
            .flat_map(|(name, entries)| entries.into_iter().map(move |e| rename::log(&name, e)))
            .collect();
        all.sort_by_key(|e| e.ts);
        if positions.is_some() {
            all.truncate(limit);
        } else {
            let cut = all.len().saturating_sub(limit);
            all.drain(..cut);
        }
        Ok((all, answers.missing))
    }
}

/// Log entries, one JSON object a line.
fn ndjson(text: &str) -> Result<Vec<LogEntry>, String> {
    text.lines()
        .map(|l| serde_json::from_str(l).map_err(|e| e.to_string()))
        .collect()
}
