//! Small drawing helpers shared by views: sparklines, and text made safe
//! and fitted to a width.

pub mod sparkline;
pub mod text;
pub mod units;
