//! Helpers for the fleet tests: lines written on several hosts, read
//! through a hub, counted per agent.

use std::collections::BTreeMap;
use std::time::Duration;

use day2top::api::{Record, ServerMsg};
use day2top::client::{StreamEvent, StreamHandle};

/// Collects `seq N` lines per agent until each has reached its last.
pub async fn collect_per_agent(
    stream: &mut StreamHandle,
    seen: &mut BTreeMap<String, Vec<u64>>,
    last: &BTreeMap<String, u64>,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    let done = |seen: &BTreeMap<String, Vec<u64>>| {
        last.iter()
            .all(|(a, l)| seen.get(a).and_then(|s| s.last()).is_some_and(|s| s >= l))
    };
    while !done(seen) {
        let event = tokio::time::timeout_at(deadline, stream.events.recv())
            .await
            .unwrap_or_else(|_| {
                let got: BTreeMap<_, _> = seen.iter().map(|(a, s)| (a, s.last())).collect();
                panic!("lines within 40 s: have {got:?}, want {last:?}")
            })
            .unwrap();
        let records: Vec<Record> = match event {
            StreamEvent::Message(ServerMsg::Snapshot { items, .. }) => items,
            StreamEvent::Message(ServerMsg::Event { events, .. }) => {
                events.into_iter().map(|e| e.data).collect()
            }
            StreamEvent::Message(ServerMsg::Resync { .. }) => panic!("a resync"),
            _ => continue,
        };
        for r in records {
            if let Record::Log(l) = r {
                let agent = l.node.split(':').next().unwrap().to_string();
                let n: u64 = l.message.split(' ').nth(1).unwrap().parse().unwrap();
                seen.entry(agent).or_default().push(n);
            }
        }
    }
}

/// Each agent's `seq N` lines arrived once each, in order, from the first
/// to its last.
pub fn assert_exactly_once_per_agent(
    seen: &BTreeMap<String, Vec<u64>>,
    last: &BTreeMap<String, u64>,
) {
    for (agent, want) in last {
        let lines = seen.get(agent).map_or(&[][..], Vec::as_slice);
        let repeated = lines.windows(2).filter(|w| w[1] <= w[0]).count();
        assert_eq!(repeated, 0, "{agent}: lines repeated or out of order");
        assert_eq!(lines.first(), Some(&1), "{agent}: from the first line");
        assert_eq!(
            lines.len() as u64,
            *want,
            "{agent}: lines lost: {} of {want}",
            want - lines.len() as u64,
        );
    }
}

/// OTLP/JSON: spans of one trace, as an instrumented service sends them.
pub fn otlp_json(service: &str, trace: &str, spans: &[(&str, Option<&str>, &str)]) -> String {
    let spans: Vec<String> = spans
        .iter()
        .map(|(id, parent, name)| {
            format!(
                r#"{{"traceId":"{trace}","spanId":"{id}","parentSpanId":"{}","name":"{name}","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000500000000"}}"#,
                parent.unwrap_or("")
            )
        })
        .collect();
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    )
}

/// What an exec session printed (stdout, stderr) and how it ended; within
/// 10 s of each output.
pub async fn run_to_end(
    session: &mut day2top::client::ExecConnection,
) -> (String, String, day2top::api::ExecStatus) {
    use day2top::client::ExecOutput;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    loop {
        match tokio::time::timeout(Duration::from_secs(10), session.output.recv())
            .await
            .expect("output within 10 s")
        {
            Some(ExecOutput::Stdout(b)) => out.extend(b),
            Some(ExecOutput::Stderr(b)) => err.extend(b),
            Some(ExecOutput::Exited(status)) => {
                let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
                return (text(out), text(err), status);
            }
            Some(ExecOutput::Lost(why)) => panic!("the session broke: {why}"),
            None => panic!("the session ended without a status"),
        }
    }
}
