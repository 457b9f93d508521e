//! A one-row sparkline: the newest point at the right edge, as time flows
//! in btop. Any point with a value shows at least the lowest bar, so a
//! quiet series never looks like a missing one.

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` values drawn against `max`, right-aligned.
pub fn sparkline<'a>(
    values: impl DoubleEndedIterator<Item = &'a f64> + ExactSizeIterator,
    max: f64,
    width: usize,
) -> String {
    let shown = values.len().min(width);
    let mut out = String::with_capacity(width * 3);
    out.extend(std::iter::repeat_n(' ', width - shown));
    let skip = values.len() - shown;
    for v in values.skip(skip) {
        let level = if max > 0.0 {
            (v / max * 7.0).round()
        } else {
            0.0
        };
        out.push(BARS[level.clamp(0.0, 7.0) as usize]);
    }
    out
}

/// One bar a value against `max`, a space where there is no value (a gap
/// in the data shows as one).
pub fn sparkline_gaps(values: &[Option<f64>], max: f64) -> String {
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(v) => {
                let level = if max > 0.0 {
                    (v / max * 7.0).round()
                } else {
                    0.0
                };
                BARS[level.clamp(0.0, 7.0) as usize]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{sparkline, sparkline_gaps};

    #[test]
    fn gaps_stay_gaps() {
        assert_eq!(
            sparkline_gaps(&[Some(0.0), None, Some(100.0)], 100.0),
            "▁ █"
        );
    }

    #[test]
    fn newest_at_the_right_and_never_blank() {
        assert_eq!(sparkline([0.0, 50.0, 100.0].iter(), 100.0, 5), "  ▁▅█");
        assert_eq!(sparkline([1.0, 2.0, 3.0, 4.0].iter(), 100.0, 2), "▁▁");
        assert_eq!(sparkline([150.0, -3.0].iter(), 100.0, 2), "█▁");
        assert_eq!(sparkline([].iter(), 100.0, 3), "   ");
        assert_eq!(sparkline([5.0].iter(), 0.0, 1), "▁");
    }
}
