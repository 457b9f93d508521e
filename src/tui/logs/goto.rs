//! `:goto HH:MM[:SS]`: a time of day read in the local zone's rules.

/// `HH:MM` or `HH:MM:SS` today in `zone`, as of `now`, in milliseconds. A
/// time that a daylight-saving change skips or repeats resolves as the
/// clocks on the wall would (the earlier of a repeated hour).
pub fn local_today_at(
    when: &str,
    now: crate::api::UnixMillis,
    zone: &jiff::tz::TimeZone,
) -> Option<i64> {
    let mut parts = when.trim().split(':');
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
    if parts.next().is_some() {
        return None;
    }
    let today = jiff::Timestamp::from_millisecond(now)
        .ok()?
        .to_zoned_datetime(zone.clone())
        .date();
    let at = today.at(h, m, s, 0).to_zoned_datetime(zone.clone()).ok()?;
    Some(at.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::local_today_at;
    use jiff::tz::TimeZone;

    #[test]
    fn goto_times_follow_the_zones_rules_on_that_day() {
        let berlin = TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        // 2026-03-29, the day clocks go forward at 02:00 (UTC 01:00).
        let noon_utc = 1_774_785_600_000; // 2026-03-29T12:00:00Z
        assert_eq!(
            local_today_at("14:00", noon_utc, &berlin),
            Some(noon_utc),
            "14:00 summer time is 12:00 UTC"
        );
        assert_eq!(
            local_today_at("01:30", noon_utc, &berlin),
            Some(noon_utc - 41_400_000),
            "01:30 winter time is 00:30 UTC"
        );
        for bad in ["25:00", "1:30", "14:00:61", "14:00:00:00", "noon", ""] {
            assert_eq!(local_today_at(bad, noon_utc, &berlin), None, "{bad}");
        }
    }
}
