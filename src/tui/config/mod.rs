//! What the operator can change without a rebuild: themes, keymaps, the
//! actions keys map to, table and dashboard definitions. Built-in
//! defaults are compiled in; a user's file is an overlay on top.

pub mod action;
pub mod dashboard;
pub mod defs;
pub mod fields;
pub mod keymap;
pub mod links;
pub mod theme;
pub mod toml;
pub mod viewdef;
