//! Planted secrets (`--demo-canaries`), to test share mode against: each
//! kind the built-in rules hide, in the places a secret hides in a cluster
//! (log lines, task labels, span attributes). Every planted secret holds
//! the word [`CANARY`] and nothing else the demo writes does, so a test
//! can look for that one word on every screen, file and payload.

use crate::api::{Span, Task};

pub const CANARY: &str = "canary";

/// Lines a task logs, one a reading, in turn.
pub const LINES: [&str; 8] = [
    "login ok for canary.user@example.com",
    "connecting to postgres://app:CanaryUrlPw9@db.internal:5432/app",
    "aws: using key AKIACANARYCANARY2345",
    "aws_secret_access_key=canaryAwsSecretKey0000000000000000000000",
    "GET /api/orders Authorization: Bearer canaryBearerToken12345",
    "config loaded: password=canary-pw-42 retries=3",
    "session eyJcanaryHeader00.eyJcanaryPayload0.canarySignature ok",
    "key material: -----BEGIN PRIVATE KEY-----canaryKeyBody-----END PRIVATE KEY-----",
];

/// Labels every task carries: a secret named by its key, and an owner.
pub fn label(task: &mut Task) {
    task.labels
        .insert("DB_PASSWORD".into(), "canary-label-pw-7".into());
    task.labels
        .insert("owner".into(), "canary.owner@example.com".into());
}

/// This reading's planted line: its text and the task that logs it.
pub fn line<'a>(tasks: &[&'a Task], tick: u64) -> Option<(&'a Task, &'static str)> {
    let task = tasks.get(tick as usize % tasks.len().max(1))?;
    Some((task, LINES[tick as usize % LINES.len()]))
}

/// Secrets in the attributes of the first span of each trace.
pub fn attributes(spans: &mut [Span]) {
    for span in spans.iter_mut().filter(|s| s.parent_id.is_none()) {
        span.attributes.insert(
            "db.connection_string".into(),
            "postgres://svc:CanarySpanPw@db/x".into(),
        );
        span.attributes
            .insert("enduser.email".into(), "canary.span@example.com".into());
    }
}
