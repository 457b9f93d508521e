//! One statsd / DogStatsD line: `name:value|type|@rate|#tag:v,tag2`, an
//! event `_e{5,4}:title|text|…`, or a service check `_sc|name|status|…`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Timer,
    Histogram,
    Distribution,
    Set,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    /// A gauge's `+N` / `-N`: a change, not a level.
    Delta(f64),
    /// A set member, counted once per interval however often it comes.
    Member(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub kind: Kind,
    pub value: Value,
    /// The client sent 1 in 1/rate of these; counts are scaled back up.
    pub rate: f64,
    pub tags: Vec<(String, String)>,
}

/// A DogStatsD event: shown in the log stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub title: String,
    pub text: String,
    /// `info` (default), `warning`, `error` or `success`.
    pub alert_type: String,
    pub host: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// A DogStatsD service check: 0 OK, 1 warning, 2 critical, 3 unknown.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceCheck {
    pub name: String,
    pub status: u8,
    pub message: Option<String>,
    pub host: Option<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Metric(Metric),
    Event(Event),
    ServiceCheck(ServiceCheck),
}

/// Why a line was refused; the line itself is logged beside it (cut).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub &'static str);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

fn tags(field: &str) -> Vec<(String, String)> {
    field
        .split(',')
        .filter(|t| !t.is_empty())
        .map(|t| match t.split_once(':') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (t.to_string(), String::new()),
        })
        .collect()
}

pub fn parse(line: &str) -> Result<Line, ParseError> {
    let line = line.trim_end_matches('\r');
    if let Some(rest) = line.strip_prefix("_e{") {
        return event(rest).map(Line::Event);
    }
    if let Some(rest) = line.strip_prefix("_sc|") {
        return service_check(rest).map(Line::ServiceCheck);
    }
    metric(line).map(Line::Metric)
}

fn metric(line: &str) -> Result<Metric, ParseError> {
    let (name, rest) = line
        .split_once(':')
        .ok_or(ParseError("no ':' between name and value"))?;
    if name.is_empty() {
        return Err(ParseError("empty metric name"));
    }
    let mut fields = rest.split('|');
    let value = fields.next().unwrap_or_default();
    let kind = match fields.next() {
        Some("c") => Kind::Counter,
        Some("g") => Kind::Gauge,
        Some("ms") => Kind::Timer,
        Some("h") => Kind::Histogram,
        Some("d") => Kind::Distribution,
        Some("s") => Kind::Set,
        Some(_) => return Err(ParseError("unknown metric type")),
        None => return Err(ParseError("no metric type")),
    };
    let value = match kind {
        Kind::Set if !value.is_empty() => Value::Member(value.to_string()),
        Kind::Gauge if value.starts_with(['+', '-']) => Value::Delta(number(value)?),
        _ => Value::Number(number(value)?),
    };
    let mut metric = Metric {
        name: name.to_string(),
        kind,
        value,
        rate: 1.0,
        tags: Vec::new(),
    };
    for field in fields {
        if let Some(rate) = field.strip_prefix('@') {
            metric.rate = rate
                .parse::<f64>()
                .ok()
                .filter(|r| *r > 0.0 && *r <= 1.0)
                .ok_or(ParseError("a sample rate is a number in (0, 1]"))?;
        } else if let Some(t) = field.strip_prefix('#') {
            metric.tags.extend(tags(t));
        }
        // Other DogStatsD fields (`c:` container id, `T` timestamp) are
        // accepted and not used.
    }
    Ok(metric)
}

fn number(text: &str) -> Result<f64, ParseError> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or(ParseError("the value is not a number"))
}

