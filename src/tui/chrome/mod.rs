//! What frames every view: the header, the banner, the breadcrumbs, the
//! hint bar, the help, the `:`/`/` line the operator types into, and a
//! replay's time bar.

pub mod bars;
pub mod help;
pub mod layout;
pub mod line;
pub mod timebar;
