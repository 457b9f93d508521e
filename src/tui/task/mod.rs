//! One task's detail.

pub mod draw;
