//! `day2top bundle -o FILE.tar.gz`: what a support engineer asks for
//! after an incident, in one archive (as `dcos node diagnostics` made):
//! the cluster's and its tasks' snapshots, health with history, the last
//! minutes of logs of failing tasks and of the units that logged errors,
//! metrics around now, alerts, triage findings, the audit trail (an admin
//! token's), versions and the config with secrets removed, and a
//! recording of the last minutes that `day2top replay` opens. Through a
//! hub, every read reaches its agents. With `--share`, everything in it
//! went through share mode's redactor.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde_json::Value;

use super::output::Format;
use super::triage::TriageOptions;
use super::{EXIT_FAILED, Failure};
use crate::api::{ErrorCode, Filter, Task, TaskState, UnixMillis, now_millis};
use crate::client::{Client, ClientError};
use crate::redact::Redactor;
use extras::{config, file_name, recording};
use signals::{logs, metrics};

mod extras;
mod signals;

/// Failing tasks, and units that logged errors, whose logs are taken.
const MAX_LOG_SOURCES: usize = 20;
/// Lines of one source's log taken, at most (the newest).
const MAX_LINES: usize = 20_000;
/// Error lines taken, at most.
const MAX_ERRORS: usize = 50_000;
/// Log lines a page read asks for.
const PAGE: usize = 5000;

pub struct BundleOptions {
    pub output: PathBuf,
    /// How far back the logs, metrics and recording reach.
    pub since: Duration,
    /// Put the window in as a recording.
    pub recording: bool,
    /// What the data comes from, for the manifest: the gateway's address,
    /// or the embedded gateway's name.
    pub gateway: String,
    pub context: Option<String>,
    /// The config file, put in with its secrets removed.
    pub config: Option<PathBuf>,
    /// Strings never to write (the token in use), besides what the
    /// redactor's rules find in the config.
    pub config_redactor: Redactor,
}

/// What the archive holds (but itself), written last as `manifest.json`.
#[derive(Serialize)]
struct Manifest {
    format: &'static str,
    made_by: String,
    made_at: UnixMillis,
    gateway: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<String>,
    since: UnixMillis,
    redaction: &'static str,
    files: Vec<Listed>,
    /// What could not be put in, and why.
    missing: Vec<String>,
}

#[derive(Serialize)]
struct Listed {
    name: String,
    bytes: u64,
    what: String,
}

struct Bundle {
    tar: tar::Builder<GzEncoder<File>>,
    root: String,
    manifest: Manifest,
}

impl Bundle {
    fn add(&mut self, name: &str, what: &str, bytes: &[u8]) -> Result<(), Failure> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime((self.manifest.made_at / 1000).max(0) as u64);
        header.set_cksum();
        self.tar
            .append_data(&mut header, format!("{}/{name}", self.root), bytes)
            .map_err(Failure::io)?;
        self.manifest.files.push(Listed {
            name: name.into(),
            bytes: bytes.len() as u64,
            what: what.into(),
        });
        Ok(())
    }

    fn json(&mut self, name: &str, what: &str, value: &impl Serialize) -> Result<(), Failure> {
        let mut bytes = serde_json::to_vec_pretty(value).map_err(Failure::output)?;
        bytes.push(b'\n');
        self.add(name, what, &bytes)
    }

    /// `GET path` into `name`; what the gateway refuses is noted as
    /// missing, and an unreachable gateway ends the bundle.
    async fn read(
        &mut self,
        client: &Client,
        name: &str,
        what: &str,
        path: &str,
    ) -> Result<Option<Value>, Failure> {
        match client.get::<Value>(path).await {
            Ok(value) => {
                self.json(name, what, &value)?;
                Ok(Some(value))
            }
            Err(e) => {
                self.missed(name, e)?;
                Ok(None)
            }
        }
    }

    fn missed(&mut self, name: &str, e: ClientError) -> Result<(), Failure> {
        if matches!(e, ClientError::Unreachable(_)) {
            return Err(e.into());
        }
        let why = match &e {
            ClientError::Api(api) if api.error.code == ErrorCode::Forbidden => {
                "the token may not read it (the audit trail needs an admin token)".to_string()
            }
            _ => e.to_string(),
        };
        self.manifest.missing.push(format!("{name}: {why}"));
        Ok(())
    }
}

