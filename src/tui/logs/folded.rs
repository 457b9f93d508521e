//! Case-insensitive matching made cheap: the text is case-folded once, as
//! it arrives, and the operator's regex is rewritten to match folded text
//! case-sensitively.
//!
//! A case-insensitive regex turns every letter into a class (`[tT]`), which
//! defeats the literal prefilters that make the regex crate fast: over a
//! million log lines, `took=1[0-9]ms` took ~100 ns a line that way, and a
//! few ns once the text is folded and the pattern is the plain literal
//! `took=1` again.

use regex::{Regex, RegexBuilder};
use regex_syntax::hir::{self, Class, ClassBytes, ClassBytesRange, ClassUnicode, Hir, HirKind};

/// Folds `s` onto `out` the way [`FoldedRegex`] expects: ASCII letters
/// lower-cased, and the two non-ASCII letters whose case folds into ASCII
/// (the Kelvin sign and the long s) replaced by theirs. Lengths may change;
/// folded text is only ever matched, never shown.
pub fn fold_into(s: &str, out: &mut String) {
    if !s.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) {
        out.push_str(s);
        return;
    }
    out.extend(s.chars().map(|c| match c {
        '\u{212A}' => 'k',
        '\u{17F}' => 's',
        c => c.to_ascii_lowercase(),
    }));
}

/// Characters that never occur in folded text.
fn unfolded() -> ClassUnicode {
    ClassUnicode::new([
        hir::ClassUnicodeRange::new('A', 'Z'),
        hir::ClassUnicodeRange::new('\u{17F}', '\u{17F}'),
        hir::ClassUnicodeRange::new('\u{212A}', '\u{212A}'),
    ])
}

/// The operator's regex: case-insensitive, `^`/`$` at the ends of each
/// line of a multi-line message, size-limited so a pathological pattern
/// cannot eat the console's memory.
#[derive(Debug, Clone)]
pub enum FoldedRegex {
    /// Matches folded text ([`fold_into`]).
    Folded(Regex),
    /// A pattern that asks for case to matter somewhere (`(?-i)ERROR`):
    /// matches the original text.
    Original(Regex),
}

const SIZE_LIMIT: usize = 1 << 20;

impl FoldedRegex {
    pub fn new(pattern: &str) -> Result<FoldedRegex, String> {
        let hir = regex_syntax::ParserBuilder::new()
            .case_insensitive(true)
            .multi_line(true)
            .build()
            .parse(pattern)
            .map_err(|e| e.to_string())?;
        let build = |p: &str, insensitive: bool| {
            RegexBuilder::new(p)
                .case_insensitive(insensitive)
                .multi_line(true)
                .size_limit(SIZE_LIMIT)
                .build()
                .map_err(|e| e.to_string())
        };
        match folded(&hir) {
            Some(h) => Ok(FoldedRegex::Folded(build(&h.to_string(), false)?)),
            None => Ok(FoldedRegex::Original(build(pattern, true)?)),
        }
    }

    /// Whether the line matches, given its original and its folded text.
    pub fn is_match(&self, original: &str, folded: &str) -> bool {
        match self {
            FoldedRegex::Folded(re) => re.is_match(folded),
            FoldedRegex::Original(re) => re.is_match(original),
        }
    }
}

/// Whether case folding changes or merges `c`.
fn folds(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '\u{212A}' || c == '\u{17F}'
}

