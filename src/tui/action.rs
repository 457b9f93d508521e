//! Every user intent, by name. Keymaps map keys to these and nothing else.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Back,
    Help,
    Command,
    Filter,
    Select,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    SortNext,
    SortPrev,
    SortReverse,
    ViewCluster,
    ViewNodes,
    ViewTasks,
}
