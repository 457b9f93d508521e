//! Wire types: the only module the gateway and the console share.
//!
//! Everything that crosses the socket is defined here, so the two sides can
//! never disagree about a field name.

mod alert;
mod audit;
pub mod binary_frame;
mod error;
mod exec;
mod exposition;
mod fleet;
mod health;
mod labels;
mod log;
mod model;
mod span;
mod stream;
mod trace;

pub use alert::*;
pub use audit::*;
pub use error::{ApiError, ErrorBody, ErrorCode};
pub use exec::*;
pub use exposition::{collected_name, push_quoted, sanitize};
pub use fleet::*;
pub use health::*;
pub use labels::Labels;
pub use log::*;
pub use model::*;
pub use span::{format_span, parse_span, parse_time};
pub use stream::*;
pub use trace::*;

/// The version of the wire protocol. Bumped on any incompatible change.
pub const API_VERSION: &str = "v1";

/// Milliseconds since the Unix epoch, the time unit of every timestamp on the wire.
pub type UnixMillis = i64;

/// The current wall-clock time in milliseconds since the Unix epoch.
pub fn now_millis() -> UnixMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
