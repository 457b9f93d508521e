//! Runs the configured checks on the gateway's runtime, each on its own
//! interval, and hands every result to the store.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::store::Store;
use crate::api::now_millis;
use crate::collect::checks::{CheckSpec, probe};

pub fn spawn(specs: Vec<CheckSpec>, store: Arc<Store>) -> Result<Vec<JoinHandle<()>>, String> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let tls = crate::client::tls_config(None)?;
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured((*tls).clone())
        // A check that follows a redirect to a page that answers says so.
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .map_err(|e| format!("cannot make the HTTP client for checks: {e}"))?;
    Ok(specs
        .into_iter()
        .map(|spec| {
            let (store, http) = (store.clone(), http.clone());
            tokio::spawn(async move {
                let every = Duration::from_millis(spec.check.interval_ms as u64);
                let timeout = Duration::from_millis(spec.check.timeout_ms as u64);
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let result = probe::run(&spec.probe, &http, timeout, now_millis()).await;
                    store.record_check(spec.check.clone(), result);
                }
            })
        })
        .collect())
}