/// Collects, writes the archive, and says on `err` what it holds.
pub async fn run(client: &Client, o: BundleOptions, err: &mut impl Write) -> Result<(), Failure> {
    let now = now_millis();
    let since = now - o.since.as_millis() as UnixMillis;
    let output = std::path::absolute(&o.output).map_err(Failure::io)?;
    // Reached before anything is made: a dead gateway leaves no file.
    let cluster: Value = client.get("/api/v1/cluster").await?;
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(&output)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Failure::new(
                EXIT_FAILED,
                format!(
                    "{} exists; a bundle never overwrites a file",
                    output.display()
                ),
            ),
            _ => Failure::new(
                EXIT_FAILED,
                format!("cannot make {}: {e}", output.display()),
            ),
        })?;
    let stamp = jiff::Timestamp::from_millisecond(now)
        .map(|t| t.strftime("%Y%m%d-%H%M%SZ").to_string())
        .unwrap_or_default();
    let mut bundle = Bundle {
        tar: tar::Builder::new(GzEncoder::new(file, Compression::default())),
        root: format!("day2top-bundle-{stamp}"),
        manifest: Manifest {
            format: "day2top-bundle",
            made_by: format!("day2top {}", env!("CARGO_PKG_VERSION")),
            made_at: now,
            gateway: if client.is_sharing() {
                "(hidden: share mode)".into()
            } else {
                o.gateway.clone()
            },
            context: o.context.clone(),
            since,
            redaction: if client.is_sharing() { "share" } else { "none" },
            files: Vec::new(),
            missing: Vec::new(),
        },
    };
    // Stopped before it was done: no archive is left half made.
    let result = tokio::select! {
        result = fill(&mut bundle, client, &o, since, now, cluster) => result,
        _ = super::stop_asked() => Err(Failure::new(
            EXIT_FAILED,
            "stopped before it was done: no bundle was written",
        )),
    };
    let manifest = match result.and_then(|()| close(bundle)) {
        Ok(manifest) => manifest,
        Err(failure) => {
            let _ = std::fs::remove_file(&output);
            return Err(failure);
        }
    };
    let size = std::fs::metadata(&output).map_or(0, |m| m.len());
    writeln!(
        err,
        "wrote {}: {} files, {:.1} MB{}",
        output.display(),
        manifest.files.len(),
        size as f64 / 1e6,
        if client.is_sharing() {
            ", redacted (share mode)"
        } else {
            ""
        }
    )
    .map_err(Failure::io)?;
    for missing in &manifest.missing {
        writeln!(err, "  not in it: {missing}").map_err(Failure::io)?;
    }
    Ok(())
}

/// The manifest put in last, and the archive closed.
fn close(mut bundle: Bundle) -> Result<Manifest, Failure> {
    let listed = serde_json::to_vec_pretty(&bundle.manifest).map_err(Failure::output)?;
    bundle.add("manifest.json", "what this archive holds", &listed)?;
    bundle
        .tar
        .into_inner()
        .and_then(GzEncoder::finish)
        .and_then(|f| f.sync_all())
        .map_err(Failure::io)?;
    Ok(bundle.manifest)
}

