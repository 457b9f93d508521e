//! Spans of time as people write them: `90s`, `15m`, `1h`, `2d`, or plain
//! milliseconds; used by the series route's `from`/`to`/`step` and the
//! dashboard's windows alike.

use super::UnixMillis;

/// `15m` → 900,000 ms; `1h30m` → 5,400,000 ms. A bare number is
/// milliseconds; parts go from the largest unit to the smallest.
pub fn parse_span(text: &str) -> Option<i64> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut last_per = i64::MAX;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        let n: i64 = number.parse().ok()?;
        let units = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(units);
        let per = match unit {
            "" | "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return None,
        };
        // `30m1h` or `5m5m` is a typo, not a span.
        if per >= last_per || (unit.is_empty() && !tail.is_empty()) {
            return None;
        }
        last_per = per;
        total = total.checked_add(n.checked_mul(per)?)?;
        rest = tail;
    }
    Some(total)
}

/// A point in time: `now`, `now-15m`, `-15m` or `15m` (before `now`),
/// milliseconds since the epoch, or RFC 3339 (`2026-12-02T14:02:00Z`).
pub fn parse_time(text: &str, now: UnixMillis) -> Option<UnixMillis> {
    let text = text.trim();
    if text == "now" {
        return Some(now);
    }
    if let Some(ago) = text.strip_prefix("now-").or_else(|| text.strip_prefix('-')) {
        return Some(now - parse_span(ago)?);
    }
    if let Ok(ms) = text.parse() {
        return Some(ms);
    }
    if let Ok(at) = text.parse::<jiff::Timestamp>() {
        return Some(at.as_millisecond());
    }
    Some(now - parse_span(text)?)
}

/// `900000` → `15m`: the largest unit that divides the span.
pub fn format_span(ms: i64) -> String {
    for (per, unit) in [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
    ] {
        if ms >= per && ms % per == 0 {
            return format!("{}{unit}", ms / per);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_times() {
        assert_eq!(parse_span("15m"), Some(900_000));
        assert_eq!(parse_span("250"), Some(250));
        assert_eq!(parse_span("2x"), None);
        assert_eq!(parse_span("m"), None);
        assert_eq!(parse_span("1h30m"), Some(5_400_000));
        assert_eq!(parse_span("2d3h4m5s6ms"), Some(183_845_006));
        assert_eq!(parse_span("1m30"), Some(60_030), "a bare last part is ms");
        assert_eq!(parse_span("30m1h"), None);
        assert_eq!(parse_span("5m5m"), None);
        assert_eq!(parse_span("1h 30m"), None);
        assert_eq!(parse_span(""), None);
        assert_eq!(parse_span("99999999999999999d"), None, "overflow");
        assert_eq!(parse_time("15m", 1_000_000), Some(100_000));
        assert_eq!(
            parse_time("2023-11-14T22:13:20Z", 0),
            Some(1_700_000_000_000)
        );
        assert_eq!(parse_time("yesterday", 0), None);
        assert_eq!(parse_time("now", 5000), Some(5000));
        assert_eq!(parse_time("-2s", 5000), Some(3000));
        assert_eq!(parse_time("now-1s", 5000), Some(4000));
        assert_eq!(parse_time("1700000000000", 0), Some(1_700_000_000_000));
        assert_eq!(format_span(900_000), "15m");
        assert_eq!(format_span(90_000), "90s");
        assert_eq!(format_span(1500), "1500ms");
    }
}
