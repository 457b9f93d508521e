//! The commands for scripts and quick looks (`day2top get`, `day2top
//! triage`): they read a gateway the way the console does, over the same
//! stream and REST routes, and print for a terminal or a pipe.
//!
//! Exit codes a script can rely on (also in the README):
//! 0 done; 1 failed otherwise; 2 a usage error (clap's); 3 the gateway
//! could not be reached; 4 the gateway refused the token or its scope;
//! 5 what was asked for does not exist; 141 the output's reader went
//! away (`| head`), said nothing.

pub mod bundle;
pub mod describe;
pub mod get;
pub mod logs;
pub mod output;
pub mod record;
pub mod top;
pub mod triage;

use crate::api::ErrorCode;
use crate::client::ClientError;

pub const EXIT_FAILED: u8 = 1;
/// A flag or value that does not apply (clap's own usage errors are 2 too).
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_UNREACHABLE: u8 = 3;
pub const EXIT_REFUSED: u8 = 4;
pub const EXIT_NOT_FOUND: u8 = 5;
/// 128 + SIGPIPE, as a shell tool whose reader went away.
pub const EXIT_BROKEN_PIPE: u8 = 141;

/// A command's failure: what to say on stderr, and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// Output that could not be written; a closed pipe (`| head`) ends
    /// the command quietly, as it would a shell tool, with 141.
    pub fn io(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Failure::new(EXIT_BROKEN_PIPE, "");
        }
        Failure::new(EXIT_FAILED, format!("cannot write the output: {e}"))
    }

    pub fn output(e: impl std::fmt::Display) -> Failure {
        Failure::new(EXIT_FAILED, format!("cannot write the output: {e}"))
    }
}

/// Ctrl-C or a SIGTERM (a `kill`, a service stop): a command that writes
/// a file stops cleanly on either.
pub async fn stop_asked() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        let code = match &e {
            ClientError::Unreachable(_) => EXIT_UNREACHABLE,
            ClientError::Api(api) => match api.error.code {
                ErrorCode::Unauthorized | ErrorCode::Forbidden => EXIT_REFUSED,
                ErrorCode::NotFound => EXIT_NOT_FOUND,
                _ => EXIT_FAILED,
            },
            _ => EXIT_FAILED,
        };
        let hint = match code {
            EXIT_UNREACHABLE => " (is the gateway running, and is its URL right?)",
            EXIT_REFUSED => " (check --token-file or the context's token_file)",
            _ => "",
        };
        Failure::new(code, format!("{e}{hint}"))
    }
}

/// The id of the task `name` names: its id, or the name of exactly one
/// task (a pod as kubectl names it, in `namespace` when given). A cluster
/// just connected to is waited for a few seconds.
pub async fn task_id(
    client: &crate::client::Client,
    name: &str,
    namespace: Option<&str>,
) -> Result<String, Failure> {
    #[derive(serde::Deserialize)]
    struct Listing {
        items: Vec<crate::api::Task>,
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let listing: Listing = client.get("/api/v1/tasks").await?;
        if listing.items.iter().any(|t| t.id == name) {
            return Ok(name.to_string());
        }
        let named: Vec<&crate::api::Task> = listing
            .items
            .iter()
            .filter(|t| t.name == name)
            .filter(|t| {
                namespace.is_none_or(|ns| t.labels.get("namespace").map(String::as_str) == Some(ns))
            })
            .collect();
        match named.as_slice() {
            [one] => return Ok(one.id.clone()),
            [] if listing.items.is_empty() && std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            [] => {
                return Err(Failure::new(
                    EXIT_NOT_FOUND,
                    format!("no task with the id or name {name:?}"),
                ));
            }
            many => {
                let ids: Vec<&str> = many.iter().map(|t| t.id.as_str()).collect();
                return Err(Failure::new(
                    EXIT_FAILED,
                    format!(
                        "{} tasks are named {name:?} ({}); give the id",
                        many.len(),
                        ids.join(", ")
                    ),
                ));
            }
        }
    }
}
