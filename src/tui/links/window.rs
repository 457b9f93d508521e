//! A time window between two views: spans carry nanoseconds, log lines
//! and checks milliseconds, and a link must never lose a line to the
//! conversion (the "no logs for any span" bug of other tools). A window is
//! closed at both ends, in milliseconds; a span's nanoseconds are rounded
//! outwards, so a line stamped in the span's first or last millisecond is
//! inside.

use crate::api::{UnixMillis, UnixNanos};

const NS_PER_MS: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The first millisecond inside.
    pub from: UnixMillis,
    /// The last millisecond inside.
    pub to: UnixMillis,
}

impl Window {
    /// `from..=to`, put in order.
    pub fn new(a: UnixMillis, b: UnixMillis) -> Window {
        Window {
            from: a.min(b),
            to: a.max(b),
        }
    }

    /// A span's time in milliseconds, rounded outwards: its start down,
    /// its end up.
    pub fn of_nanos(start: UnixNanos, end: UnixNanos) -> Window {
        let (start, end) = (start.min(end), start.max(end));
        let from = start / NS_PER_MS;
        let to = end.div_ceil(NS_PER_MS);
        Window::new(clamp(from), clamp(to))
    }

    /// The moment `at`, with `before` and `after` around it.
    pub fn around(at: UnixMillis, before: i64, after: i64) -> Window {
        Window::new(
            at.saturating_sub(before.max(0)),
            at.saturating_add(after.max(0)),
        )
    }

    /// Wider by `before` at the start and `after` at the end.
    pub fn margin(self, before: i64, after: i64) -> Window {
        Window::new(
            self.from.saturating_sub(before.max(0)),
            self.to.saturating_add(after.max(0)),
        )
    }

    /// Twice as long, around the same middle (`:widen`); a window of one
    /// millisecond becomes three, so it always grows.
    pub fn widen(self) -> Window {
        let half = ((self.length_ms() + 1) / 2).max(1);
        self.margin(half, half)
    }

    /// Milliseconds from the first to the last inside.
    pub fn length_ms(self) -> i64 {
        self.to.saturating_sub(self.from)
    }

    pub fn contains(self, ms: UnixMillis) -> bool {
        (self.from..=self.to).contains(&ms)
    }

    /// Whether a span (or trace) of nanoseconds overlaps the window.
    pub fn overlaps_nanos(self, start: UnixNanos, end: UnixNanos) -> bool {
        let span = Window::of_nanos(start, end);
        span.from <= self.to && self.from <= span.to
    }

    /// `14:03:05–14:03:07` in the zone (milliseconds when the window is
    /// under ten seconds, the date when it does not start today).
    pub fn label(self, zone: &jiff::tz::TimeZone, now: UnixMillis) -> String {
        let (from, to) = self.ends(zone, now);
        format!("{from}–{to}")
    }

    /// Its first and last moment, as [`Window::label`] writes them.
    pub fn ends(self, zone: &jiff::tz::TimeZone, now: UnixMillis) -> (String, String) {
        let precise = self.length_ms() < 10_000;
        (
            moment(self.from, zone, now, precise),
            moment(self.to, zone, now, precise),
        )
    }
}

/// A moment in the zone: the clock (to the millisecond when `precise`),
/// and the date too when it is not today's.
pub fn moment(ms: UnixMillis, zone: &jiff::tz::TimeZone, now: UnixMillis, precise: bool) -> String {
    let at = |ms: UnixMillis| {
        jiff::Timestamp::from_millisecond(ms)
            .ok()
            .map(|t| t.to_zoned_datetime(zone.clone()))
    };
    let (Some(then), Some(today)) = (at(ms), at(now)) else {
        return format!("{ms} ms");
    };
    let clock = if precise { "%H:%M:%S%.3f" } else { "%H:%M:%S" };
    if then.date() == today.date() {
        then.strftime(clock).to_string()
    } else {
        then.strftime(&format!("%Y-%m-%d {clock}")).to_string()
    }
}

