//! The stretch of a recording before it began (`day2top record --since
//! 15m`, and a bundle's recording): a flight recorder, because the page
//! usually comes after the cause. Built from what the gateway still holds,
//! as the wire messages a console would have received then:
//!
//! - tasks rewound by their recorded state changes, health by their
//!   checks (usage and labels as of now: the gateway keeps no history of
//!   them), and those it let go since (`/api/v1/tasks/gone`) until then;
//! - checks rewound by their recent results;
//! - metric series, at the points their subscription asked for;
//! - traces, as they ended;
//! - every log line, read on from `since` page by page (into the source
//!   where the gateway's ring does not reach);
//! - nodes as they are now.
//!
//! It starts with a snapshot of every subscription at `since`, then the
//! changes in time order; the live stream follows on, its logs after the
//! last line read here, so no line is lost or written twice.

use std::collections::HashMap;

use crate::api::{
    Check, CheckResult, CheckStatus, Event, Filter, GoneTask, Health, LogEntry, Node, Op, Record,
    Sample, Series, SeriesRange, ServerMsg, Task, Topic, TraceSummary, UnixMillis,
    health_from_checks,
};
use crate::client::{Client, ClientError, PageAsk, Subscription};
use crate::gateway::GONE_KEPT;
use crate::gateway::filter::Matcher;
use crate::record::format::What;
use crate::tui::model::{CPU_SERIES, MEM_SERIES};

/// Log lines a page read asks for.
const PAGE: usize = 5000;
/// Log lines of one time slot go out as one message, as a gateway
/// batches them.
const SLOT_MS: UnixMillis = 100;
/// Traces asked for, at most (the gateway's own bound).
const TRACES: usize = 1000;
/// Metric points a subscription's stretch carries, at most.
const POINTS_KEPT: usize = 200_000;
/// Items a snapshot message carries, at most, as a gateway sends them.
const SNAPSHOT_PART: usize = 1024;

/// What was put together, for the command to say.
#[derive(Debug, Default)]
pub struct Past {
    /// The last log line read: the live stream resumes after it.
    pub log_cursor: Option<String>,
    pub lines: u64,
    pub changes: u64,
    /// What the gateway could not give, in its words.
    pub missing: Vec<String>,
}

