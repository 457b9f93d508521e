//! What a bundle holds besides the gateway's answers: the config file
//! with its secrets removed, and the window as a recording.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use super::{Bundle, BundleOptions, Listed};
use crate::api::UnixMillis;
use crate::cli::{EXIT_FAILED, Failure};
use crate::client::Client;
use crate::record::format::Header;
use crate::record::past;
use crate::record::writer::Recorder;

/// The config file, with every value under a key that names a secret
/// dropped, then through the redactor (secrets in URLs, the token).
pub(super) fn config(bundle: &mut Bundle, o: &BundleOptions) -> Result<(), Failure> {
    let Some(path) = o
        .config
        .clone()
        .or_else(|| crate::config::config_dir().map(|d| d.join("config.toml")))
    else {
        bundle
            .manifest
            .missing
            .push("config.toml: no config folder".into());
        return Ok(());
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        bundle
            .manifest
            .missing
            .push(format!("config.toml: no config file at {}", path.display()));
        return Ok(());
    };
    let mut value: toml::Value = match toml::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            bundle.manifest.missing.push(format!(
                "config.toml: {} does not parse: {e}",
                path.display()
            ));
            return Ok(());
        }
    };
    strip_secrets(&mut value);
    let text = toml::to_string_pretty(&value).map_err(Failure::output)?;
    let text = o.config_redactor.text(&text).into_owned();
    bundle.add(
        "config.toml",
        "the config file, secrets removed",
        text.as_bytes(),
    )
}

/// Drops every value whose key names a secret (`token`, `password`,
/// `secret`, `key`), but for paths to them (`token_file`).
fn strip_secrets(value: &mut toml::Value) {
    match value {
        toml::Value::Table(table) => {
            table.retain(|key, _| {
                let key = key.to_ascii_lowercase();
                let secret = ["token", "password", "secret", "key", "auth"]
                    .iter()
                    .any(|s| key.contains(s));
                let a_path = ["_file", "_dir", "_path"].iter().any(|s| key.ends_with(s));
                !secret || a_path
            });
            table.iter_mut().for_each(|(_, v)| strip_secrets(v));
        }
        toml::Value::Array(items) => items.iter_mut().for_each(strip_secrets),
        _ => {}
    }
}

/// The last minutes as a recording, from the gateway's history.
pub(super) async fn recording(
    bundle: &mut Bundle,
    client: &Client,
    o: &BundleOptions,
    since: UnixMillis,
    now: UnixMillis,
) -> Result<(), Failure> {
    let subscriptions = crate::tui::connection::recorded_subscriptions();
    let mut header = Header::new(o.gateway.clone(), o.context.clone(), &subscriptions, now);
    header.since = Some(since);
    if client.is_sharing() {
        header.shared();
    }
    let scratch = scratch_path(&o.output);
    let _gone_after = RemovedOnDrop(scratch.clone());
    // One part, whatever its size: the archive holds one file.
    let recorder = Recorder::create(&scratch, header, u64::MAX)
        .map_err(|why| Failure::new(EXIT_FAILED, why))?;
    let gathered = past::gather(client, &subscriptions, since, now, &mut |t, what| {
        recorder.record_waiting(t, what);
    })
    .await;
    let progress = recorder.progress.clone();
    let written = recorder.finish();
    match (gathered, written) {
        (Ok(past), Ok(())) => {
            for missing in past.missing {
                bundle
                    .manifest
                    .missing
                    .push(format!("recording.d2rec: {missing}"));
            }
            let name = format!("{}/recording.d2rec", bundle.root);
            File::open(&scratch)
                .and_then(|mut file| bundle.tar.append_file(&name, &mut file))
                .map_err(Failure::io)
                .map(|()| {
                    bundle.manifest.files.push(Listed {
                        name: "recording.d2rec".into(),
                        bytes: progress.bytes.load(Ordering::Relaxed),
                        what: "the window as a recording: `day2top replay recording.d2rec`".into(),
                    })
                })
        }
        (Err(e), _) => bundle.missed("recording.d2rec", e),
        (_, Err(why)) => Err(Failure::new(EXIT_FAILED, why)),
    }
}

/// A scratch file, removed however its work ends (done, failed, or its
/// future dropped when the command is stopped).
struct RemovedOnDrop(PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Where the recording is written before it goes into the archive:
/// beside the archive, hidden.
fn scratch_path(output: &Path) -> PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    output.with_file_name(format!(".{name}.{}.recording", std::process::id()))
}

/// An id as a file's name: what is not a letter, digit, `-`, `_` or `.`
/// becomes `_`.
pub(super) fn file_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect()
}