fn clamp(ms: u64) -> UnixMillis {
    ms.min(i64::MAX as u64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// 2026-12-01 14:03:05.123456789 UTC.
    const AT: u64 = 1_796_133_785_123_456_789;

    #[test]
    fn a_span_rounds_outwards_to_whole_milliseconds() {
        let w = Window::of_nanos(AT, AT + 2_500_000_000);
        assert_eq!(w.from, 1_796_133_785_123, "the start rounds down");
        assert_eq!(w.to, 1_796_133_787_624, "the end rounds up");
        // A line stamped in the span's first and last millisecond is in.
        assert!(w.contains(1_796_133_785_123));
        assert!(w.contains(1_796_133_787_623));
        assert!(!w.contains(1_796_133_785_122));
    }

    #[test]
    fn a_span_shorter_than_a_millisecond_still_holds_its_millisecond() {
        let w = Window::of_nanos(AT, AT + 10);
        assert!(w.contains(1_796_133_785_123));
        assert_eq!(w.length_ms(), 1);
        // A span on a whole millisecond keeps it, and no more.
        let whole = 1_796_133_785_000_000_000;
        assert_eq!(
            Window::of_nanos(whole, whole),
            Window::new(1_796_133_785_000, 1_796_133_785_000)
        );
    }

    #[test]
    fn nanoseconds_are_never_taken_for_milliseconds() {
        // The bug other tools shipped: a span's ns compared with a line's ms.
        let w = Window::of_nanos(AT, AT + 1_000_000);
        assert!(
            w.from < 10_000_000_000_000,
            "milliseconds, not ns: {}",
            w.from
        );
        assert!(
            w.from > 1_000_000_000_000,
            "milliseconds, not seconds: {}",
            w.from
        );
    }

    #[test]
    fn margins_widen_and_clamp() {
        let w = Window::around(10_000, 2_000, 500);
        assert_eq!(w, Window::new(8_000, 10_500));
        assert_eq!(w.margin(1_000, 1_000), Window::new(7_000, 11_500));
        assert_eq!(w.margin(-5, -5), w, "a negative margin never narrows");
        assert_eq!(Window::around(i64::MAX - 1, 0, 10).to, i64::MAX);
        assert_eq!(Window::around(i64::MIN + 1, 10, 0).from, i64::MIN);
    }

    #[test]
    fn widen_doubles_around_the_middle() {
        let w = Window::new(10_000, 12_000).widen();
        assert_eq!(w, Window::new(9_000, 13_000));
        assert_eq!(w.length_ms(), 4_000);
        assert_eq!(Window::new(5, 5).widen(), Window::new(4, 6));
    }

    #[test]
    fn overlap_with_spans() {
        let w = Window::new(1_000, 2_000);
        assert!(w.overlaps_nanos(2_000 * NS_PER_MS + 999_999, 3_000 * NS_PER_MS));
        assert!(
            w.overlaps_nanos(500 * NS_PER_MS, 1_000 * NS_PER_MS - 1),
            "ends in ms 1000"
        );
        assert!(!w.overlaps_nanos(2_001 * NS_PER_MS, 3_000 * NS_PER_MS));
        assert!(!w.overlaps_nanos(0, 999 * NS_PER_MS));
    }

    #[test]
    fn labels_say_absolute_time() {
        let zone = jiff::tz::TimeZone::UTC;
        let now = 1_796_133_800_000;
        let w = Window::of_nanos(AT, AT + 2_000_000_000);
        assert_eq!(w.label(&zone, now), "14:03:05.123–14:03:07.124");
        let long = Window::around(1_796_133_785_000, 60_000, 60_000);
        assert_eq!(long.label(&zone, now), "14:02:05–14:04:05");
        let yesterday = Window::around(1_796_133_785_000 - 86_400_000, 0, 60_000);
        assert_eq!(
            yesterday.label(&zone, now),
            "2026-11-30 14:03:05–2026-11-30 14:04:05"
        );
    }

    proptest! {
        /// Every millisecond a span touches is inside its window, and the
        /// window is at most one millisecond longer at either end.
        #[test]
        fn span_windows_hold_every_millisecond_they_touch(
            start in 0u64..4_000_000_000_000_000_000,
            dur in 0u64..10_000_000_000,
            probe in 0u64..10_000_000_000,
        ) {
            let end = start + dur;
            let w = Window::of_nanos(start, end);
            let inside = start + probe.min(dur);
            prop_assert!(w.contains((inside / NS_PER_MS) as i64));
            prop_assert!(w.from as u64 * NS_PER_MS <= start);
            prop_assert!(w.to as u64 * NS_PER_MS >= end);
            prop_assert!(w.from as u64 * NS_PER_MS + NS_PER_MS > start);
            prop_assert!((w.to as u64) * NS_PER_MS < end + NS_PER_MS);
            prop_assert!(w.overlaps_nanos(start, end));
        }

        #[test]
        fn widening_keeps_what_was_inside(from in -1_000_000i64..1_000_000, len in 0i64..1_000_000, probe in 0i64..1_000_000) {
            let w = Window::new(from, from + len);
            let wide = w.widen();
            prop_assert!(wide.length_ms() >= 2 * w.length_ms());
            let inside = from + probe.min(len);
            prop_assert!(wide.contains(inside));
        }
    }
}
