//! The audit trail: every exec (allowed or denied) and every failed
//! authentication, as the gateway records it. Secrets never appear here:
//! no token secret, no environment value.

use serde::{Deserialize, Serialize};

use super::UnixMillis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    Exec,
    /// A request without a valid token.
    Auth,
    /// A log cursor no source would serve (a forged one reads nothing).
    Cursor,
    /// A change asked of the cluster: a pod restarted, a node cordoned
    /// or uncordoned (`cmd` names it).
    Action,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Numbers this gateway run's records in order.
    pub id: u64,
    pub time: UnixMillis,
    pub kind: AuditKind,
    pub decision: Decision,
    /// Why it was denied, or how an allowed session ended.
    pub reason: String,
    /// The token's name; empty when none was valid.
    pub actor: String,
    /// The client's address.
    pub source: String,
    /// The client's `User-Agent`.
    pub client: String,
    /// The route asked for (authentication failures).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub route: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub task: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    #[serde(default)]
    pub tty: bool,
    /// Who the command ran (or would have run) as.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// Names of the variables the client set (never their values).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub session: String,
    /// On an agent: the operator a hub says it acts for (the hub checked
    /// the operator's token; the agent checked the hub's, the `actor`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operator: String,
    /// On a hub: the agent the session was routed to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub agent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<UnixMillis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<UnixMillis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// Bytes from the client to the process (stdin).
    #[serde(default)]
    pub bytes_in: u64,
    /// Bytes from the process to the client (stdout and stderr).
    #[serde(default)]
    pub bytes_out: u64,
    /// Authentication failures left out before this one (rate limit).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub suppressed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl AuditRecord {
    /// A record of `kind` by `actor` from `source`, with the rest empty.
    pub fn new(kind: AuditKind, decision: Decision, actor: &str, source: &str) -> AuditRecord {
        AuditRecord {
            id: 0,
            time: super::now_millis(),
            kind,
            decision,
            reason: String::new(),
            actor: actor.to_string(),
            source: source.to_string(),
            client: String::new(),
            route: String::new(),
            task: String::new(),
            node: String::new(),
            cmd: Vec::new(),
            tty: false,
            user: String::new(),
            env: Vec::new(),
            session: String::new(),
            operator: String::new(),
            agent: String::new(),
            start: None,
            end: None,
            exit_code: None,
            signal: None,
            bytes_in: 0,
            bytes_out: 0,
            suppressed: 0,
        }
    }
}
