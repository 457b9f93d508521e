//! What frames every view: the header, the banner, the breadcrumbs, the
//! hint bar, the help, and the `:`/`/` line the operator types into.

pub mod bars;
pub mod help;
pub mod layout;
pub mod line;
