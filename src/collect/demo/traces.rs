//! The demo cluster's traces, in the shape of a real request through
//! microservices: the frontend's checkout calls the payments API, which
//! queries Cassandra (waiting on a lock, as span events say), charges a
//! card (now and then declined), fans out to a routing service in
//! parallel, and hands an order to Kafka for a consumer. Some are slow
//! outliers; a few carry an orphan span or a child whose clock runs early.

use std::collections::BTreeMap;

use crate::api::{Span, SpanEvent, SpanKind, SpanStatus, Task, UnixMillis};
use crate::collect::rng::Rng;

pub struct DemoTraces {
    /// Its own generator, so traces never change the cluster.
    rng: Rng,
}

/// Builds one trace's spans.
struct Builder<'a> {
    rng: &'a mut Rng,
    trace_id: String,
    tasks: &'a [&'a Task],
    spans: Vec<Span>,
}

impl Builder<'_> {
    /// A span of `service` from `start` for `dur` ns (ids made here).
    #[allow(clippy::too_many_arguments)]
    fn span(
        &mut self,
        parent: Option<&str>,
        service: &str,
        name: &str,
        kind: SpanKind,
        start: u64,
        dur: u64,
        attributes: &[(&str, String)],
    ) -> String {
        let span_id = self.rng.hex(16);
        // The task of that service, where the demo runs one.
        let task = self.tasks.iter().find(|t| t.name.starts_with(service));
        let mut resource = BTreeMap::from([("service.name".to_string(), service.to_string())]);
        if let Some(t) = task {
            resource.insert("mesos.task_id".into(), t.id.clone());
            resource.insert("host.name".into(), t.node_id.clone());
        }
        self.spans.push(Span {
            trace_id: self.trace_id.clone(),
            span_id: span_id.clone(),
            parent_id: parent.map(str::to_string),
            service: service.into(),
            name: name.into(),
            kind,
            start,
            end: start + dur,
            status: SpanStatus::Unset,
            status_message: String::new(),
            attributes: attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            resource,
            events: Vec::new(),
            node_id: task.map(|t| t.node_id.clone()),
            task_id: task.map(|t| t.id.clone()),
        });
        span_id
    }

    fn last(&mut self) -> &mut Span {
        self.spans.last_mut().expect("a span was just made")
    }
}

const MS: u64 = 1_000_000;

impl DemoTraces {
    pub fn new(seed: u64) -> DemoTraces {
        DemoTraces {
            rng: Rng::new(seed ^ 0x7ace),
        }
    }

    /// `count` traces that ended around `now`.
    pub fn write(&mut self, tasks: &[&Task], now: UnixMillis, count: usize, out: &mut Vec<Span>) {
        for _ in 0..count {
            let end = now.max(0) as u64 * MS - self.rng.range(0, 900) * MS;
            self.trace(tasks, end, out);
        }
    }