/// `_e{TITLE_LEN,TEXT_LEN}:title|text|d:ts|h:host|p:prio|t:type|#tags`
/// (the lengths are in bytes; `\n` in the text is an escaped newline).
fn event(rest: &str) -> Result<Event, ParseError> {
    let bad = ParseError("an event is _e{TITLE_LEN,TEXT_LEN}:title|text");
    let (lengths, body) = rest.split_once("}:").ok_or(bad.clone())?;
    let (a, b) = lengths.split_once(',').ok_or(bad.clone())?;
    let (a, b): (usize, usize) = (
        a.parse().map_err(|_| bad.clone())?,
        b.parse().map_err(|_| bad.clone())?,
    );
    let title = body.get(..a).ok_or(bad.clone())?;
    let after = body.get(a..).ok_or(bad.clone())?;
    let after = after.strip_prefix('|').ok_or(bad.clone())?;
    let text = after.get(..b).ok_or(bad.clone())?;
    let mut event = Event {
        title: title.to_string(),
        text: text.replace("\\n", "\n"),
        alert_type: "info".into(),
        host: None,
        tags: Vec::new(),
    };
    for field in after.get(b..).unwrap_or_default().split('|') {
        if let Some(t) = field.strip_prefix("t:") {
            event.alert_type = t.to_string();
        } else if let Some(h) = field.strip_prefix("h:") {
            event.host = Some(h.to_string());
        } else if let Some(t) = field.strip_prefix('#') {
            event.tags.extend(tags(t));
        }
    }
    Ok(event)
}

/// `_sc|name|status|d:ts|h:host|#tags|m:message`
fn service_check(rest: &str) -> Result<ServiceCheck, ParseError> {
    let mut fields = rest.split('|');
    let name = fields
        .next()
        .filter(|n| !n.is_empty())
        .ok_or(ParseError("a service check needs a name"))?;
    let status = fields
        .next()
        .and_then(|s| s.parse::<u8>().ok())
        .filter(|s| *s <= 3)
        .ok_or(ParseError("a service check status is 0, 1, 2 or 3"))?;
    let mut check = ServiceCheck {
        name: name.to_string(),
        status,
        message: None,
        host: None,
        tags: Vec::new(),
    };
    for field in fields {
        if let Some(m) = field.strip_prefix("m:") {
            check.message = Some(m.to_string());
        } else if let Some(h) = field.strip_prefix("h:") {
            check.host = Some(h.to_string());
        } else if let Some(t) = field.strip_prefix('#') {
            check.tags.extend(tags(t));
        }
    }
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(line: &str) -> Metric {
        match parse(line).unwrap() {
            Line::Metric(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_metric_type_with_rates_and_tags() {
        let c = m("page.views:3|c|@0.5|#env:prod,canary");
        assert_eq!(
            (c.kind, c.value.clone(), c.rate),
            (Kind::Counter, Value::Number(3.0), 0.5)
        );
        assert_eq!(
            c.tags,
            [
                ("env".into(), "prod".into()),
                ("canary".into(), String::new())
            ]
        );
        assert_eq!(m("queue:-2|g").value, Value::Delta(-2.0));
        assert_eq!(m("queue:+2.5|g").value, Value::Delta(2.5));
        assert_eq!(m("queue:7|g").value, Value::Number(7.0));
        assert_eq!(m("db.query:12.5|ms").kind, Kind::Timer);
        assert_eq!(m("size:512|h").kind, Kind::Histogram);
        assert_eq!(
            m("lat:3|d|#a:b|c:abc123|T1700000000").kind,
            Kind::Distribution
        );
        assert_eq!(m("users:alice|s").value, Value::Member("alice".into()));
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        for bad in [
            "",
            "no-colon",
            ":1|c",
            "x:1",
            "x:1|q",
            "x:abc|c",
            "x:NaN|g",
            "x:1|c|@2",
            "x:1|c|@zero",
            "_e{5,4}:short",
            "_e{x,y}:a|b",
            "_e{50,4}:title|text",
            "_sc|name",
            "_sc||0",
            "_sc|name|7",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn events_and_service_checks() {
        let Line::Event(e) =
            parse("_e{10,9}:disk alert|sda1 full|t:error|h:agent-1|#team:ops").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (e.title.as_str(), e.text.as_str(), e.alert_type.as_str()),
            ("disk alert", "sda1 full", "error")
        );
        assert_eq!(e.host.as_deref(), Some("agent-1"));
        let Line::ServiceCheck(c) = parse("_sc|db.up|2|h:db-1|#env:prod|m:no route").unwrap()
        else {
            panic!()
        };
        assert_eq!((c.name.as_str(), c.status), ("db.up", 2));
        assert_eq!(c.message.as_deref(), Some("no route"));
    }
}