async fn fill(
    bundle: &mut Bundle,
    client: &Client,
    o: &BundleOptions,
    since: UnixMillis,
    now: UnixMillis,
    cluster: Value,
) -> Result<(), Failure> {
    bundle.json(
        "cluster.json",
        "who the cluster is: its name, source and counts",
        &cluster,
    )?;
    let versions = serde_json::json!({
        "bundler": format!("day2top {}", env!("CARGO_PKG_VERSION")),
        "gateway": client.get::<Value>("/api/v1/version").await.ok(),
    });
    bundle.json(
        "versions.json",
        "day2top's version, and the gateway's API and version",
        &versions,
    )?;
    bundle
        .read(
            client,
            "nodes.json",
            "every node as it is now",
            "/api/v1/nodes",
        )
        .await?;
    let tasks = bundle
        .read(
            client,
            "tasks.json",
            "every task as it is now, with its recent state changes",
            "/api/v1/tasks",
        )
        .await?;
    bundle
        .read(
            client,
            "health.json",
            "every check, with its recent results",
            "/api/v1/health",
        )
        .await?;
    bundle
        .read(
            client,
            "alerts.json",
            "the alert rules' board: what fires",
            "/api/v1/alerts",
        )
        .await?;
    bundle
        .read(
            client,
            "traces.json",
            "the newest traces' summaries",
            "/api/v1/traces?limit=1000",
        )
        .await?;
    bundle
        .read(
            client,
            "audit.json",
            "the audit trail's newest records",
            "/api/v1/audit?limit=1000",
        )
        .await?;
    if let Ok(agents) = client.get::<Value>("/api/v1/agents").await
        && agents["items"].as_array().is_some_and(|a| !a.is_empty())
    {
        bundle.json(
            "agents.json",
            "a hub's agents and how it stands with each",
            &agents,
        )?;
    }
    let tasks: Vec<Task> = tasks
        .and_then(|t| serde_json::from_value(t["items"].clone()).ok())
        .unwrap_or_default();
    // Unhealthy now, or failed in the window: the newest first.
    let mut failing: Vec<&Task> = tasks
        .iter()
        .filter(|t| {
            let failed = matches!(
                t.state,
                TaskState::Failed | TaskState::Lost | TaskState::Killed
            );
            (failed && t.updated >= since) || t.health == crate::api::Health::Unhealthy
        })
        .collect();
    failing.sort_by_key(|t| std::cmp::Reverse(t.updated));
    if failing.len() > MAX_LOG_SOURCES {
        bundle.manifest.missing.push(format!(
            "logs of {} more failing tasks: only the newest {MAX_LOG_SOURCES} failures' logs are taken",
            failing.len() - MAX_LOG_SOURCES
        ));
        failing.truncate(MAX_LOG_SOURCES);
    }
    metrics(bundle, client, &failing, since, now).await?;
    let errors = Filter {
        priority: Some(3),
        ..Default::default()
    };
    let lines = logs(
        bundle,
        client,
        "logs/errors.ndjson",
        "every error line (priority 0-3)",
        &errors,
        since,
        now,
        MAX_ERRORS,
    )
    .await?;
    for task in &failing {
        let filter = Filter {
            task: Some(task.id.clone()),
            ..Default::default()
        };
        let name = format!("logs/task-{}.ndjson", file_name(&task.id));
        let what = format!(
            "the log of {} ({}), {}",
            task.name,
            task.id,
            task.state.as_str()
        );
        logs(bundle, client, &name, &what, &filter, since, now, MAX_LINES).await?;
    }
    let mut units: Vec<String> = lines.iter().filter_map(|l| l.unit.clone()).collect();
    units.sort();
    units.dedup();
    for unit in units.into_iter().take(MAX_LOG_SOURCES) {
        let filter = Filter {
            unit: Some(unit.clone()),
            ..Default::default()
        };
        let name = format!("logs/unit-{}.ndjson", file_name(&unit));
        let what = format!("the log of {unit}, which logged errors");
        logs(bundle, client, &name, &what, &filter, since, now, MAX_LINES).await?;
    }
    let mut findings = Vec::new();
    let triage = TriageOptions {
        window: crate::triage::Window::parse("15m").expect("a window"),
        format: Format::Json,
        explain: true,
        watch: false,
    };
    match super::triage::run(client, &triage, &mut findings).await {
        Ok(()) => bundle.add(
            "triage.json",
            "what changed, ranked with the likely cause on top",
            &findings,
        )?,
        Err(f) => bundle
            .manifest
            .missing
            .push(format!("triage.json: {}", f.message)),
    }
    config(bundle, o)?;
    if !o.recording {
        bundle
            .manifest
            .missing
            .push("recording.d2rec: left out (--no-recording)".into());
        return Ok(());
    }
    recording(bundle, client, o, since, now).await
}
