//! Recordings of what a console received: the wire messages themselves,
//! with markers, the presenter's view changes and keyframes of the whole
//! state, so a replay runs the real console over them (issue 17). The
//! file format is in `format`, written by `writer`, read by `reader`;
//! `state` keeps what a keyframe needs; `player` plays one back in
//! recorded time (the console's replay drives it).

pub mod format;
pub mod past;
pub mod player;
pub mod reader;
pub mod state;
pub mod writer;

#[cfg(test)]
mod tests;