/// Writes the time from `since` to `now` through `put`, in time order.
pub async fn gather(
    client: &Client,
    subs: &[Subscription],
    since: UnixMillis,
    now: UnixMillis,
    put: &mut impl FnMut(UnixMillis, What),
) -> Result<Past, ClientError> {
    let mut past = Past::default();
    let (nodes, tasks, checks, traces) = (
        list::<Node>(client, "/api/v1/nodes").await?,
        list::<Task>(client, "/api/v1/tasks").await?,
        list::<Check>(client, "/api/v1/health").await?,
        client
            .get::<Vec<TraceSummary>>(&format!("/api/v1/traces?limit={TRACES}"))
            .await?,
    );
    // Tasks that ended and were let go since: a flight recorder's first
    // question is often about one of them. (A gateway before this route
    // has none to give.)
    let gone = match list::<GoneTask>(client, "/api/v1/tasks/gone").await {
        Ok(gone) => gone,
        Err(ClientError::Api(e)) if e.error.code == crate::api::ErrorCode::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    if gone.len() >= GONE_KEPT
        && let Some(oldest) = gone.first().filter(|g| g.gone_at > since)
    {
        past.missing.push(format!(
            "tasks let go before {} are not in it: the gateway keeps the newest {GONE_KEPT} it let go",
            crate::when::local_clock(oldest.gone_at)
        ));
    }
    let tasks = tasks.iter().map(|t| (t, None)).chain(
        gone.iter()
            .filter(|g| g.gone_at > since)
            .map(|g| (&g.task, Some(g.gone_at))),
    );
    let tasks: Vec<(&Task, Option<UnixMillis>)> = tasks.collect();
    let mut routed = Vec::new();
    let mut usage = Usage::default();
    for s in subs {
        let matcher = Matcher::new(&s.filter).map_err(ClientError::Protocol)?;
        let range = match s.topic {
            Topic::Metrics => Some(series(client, &s.filter, since, now).await?),
            _ => None,
        };
        usage.learn(range.iter().flat_map(|r| &r.series));
        routed.push((s, matcher, range));
    }
    let health = Timeline::of(&checks, since);
    let mut changes = Changes::default();
    for (s, matcher, range) in routed.iter_mut() {
        let mut at_since = Vec::new();
        match s.topic {
            Topic::Nodes => {
                for node in &nodes {
                    let times = health.nodes.get(&node.id).map(Vec::as_slice);
                    at_since.push(Record::Node(usage.node_at(node, since, times)));
                    for (t, _) in times.unwrap_or_default().iter().filter(|c| c.0 > since) {
                        let then = usage.node_at(node, *t, times);
                        changes.push(matcher, *t, &s.sub, Op::Updated, Record::Node(then));
                    }
                }
            }
            Topic::Tasks => {
                for &(task, gone_at) in &tasks {
                    let times = health.tasks.get(&task.id).map(Vec::as_slice);
                    let then = task_at(task, since, times);
                    let mut there = then.is_some();
                    at_since.extend(then.map(Record::Task));
                    let mut moments: Vec<UnixMillis> = task.statuses.iter().map(|s| s.at).collect();
                    moments.push(task.started);
                    moments.extend(times.unwrap_or_default().iter().map(|(t, _)| *t));
                    moments.retain(|t| *t > since && *t <= now && gone_at.is_none_or(|g| *t < g));
                    moments.sort_unstable();
                    moments.dedup();
                    for t in moments {
                        let Some(then) = task_at(task, t, times) else {
                            continue;
                        };
                        let op = if there { Op::Updated } else { Op::Added };
                        changes.push(matcher, t, &s.sub, op, Record::Task(then));
                        there = true;
                    }
                    if let Some(at) = gone_at.filter(|_| there) {
                        changes.push(matcher, at, &s.sub, Op::Removed, Record::Task(task.clone()));
                    }
                }
            }
            Topic::Health => {
                for check in &checks {
                    let mut then = check_at(check, since);
                    at_since.push(Record::Check(then.clone()));
                    // As a gateway sends a check's update: with its newest
                    // result alone (a client keeps the history).
                    for result in check.history.iter().filter(|r| r.ts > since) {
                        step(&mut then, result);
                        let held = std::mem::replace(&mut then.history, vec![result.clone()]);
                        let event = then.clone();
                        then.history = held;
                        changes.push(
                            matcher,
                            result.ts,
                            &s.sub,
                            Op::Updated,
                            Record::Check(event),
                        );
                    }
                }
            }
            Topic::Spans => {
                for trace in &traces {
                    let ended = ((trace.start + trace.duration) / 1_000_000) as UnixMillis;
                    let record = Record::Trace(trace.clone());
                    if ended <= since {
                        at_since.push(record);
                    } else if ended <= now {
                        changes.push(matcher, ended, &s.sub, Op::Added, record);
                    }
                }
            }
            Topic::Metrics => {
                for one in range.take().map(|r| r.series).unwrap_or_default() {
                    let (before, after): (Vec<_>, Vec<_>) =
                        one.points.iter().partition(|(t, _)| *t <= since);
                    for (t, value) in after {
                        let sample = Sample {
                            name: one.name.clone(),
                            tags: one.tags.clone(),
                            ts: t,
                            value,
                            unit: one.unit.clone(),
                        };
                        changes.push(matcher, t, &s.sub, Op::Added, Record::Sample(sample));
                    }
                    at_since.push(Record::Series(Series {
                        points: before,
                        ..one
                    }));
                }
            }
            // Log lines come in below, page by page; audit records are
            // not recorded.
            Topic::Logs | Topic::Audit => {}
        }
        at_since.retain(|r| matcher.matches(r));
        // In parts, as a gateway sends a large snapshot.
        let mut parts = at_since.chunks(SNAPSHOT_PART).peekable();
        if parts.peek().is_none() {
            put(since, snapshot(&s.sub, Vec::new(), false));
        }
        while let Some(part) = parts.next() {
            let more = parts.peek().is_some();
            put(since, snapshot(&s.sub, part.to_vec(), more));
        }
    }
    past.changes = changes.list.len() as u64;
    let logs: Vec<_> = routed
        .iter()
        .filter(|(s, ..)| s.topic == Topic::Logs)
        .map(|(s, m, _)| (s, m))
        .collect();
    let mut pending = changes.into_messages().peekable();
    let mut ask = PageAsk {
        since: Some(since),
        until: Some(now),
        limit: PAGE,
        ..Default::default()
    };
    let mut last_t = since;
    while !logs.is_empty() {
        let page = client.log_page(&Filter::default(), &ask).await?;
        if let Some(missing) = page.missing {
            past.missing.push(missing);
        }
        let Some(last) = page.entries.last() else {
            break;
        };
        ask.since = None;
        ask.cursor = Some(last.cursor.clone());
        past.log_cursor = Some(last.cursor.clone());
        past.lines += page.entries.len() as u64;
        for slot in page
            .entries
            .chunk_by(|a, b| a.ts / SLOT_MS == b.ts / SLOT_MS)
        {
            let t = slot[0].ts.max(last_t);
            while let Some((at, what)) = pending.next_if(|c| c.0 <= t) {
                last_t = at.max(last_t);
                put(last_t, what);
            }
            last_t = t;
            for (s, matcher) in &logs {
                let events = lines(slot, matcher);
                if !events.is_empty() {
                    put(t, event(&s.sub, events));
                }
            }
        }
    }
    for (t, what) in pending {
        last_t = t.max(last_t);
        put(last_t, what);
    }
    Ok(past)
}

/// The changes of everything but logs, put in time order before the log
/// lines are read and merged in.
#[derive(Default)]
struct Changes {
    /// (time, subscription, event), in the order pushed; boxed, as a
    /// record is large and there may be a million of them.
    list: Vec<(UnixMillis, usize, Box<Event>)>,
    subs: Vec<String>,
    seq: u64,
}

impl Changes {
    /// A change, if the subscription's filter admits it.
    fn push(&mut self, matcher: &Matcher, t: UnixMillis, sub: &str, op: Op, data: Record) {
        if !matcher.matches(&data) {
            return;
        }
        self.seq += 1;
        let i = match self.subs.iter().position(|s| s == sub) {
            Some(i) => i,
            None => {
                self.subs.push(sub.to_string());
                self.subs.len() - 1
            }
        };
        let seq = self.seq;
        self.list.push((t, i, Box::new(Event { seq, op, data })));
    }

    /// As messages, slot by slot: a subscription's changes of one time
    /// slot in one message, as a gateway batches a reading's (a stable
    /// sort keeps one object's changes in order). Made as they are read,
    /// so only the changes are held, not a copy of them as messages; a
    /// message's time is its first change's.
    fn into_messages(mut self) -> impl Iterator<Item = (UnixMillis, What)> {
        self.list.sort_by_key(|(t, ..)| *t);
        self.list.sort_by_key(|(t, sub, _)| (t / SLOT_MS, *sub));
        let subs = self.subs;
        let mut list = self.list.into_iter().peekable();
        std::iter::from_fn(move || {
            let (t, sub, first) = list.next()?;
            let key = (t / SLOT_MS, sub);
            let mut events = vec![*first];
            while let Some((.., e)) = list.next_if(|(t2, s2, _)| (t2 / SLOT_MS, *s2) == key) {
                events.push(*e);
            }
            Some((t, event(&subs[sub], events)))
        })
    }
}

fn event(sub: &str, events: Vec<Event>) -> What {
    What::Msg(ServerMsg::Event {
        sub: sub.to_string(),
        events,
    })
}

fn snapshot(sub: &str, items: Vec<Record>, more: bool) -> What {
    What::Msg(ServerMsg::Snapshot {
        sub: sub.to_string(),
        seq: 0,
        epoch: String::new(),
        items,
        more,
    })
}

/// The lines of a slot a subscription admits, as its events.
fn lines(slot: &[LogEntry], matcher: &Matcher) -> Vec<Event> {
    slot.iter()
        .filter(|e| matcher.matches_log(e))
        .map(|e| Event {
            seq: 0,
            op: Op::Added,
            data: Record::Log(e.clone()),
        })
        .collect()
}

#[derive(serde::Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

async fn list<T: serde::de::DeserializeOwned>(
    client: &Client,
    path: &str,
) -> Result<Vec<T>, ClientError> {
    Ok(client.get::<Items<T>>(path).await?.items)
}

/// A metrics subscription's series from a little before `since` (for the
/// sparklines it opens with) to `now`: at the points it asked for over
/// the window, or about 300.
async fn series(
    client: &Client,
    filter: &Filter,
    since: UnixMillis,
    now: UnixMillis,
) -> Result<SeriesRange, ClientError> {
    let points = filter.points.unwrap_or(300).clamp(2, 300) as i64;
    let span = (now - since).max(1);
    let step = (span / points).max(1000);
    let from = since - step * points;
    let mut range: SeriesRange = client
        .get(&crate::client::series_path(filter, from, now, Some(step)))
        .await?;
    // Thousands of task series over a long window: every k-th point, so
    // the stretch stays a bounded size (and the newest point stays).
    let total: usize = range.series.iter().map(|s| s.points.len()).sum();
    let k = total.div_ceil(POINTS_KEPT).max(1);
    if k > 1 {
        for one in &mut range.series {
            let last = one.points.len().saturating_sub(1);
            let mut i = 0;
            one.points.retain(|_| {
                i += 1;
                (i - 1) % k == 0 || i - 1 == last
            });
        }
    }
    Ok(range)
}

/// A node's health by its checks, and its CPU and memory by its series,
/// at `t`; the rest as it is now.
#[derive(Default)]
struct Usage {
    /// By (series, node id): the points, oldest first.
    points: HashMap<(&'static str, String), Vec<(UnixMillis, f64)>>,
}

impl Usage {
    fn learn<'a>(&mut self, series: impl Iterator<Item = &'a Series>) {
        for one in series {
            let name = match one.name.as_str() {
                CPU_SERIES => CPU_SERIES,
                MEM_SERIES => MEM_SERIES,
                _ => continue,
            };
            if let Some(node) = one.tags.get("node_id") {
                self.points
                    .insert((name, node.to_string()), one.points.clone());
            }
        }
    }

    fn at(&self, name: &'static str, node: &str, t: UnixMillis) -> Option<f64> {
        let points = self.points.get(&(name, node.to_string()))?;
        let i = points.partition_point(|(at, _)| *at <= t);
        points.get(i.checked_sub(1)?).map(|(_, v)| *v)
    }

    fn node_at(&self, node: &Node, t: UnixMillis, health: Option<&[(UnixMillis, Health)]>) -> Node {
        let mut then = node.clone();
        if let Some(cpu) = self.at(CPU_SERIES, &node.id, t) {
            then.usage.cpu_percent = cpu;
        }
        if let Some(mem) = self.at(MEM_SERIES, &node.id, t) {
            then.usage.mem_bytes = (mem / 100.0 * node.capacity.mem_bytes as f64) as u64;
        }
        if let Some(health) = health.and_then(|h| verdict_at(h, t)) {
            then.health = health;
        }
        then
    }
}

/// Nodes' and tasks' health by their checks over time: by id, each
/// verdict from when it held, in order, the first at `since` or later.
#[derive(Default)]
struct Timeline {
    nodes: HashMap<String, Vec<(UnixMillis, Health)>>,
    tasks: HashMap<String, Vec<(UnixMillis, Health)>>,
}

impl Timeline {
    /// Every check's results in time order, applied one at a time: a
    /// result may change its check's status, which may change its node's
    /// or task's verdict (worked out over that one's checks only).
    fn of(checks: &[Check], since: UnixMillis) -> Timeline {
        let mut results: Vec<(UnixMillis, usize, usize)> = checks
            .iter()
            .enumerate()
            .flat_map(|(i, c)| c.history.iter().enumerate().map(move |(j, r)| (r.ts, i, j)))
            .collect();
        results.sort_unstable();
        let mut held: Vec<Check> = checks
            .iter()
            .map(|c| check_at(c, UnixMillis::MIN))
            .collect();
        let (mut of_node, mut of_task) = (
            HashMap::<&str, Vec<usize>>::new(),
            HashMap::<&str, Vec<usize>>::new(),
        );
        for (i, c) in checks.iter().enumerate() {
            if let Some(node) = &c.node_id {
                of_node.entry(node.as_str()).or_default().push(i);
            }
            if let Some(task) = &c.task_id {
                of_task.entry(task.as_str()).or_default().push(i);
            }
        }
        let mut timeline = Timeline::default();
        for (ts, i, j) in results {
            let before = held[i].status;
            step(&mut held[i], &checks[i].history[j]);
            if held[i].status == before {
                continue;
            }
            let t = ts.max(since);
            if let Some(node) = &checks[i].node_id {
                let (verdicts, _) =
                    health_from_checks(of_node[node.as_str()].iter().map(|&k| &held[k]));
                note(
                    timeline.nodes.entry(node.clone()).or_default(),
                    t,
                    verdicts.get(node).copied(),
                );
            }
            if let Some(task) = &checks[i].task_id {
                let (_, verdicts) =
                    health_from_checks(of_task[task.as_str()].iter().map(|&k| &held[k]));
                note(
                    timeline.tasks.entry(task.clone()).or_default(),
                    t,
                    verdicts.get(task).copied(),
                );
            }
        }
        timeline
    }
}

/// Notes a verdict from `t` on: one at the same moment replaces the one
/// before, and the same verdict again is no change.
fn note(times: &mut Vec<(UnixMillis, Health)>, t: UnixMillis, verdict: Option<Health>) {
    let verdict = verdict.unwrap_or(Health::Unknown);
    if times.last().is_some_and(|(at, _)| *at == t) {
        times.pop();
    }
    if times.last().is_none_or(|(_, h)| *h != verdict) {
        times.push((t, verdict));
    }
}

fn verdict_at(times: &[(UnixMillis, Health)], t: UnixMillis) -> Option<Health> {
    let i = times.partition_point(|(at, _)| *at <= t);
    times.get(i.checked_sub(1)?).map(|(_, h)| *h)
}

/// The task as it stood at `t`: its state by its recorded changes, its
/// health by its checks; none when it was not there yet.
fn task_at(task: &Task, t: UnixMillis, health: Option<&[(UnixMillis, Health)]>) -> Option<Task> {
    let mut then = task.clone();
    match task.statuses.iter().rposition(|s| s.at <= t) {
        Some(i) => {
            let status = &task.statuses[i];
            then.statuses.truncate(i + 1);
            then.updated = status.at;
            if status.state != task.state {
                then.state = status.state;
                then.health = Health::Unknown;
            }
        }
        None if task.statuses.is_empty() && task.started <= t => {}
        None => return None,
    }
    if let Some(health) = health.and_then(|h| verdict_at(h, t)) {
        then.health = health;
    }
    Some(then)
}

/// The check as it stood at `t`: its results up to then, and the status
/// they give by its thresholds.
fn check_at(check: &Check, t: UnixMillis) -> Check {
    let mut then = check.clone();
    then.history.clear();
    then.status = CheckStatus::Unknown;
    (then.consecutive_failures, then.consecutive_successes) = (0, 0);
    (then.last_success, then.last_failure) = (None, None);
    for r in check.history.iter().take_while(|r| r.ts <= t) {
        step(&mut then, r);
    }
    then
}

/// One more result of a check: its counts, status and last output.
fn step(check: &mut Check, r: &CheckResult) {
    if r.ok {
        check.consecutive_successes += 1;
        check.consecutive_failures = 0;
        check.last_success = Some(r.ts);
    } else {
        check.consecutive_failures += 1;
        check.consecutive_successes = 0;
        check.last_failure = Some(r.ts);
    }
    if check.consecutive_failures >= check.failure_threshold.max(1) {
        check.status = CheckStatus::Failing;
    } else if check.consecutive_successes >= check.success_threshold.max(1) {
        check.status = CheckStatus::Passing;
    }
    check.last_output.clone_from(&r.output);
    check.latency_ms = r.latency_ms;
    check.history.push(r.clone());
}
