//! Moments an operator types (`:goto`, `logs --since`), read in the local
//! zone's rules: a time of day, a day and a time, a span ago, or an
//! absolute time.

use crate::api::UnixMillis;

/// A moment, as of `now` in `zone`:
/// - `14:02`, `14:02:30` (today), `yesterday 23:10`, `today 08:00`;
/// - `today`, `yesterday` (their midnight);
/// - `2026-12-02 14:02[:SS]` or `2026-12-02T14:02[:SS]` (local), RFC 3339
///   with its offset (`2026-12-02T14:02:00Z`);
/// - a span ago (`15m`, `-1h`, `now-2d`), `now`, or milliseconds since 1970.
pub fn parse(text: &str, now: UnixMillis, zone: &jiff::tz::TimeZone) -> Result<UnixMillis, String> {
    let text = text.trim();
    let day_of = |days_back: i64| -> Option<jiff::civil::Date> {
        let today = jiff::Timestamp::from_millisecond(now)
            .ok()?
            .to_zoned_datetime(zone.clone())
            .date();
        today.checked_sub(jiff::Span::new().days(days_back)).ok()
    };
    let at = |date: jiff::civil::Date, time: jiff::civil::Time| {
        date.to_datetime(time)
            .to_zoned_datetime(zone.clone())
            .ok()
            .map(|z| z.timestamp().as_millisecond())
    };
    let (day, rest) = match text.split_once(' ') {
        Some(("today", rest)) => (Some(0), rest.trim()),
        Some(("yesterday", rest)) => (Some(1), rest.trim()),
        _ => match text {
            "today" => (Some(0), "00:00"),
            "yesterday" => (Some(1), "00:00"),
            _ => (None, text),
        },
    };
    let found = match day {
        Some(back) => clock(rest).and_then(|t| at(day_of(back)?, t)),
        None => clock(text)
            .and_then(|t| at(day_of(0)?, t))
            .or_else(|| {
                let local: jiff::civil::DateTime = text.replacen(' ', "T", 1).parse().ok()?;
                at(local.date(), local.time())
            })
            .or_else(|| crate::api::parse_time(text, now)),
    };
    found.ok_or_else(|| {
        format!(
            "{text:?} is not a time: 14:02, yesterday 23:10, 2026-12-02 14:02, 2026-12-02T14:02:00Z, or a span ago like 15m"
        )
    })
}

/// `HH:MM` or `HH:MM:SS`, two digits each.
fn clock(text: &str) -> Option<jiff::civil::Time> {
    let mut parts = text.split(':');
    let mut part = |max: i8| -> Option<i8> {
        let p = parts.next()?;
        (p.len() == 2).then_some(())?;
        p.parse::<i8>().ok().filter(|v| (0..=max).contains(v))
    };
    let (h, m) = (part(23)?, part(59)?);
    let s = match parts.next() {
        None => 0,
        Some(p) if p.len() == 2 => p.parse::<i8>().ok().filter(|v| (0..=59).contains(v))?,
        Some(_) => return None,
    };
    parts
        .next()
        .is_none()
        .then(|| jiff::civil::time(h, m, s, 0))
}

/// `t` as this machine's wall clock, `HH:MM:SS`, for a message.
pub fn local_clock(t: UnixMillis) -> String {
    jiff::Timestamp::from_millisecond(t)
        .map(|ts| {
            ts.to_zoned_datetime(jiff::tz::TimeZone::system())
                .strftime("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::parse;
    use jiff::tz::TimeZone;

    #[test]
    fn goto_times_follow_the_zones_rules_on_that_day() {
        let berlin = TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        // 2026-03-29, the day clocks go forward at 02:00 (UTC 01:00).
        let noon_utc = 1_774_785_600_000; // 2026-03-29T12:00:00Z
        assert_eq!(
            parse("14:00", noon_utc, &berlin),
            Ok(noon_utc),
            "14:00 summer time is 12:00 UTC"
        );
        assert_eq!(
            parse("01:30", noon_utc, &berlin),
            Ok(noon_utc - 41_400_000),
            "01:30 winter time is 00:30 UTC"
        );
        assert_eq!(
            parse("yesterday 23:10", noon_utc, &berlin),
            Ok(noon_utc - 12 * 3_600_000 - 50 * 60_000 - 3_600_000),
            "23:10 on the 28th, winter time, is 22:10 UTC"
        );
        assert_eq!(
            parse("today", noon_utc, &berlin),
            Ok(noon_utc - 13 * 3_600_000),
            "midnight, winter time"
        );
        assert_eq!(parse("2026-03-29 14:00", noon_utc, &berlin), Ok(noon_utc));
        assert_eq!(parse("2026-03-29T12:00:00Z", 0, &berlin), Ok(noon_utc));
        assert_eq!(parse("15m", noon_utc, &berlin), Ok(noon_utc - 900_000));
        for bad in [
            "25:00",
            "1:30",
            "14:00:61",
            "14:00:00:00",
            "noon",
            "",
            "yesterday 9",
        ] {
            assert!(parse(bad, noon_utc, &berlin).is_err(), "{bad}");
        }
    }
}
