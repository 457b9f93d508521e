//! Subscriptions and reads that follow the screen: logs and the
//! dashboard's metrics cost bandwidth only while they are looked at, and a
//! waterfall reads its trace when it opens.

use super::{App, Effect, Route};
use crate::tui::logs::view::LogScope;
use crate::tui::traces::TraceView;

impl App {
    /// Runs `f`, then follows what it changed on screen with the
    /// subscriptions and reads the new view needs: logs and the
    /// dashboard's metrics cost bandwidth only while they are looked at,
    /// and a waterfall reads its trace when it opens.
    pub(super) fn following(&mut self, f: impl FnOnce(&mut App) -> Vec<Effect>) -> Vec<Effect> {
        let logs_before = self.logs_scope();
        let dash_before = self.in_dash();
        let trace_before = self.trace_on_screen();
        let mut effects = f(self);
        let logs_after = self.logs_scope();
        if logs_before != logs_after {
            match logs_after {
                Some(scope) => effects.push(self.logs.open(scope, &mut self.model.logs)),
                None => effects.push(Effect::Unsubscribe(crate::tui::model::SUB_LOGS.into())),
            }
        }
        self.dash.drilled = match self.route() {
            Route::DashPanel { panel } => Some(*panel),
            _ => None,
        };
        match (dash_before, self.in_dash()) {
            (false, true) => effects.extend(self.dash.open(&mut self.model, &self.defs)),
            (true, false) => effects.push(self.dash.close(&mut self.model)),
            _ => {}
        }
        if let Some(id) = self.trace_on_screen()
            && trace_before.as_ref() != Some(&id)
            && self.trace_view.id != id
        {
            self.trace_view = TraceView::new(&id);
            effects.push(Effect::FetchTrace { id });
        }
        if self.recording.is_on() {
            let view: Vec<String> = self.routes.iter().map(|r| self.crumb(r)).collect();
            let routes = serde_json::to_value(&self.routes).unwrap_or_default();
            self.recording.view(&view.join(" › "), routes, self.now);
        }
        effects
    }

    /// Puts the view where a recording's presenter was (a replay following
    /// them), with the subscriptions and reads it needs. An exec pane
    /// cannot be replayed: the view stops short of it.
    pub fn show_routes(&mut self, routes: serde_json::Value) -> Vec<Effect> {
        let Ok(routes) = serde_json::from_value::<Vec<Route>>(routes) else {
            return Vec::new();
        };
        let routes: Vec<Route> = routes
            .into_iter()
            .take_while(|r| !matches!(r, Route::Exec { .. }))
            .collect();
        if routes.is_empty() || routes == self.routes {
            return Vec::new();
        }
        self.following(|app| {
            app.routes = routes;
            app.mode = super::Mode::Normal;
            Vec::new()
        })
    }

    /// The log scope on screen, if the log view is.
    fn logs_scope(&self) -> Option<LogScope> {
        match self.route() {
            Route::Logs { scope } => Some(scope.clone()),
            _ => None,
        }
    }

    fn in_dash(&self) -> bool {
        matches!(self.route(), Route::Dash | Route::DashPanel { .. })
    }

    fn trace_on_screen(&self) -> Option<String> {
        match self.route() {
            Route::Trace { id } => Some(id.clone()),
            _ => None,
        }
    }
}
