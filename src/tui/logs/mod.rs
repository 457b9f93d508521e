//! The log view: the bounded buffer the stream fills, its filter and
//! text index, search, colouring, and drawing.

pub mod ansi;
pub mod buffer;
pub mod draw;
pub mod folded;
pub mod index;
pub mod syntax;
pub mod view;
