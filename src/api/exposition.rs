//! How the gateway's series are named in the Prometheus exposition
//! (`GET /metrics`), for the exposition itself and for reading history
//! back from a Prometheus that scraped it.

/// A collected series' family name. The gateway's own families are
/// `day2top_nodes`, `day2top_tasks` and `day2top_gateway_*`; a collected
/// name that would land on one of them, or that starts with the escape
/// itself, gets `collected_` in front. The mapping stays one to one, so a
/// statsd metric can never write a second TYPE line for another family.
pub fn collected_name(name: &str) -> String {
    let name = sanitize(name);
    let reserved = matches!(name.as_str(), "nodes" | "tasks")
        || name.starts_with("gateway_")
        || name.starts_with("collected_");
    if reserved {
        format!("day2top_collected_{name}")
    } else {
        format!("day2top_{name}")
    }
}

/// A label value as the exposition (and PromQL) quote it: in double
/// quotes, with `\\`, `"` and newlines escaped.
pub fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A metric or label name as Prometheus allows it: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, '_');
    }
    out
}
