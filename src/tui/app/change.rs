//! Changes an operator asks of a Kubernetes cluster from the console, as
//! k9s has them: `:restart` a pod (Ctrl-K on a task), `:cordon` and
//! `:uncordon` a node. Each asks first (`y` goes ahead, any other key
//! does not), is off in a read-only context, and is decided by the
//! gateway's token and then the cluster's RBAC, whose answer the footer
//! shows.

use crossterm::event::{KeyCode, KeyEvent};

use super::{App, Effect, Route};
use crate::tui::feature::Notice;

/// A change waiting for its `y`.
pub struct Pending {
    pub question: String,
    pub effect: Effect,
}

fn encode(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

impl App {
    /// Whether changes may be asked here; says why not when they may not.
    fn may_change(&mut self, what: &str) -> bool {
        if self.origin.readonly {
            self.notice = Notice::error(format!("{what} is off: this context is read-only"));
            return false;
        }
        if self.model.source != "kube" {
            self.notice = Notice::error(format!(
                "{what} is for a Kubernetes cluster (day2top --kube, or a gateway started with --kube)"
            ));
            return false;
        }
        true
    }

    fn ask(&mut self, question: String, path: String) {
        self.notice = Notice::info(format!("{question}  y: yes, any other key: no"));
        self.confirm = Some(Pending {
            question,
            effect: Effect::Change { path },
        });
    }

    /// `:restart [TASK]`: the task named, else the one in view.
    pub(super) fn restart(&mut self, args: &[&str]) -> Vec<Effect> {
        if !self.may_change("restart") {
            return vec![];
        }
        let Some(task) = args
            .first()
            .map(|a| a.to_string())
            .or_else(|| self.task_in_view())
        else {
            self.notice = Notice::error(
                "open or select a pod first, then Ctrl-K (or :restart NAMESPACE/NAME)",
            );
            return vec![];
        };
        self.ask(
            format!("restart pod {task}? (it is deleted, and its controller starts a new one)"),
            format!("/api/v1/tasks/{}/restart", encode(&task)),
        );
        vec![]
    }

    /// `:cordon [NODE]` and `:uncordon [NODE]`: the node named, else the
    /// one selected.
    pub(super) fn cordon(&mut self, args: &[&str], cordon: bool) -> Vec<Effect> {
        let what = if cordon { "cordon" } else { "uncordon" };
        if !self.may_change(what) {
            return vec![];
        }
        let selected = match self.route() {
            Route::Nodes => self.tables.nodes.selected_id(),
            Route::Cluster => self.tables.cluster.selected_id(),
            _ => None,
        };
        let Some(node) = args.first().copied().or(selected).map(str::to_string) else {
            self.notice = Notice::error(format!("select a node first, or :{what} NODE"));
            return vec![];
        };
        let question = if cordon {
            format!("cordon node {node}? (no new pods are scheduled on it)")
        } else {
            format!("uncordon node {node}? (pods may be scheduled on it again)")
        };
        self.ask(question, format!("/api/v1/nodes/{}/{what}", encode(&node)));
        vec![]
    }

    /// The key after a question: `y` goes ahead.
    pub(super) fn answer(&mut self, pending: Pending, key: KeyEvent) -> Vec<Effect> {
        if key.code == KeyCode::Char('y') {
            self.notice = Notice::info(format!("asked: {}", pending.question));
            vec![pending.effect]
        } else {
            self.notice = Notice::info("not done");
            vec![]
        }
    }
}
