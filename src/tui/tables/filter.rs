//! What a table keeps: the `/` filter (a regex, `!` inverting, plain text
//! when it is not a regex) and the traces list's own `:traces` filter.

use regex::Regex;

#[derive(Debug, Clone)]
pub struct RowFilter {
    pub text: String,
    regex: Regex,
    invert: bool,
    /// The text was not a valid regex and is matched literally.
    pub literal: bool,
}

impl RowFilter {
    /// `!` in front inverts; an invalid regex is matched as plain text.
    pub fn new(text: &str) -> Option<RowFilter> {
        let (invert, pattern) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if pattern.is_empty() {
            return None;
        }
        let build = crate::tui::widgets::text::user_regex;
        let (regex, literal) = match build(pattern) {
            Ok(r) => (r, false),
            Err(_) => (build(&regex::escape(pattern)).ok()?, true),
        };
        Some(RowFilter {
            text: text.to_string(),
            regex,
            invert,
            literal,
        })
    }

    pub fn keeps(&self, row_text: &str) -> bool {
        self.regex.is_match(row_text) != self.invert
    }
}

/// What the traces list keeps besides the `/` filter: `:traces SERVICE
/// >500ms errors`, or a link's task and time window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceFilter {
    pub service: Option<String>,
    /// Nanoseconds.
    pub min_duration: Option<u64>,
    pub errors_only: bool,
    /// Traces with a span in this task.
    pub task: Option<String>,
    /// Traces that overlap this window.
    pub window: Option<crate::tui::links::window::Window>,
}

impl TraceFilter {
    pub fn keeps(&self, t: &crate::api::TraceSummary) -> bool {
        self.service.as_ref().is_none_or(|s| t.services.contains(s))
            && self.min_duration.is_none_or(|d| t.duration >= d)
            && (!self.errors_only || t.errors > 0)
            && self.task.as_ref().is_none_or(|id| t.tasks.contains(id))
            && self
                .window
                .is_none_or(|w| w.overlaps_nanos(t.start, t.start.saturating_add(t.duration)))
    }
}
