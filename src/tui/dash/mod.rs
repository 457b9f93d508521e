//! The dashboard: panels of metric series over a time window, and the
//! drill-down into one panel's series.

pub mod draw;
pub mod panels;