    fn trace(&mut self, tasks: &[&Task], end: u64, out: &mut Vec<Span>) {
        let slow = self.rng.chance(0.05);
        let total = if slow {
            self.rng.range(1200, 3000) * MS
        } else {
            self.rng.range(60, 320) * MS
        };
        let t0 = end - total;
        let trace_id = self.rng.hex(32);
        let mut b = Builder {
            rng: &mut self.rng,
            trace_id,
            tasks,
            spans: Vec::new(),
        };
        let http = |m: &str, p: &str| {
            vec![
                ("http.method", m.to_string()),
                ("http.target", p.to_string()),
            ]
        };
        let root = b.span(
            None,
            "frontend",
            "HTTP GET /checkout",
            SpanKind::Server,
            t0,
            total,
            &http("GET", "/checkout"),
        );

        // The customer lookup: a client call, the API's handling, the query.
        let lookup = total / 4;
        let call = b.span(
            Some(&root),
            "frontend",
            "HTTP GET /customer",
            SpanKind::Client,
            t0 + MS,
            lookup,
            &http("GET", "/customer"),
        );
        let api = b.span(
            Some(&call),
            "payments-api",
            "GET /customer",
            SpanKind::Server,
            t0 + 2 * MS,
            lookup - 2 * MS,
            &http("GET", "/customer"),
        );
        let waited = b.rng.range(0, 5);
        // Now and then the database's clock runs a little early.
        let skew = if b.rng.chance(0.03) { 4 * MS } else { 0 };
        b.span(
            Some(&api),
            "cassandra",
            "SELECT customers",
            SpanKind::Client,
            t0 + 3 * MS - skew,
            lookup - 5 * MS,
            &[
                (
                    "db.statement",
                    "SELECT * FROM customers WHERE id = ?".into(),
                ),
                ("db.system", "cassandra".into()),
            ],
        );
        let query = b.last();
        query.events = vec![
            SpanEvent {
                ts: query.start + 430_000,
                name: format!("Waiting for lock behind {waited} transactions"),
                attributes: BTreeMap::new(),
            },
            SpanEvent {
                ts: query.end - MS,
                name: "Acquired lock".into(),
                attributes: BTreeMap::new(),
            },
        ];

        // The charge, declined now and then.
        let charge_at = t0 + lookup + 2 * MS;
        let charge = b.span(
            Some(&root),
            "payments-api",
            "POST /charge",
            SpanKind::Server,
            charge_at,
            total / 4,
            &http("POST", "/charge"),
        );
        if b.rng.chance(0.08) {
            let s = b.last();
            s.status = SpanStatus::Error;
            s.status_message = "card declined".into();
            s.attributes.insert("http.status_code".into(), "402".into());
        }
        b.span(
            Some(&charge),
            "payments-api",
            "fraud-score",
            SpanKind::Internal,
            charge_at + MS,
            total / 8,
            &[],
        );

        // Routes for the delivery, asked in parallel.
        let fan_at = charge_at + total / 4 + MS;
        let fan = total
            .saturating_sub(fan_at - t0)
            .saturating_sub(total / 5)
            .max(4 * MS);
        for i in 0..b.rng.range(3, 10) {
            let start = fan_at + b.rng.range(0, 3) * MS;
            let dur = (fan / 2 + b.rng.range(0, fan / 2 / MS + 1) * MS).min(fan);
            b.span(
                Some(&root),
                "route",
                "HTTP GET /route",
                SpanKind::Client,
                start,
                dur,
                &[("route.leg", i.to_string())],
            );
        }

        // The order, handed to Kafka and consumed after the response.
        let publish_at = end - total / 5;
        let produce = b.span(
            Some(&root),
            "kafka",
            "orders publish",
            SpanKind::Producer,
            publish_at,
            2 * MS,
            &[("messaging.destination", "orders".into())],
        );
        b.span(
            Some(&produce),
            "kafka",
            "orders process",
            SpanKind::Consumer,
            publish_at + 5 * MS,
            total / 6,
            &[("messaging.destination", "orders".into())],
        );

        // Now and then a span whose parent never arrives.
        if b.rng.chance(0.03) {
            let missing = b.rng.hex(16);
            b.span(
                Some(&missing),
                "route",
                "HTTP GET /route",
                SpanKind::Server,
                fan_at,
                fan / 3,
                &[],
            );
        }
        out.append(&mut b.spans);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::TraceSummary;

    #[test]
    fn traces_in_shape() {
        let mut demo = DemoTraces::new(7);
        let mut spans = Vec::new();
        demo.write(&[], 1_700_000_000_000, 200, &mut spans);
        let mut by: BTreeMap<String, Vec<Span>> = BTreeMap::new();
        for s in spans {
            by.entry(s.trace_id.clone()).or_default().push(s);
        }
        assert_eq!(by.len(), 200);
        let summaries: Vec<TraceSummary> =
            by.iter().map(|(id, s)| TraceSummary::of(id, s)).collect();
        assert!(
            summaries
                .iter()
                .all(|t| t.root_operation == "HTTP GET /checkout" && t.spans >= 10)
        );
        assert!(
            summaries.iter().any(|t| t.errors > 0),
            "some charges are declined"
        );
        assert!(summaries.iter().any(|t| t.orphans > 0), "some orphans");
        assert!(
            summaries.iter().any(|t| t.duration > 1_000 * MS),
            "some slow outliers"
        );
        assert!(by.values().flatten().all(|s| s.end >= s.start));
    }
}
