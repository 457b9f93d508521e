//! The table views (nodes, tasks, health checks, traces): rows kept up
//! to date by what changed, filtered and sorted, and drawn by a definition.

pub mod draw;
pub mod fields;
pub mod state;
