//! Traces: the waterfall of one trace's spans.

pub mod draw;
pub mod layout;
