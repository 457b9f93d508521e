//! day2top: a terminal operations console for the day-2 life of a cluster,
//! and the gateway that feeds it.
//!
//! Data flows one way: `collect` (sources) → `gateway` (stores, hub, auth)
//! → wire (`api`) → `client` → `tui` (model, views). `api` is the only
//! module both sides share.

pub mod alerts;
pub mod api;
pub mod cli;
pub mod client;
pub mod collect;
pub mod config;
/// The console filled from the demo source, for golden screens and
/// benchmarks; wiring a source to the console is main's and tests' job.
#[doc(hidden)]
pub mod fixture;
/// A hub over agents: the fleet as one gateway's source and router.
pub mod fleet;
pub mod gateway;
/// What must hold for every input of each parser that takes bytes from
/// outside; shared by the fuzz targets and the property tests.
#[doc(hidden)]
pub mod invariants;
/// A Kubernetes cluster through its API server, as a gateway's source.
#[cfg(feature = "kube")]
pub mod kubernetes;
pub mod memory;
pub mod record;
/// Share mode: secrets hidden before anything is drawn, recorded or sent.
pub mod redact;
pub mod triage;
pub mod tui;
pub mod when;
