//! The cluster view: counts, the node list with sparklines, recent changes.

pub mod draw;