/// The pattern rewritten for folded text, or `None` when some part of it
/// is case-sensitive: a letter in a literal, or a class that holds one
/// case of a letter and not the other.
fn folded(h: &Hir) -> Option<Hir> {
    Some(match h.kind() {
        HirKind::Empty | HirKind::Look(_) => h.clone(),
        // A case-insensitive letter is parsed as a class (`[Ee]`), so a
        // letter in a literal was asked for case-sensitively (`(?-i)error`),
        // and folded text would let `ERROR` match it.
        HirKind::Literal(hir::Literal(bytes)) => {
            if String::from_utf8_lossy(bytes).chars().any(folds) {
                return None;
            }
            h.clone()
        }
        HirKind::Class(Class::Unicode(c)) => {
            let has = |ch: char| c.ranges().iter().any(|r| r.start() <= ch && ch <= r.end());
            let closed = |a: char, b: char| has(a) == has(b);
            if !('A'..='Z').all(|u| closed(u, u.to_ascii_lowercase()))
                || !closed('k', '\u{212A}')
                || !closed('s', '\u{17F}')
            {
                return None;
            }
            let mut c = c.clone();
            c.difference(&unfolded());
            Hir::class(Class::Unicode(c))
        }
        HirKind::Class(Class::Bytes(c)) => {
            let has = |b: u8| c.ranges().iter().any(|r| r.start() <= b && b <= r.end());
            if (b'A'..=b'Z').any(|u| has(u) != has(u.to_ascii_lowercase())) {
                return None;
            }
            let mut c = c.clone();
            c.difference(&ClassBytes::new([ClassBytesRange::new(b'A', b'Z')]));
            Hir::class(Class::Bytes(c))
        }
        HirKind::Repetition(r) => Hir::repetition(hir::Repetition {
            sub: Box::new(folded(&r.sub)?),
            ..r.clone()
        }),
        HirKind::Capture(c) => Hir::capture(hir::Capture {
            sub: Box::new(folded(&c.sub)?),
            ..c.clone()
        }),
        HirKind::Concat(v) => Hir::concat(v.iter().map(folded).collect::<Option<_>>()?),
        HirKind::Alternation(v) => Hir::alternation(v.iter().map(folded).collect::<Option<_>>()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(s: &str) -> String {
        let mut out = String::new();
        fold_into(s, &mut out);
        out
    }

    /// The folded regex on folded text agrees with the plain
    /// case-insensitive regex on the original, over awkward cases.
    #[test]
    fn agrees_with_a_case_insensitive_regex() {
        let lines = [
            "ERROR disk full",
            "error: Disk Full",
            "took=15ms",
            "TOOK=15MS",
            "the \u{212A}elvin sign and the long \u{17F}",
            "Straße ÉTÉ été",
            "a\nmulti-line\n\tat com.Example",
            "",
            "level=WARN msg=\"x y\"",
        ];
        let patterns = [
            "error",
            "Disk full",
            "took=1[0-9]ms",
            "kelvin",
            "long s$",
            "été",
            "^\\tat",
            "^$",
            "[A-Z]{5}",
            "[^a-z ]+",
            "\\bWARN\\b",
            "level=\\S+ msg",
            "(?-i)ERROR",
            "(?-i)error",
            "(?-i)[a-z]+ disk",
            "(?-i)\u{17F}",
            "x|Y|z",
        ];
        for p in patterns {
            let re = FoldedRegex::new(p).unwrap();
            let plain = RegexBuilder::new(p)
                .case_insensitive(true)
                .multi_line(true)
                .build()
                .unwrap();
            for l in lines {
                assert_eq!(
                    re.is_match(l, &fold(l)),
                    plain.is_match(l),
                    "pattern {p:?} on {l:?}"
                );
            }
        }
    }

    #[test]
    fn literals_stay_literals_and_case_sensitive_parts_keep_the_original() {
        match FoldedRegex::new("Took=1[0-9]ms").unwrap() {
            FoldedRegex::Folded(re) => assert!(re.as_str().contains("took=1"), "{re}"),
            other => panic!("{other:?}"),
        }
        for case_sensitive in ["(?-i)ERROR", "(?-i)error", "(?-i)[a-z]"] {
            assert!(matches!(
                FoldedRegex::new(case_sensitive).unwrap(),
                FoldedRegex::Original(_)
            ));
        }
        assert!(FoldedRegex::new("(").is_err());
    }
}
