//! Exec panes: a terminal into a task, and the list of sessions.

pub mod draw;
pub mod keys;
pub mod pane;
