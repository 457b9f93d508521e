//! Bearer tokens with named scopes, loaded from a TOML token file.
//!
//! ```toml
//! [[token]]
//! name = "ops"
//! secret = "a long random string"
//! scopes = ["read", "exec"]
//! exec_tasks = ["/prod/payments/*"]   # globs over a task's id, name or group
//! run_as = ["app"]                     # "*" is any user but root
//! ```
//!
//! Exec is denied unless the scope, a task pattern and the user all allow
//! it; `root` only when `run_as` names it.
//!
//! Secrets are compared as SHA-256 digests, in constant time, so neither a
//! secret's bytes nor its length show in how long a refusal takes.

use std::path::Path;

use serde::Deserialize;

use crate::api::{ApiError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read snapshots and streams.
    Read,
    /// Start exec sessions.
    Exec,
    /// Write telemetry into the gateway (OTLP traces).
    Ingest,
    /// Everything, including the audit log.
    Admin,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    pub name: String,
    secret: String,
    /// The secret's SHA-256, made once: what a presented token is compared with.
    #[serde(skip)]
    digest: [u8; 32],
    pub scopes: Vec<Scope>,
    /// The tasks this token may exec into: globs matched against a task's
    /// id, name and group.
    #[serde(default)]
    pub exec_tasks: Vec<String>,
    /// The users an exec may run as; `*` is any user except root.
    #[serde(default)]
    pub run_as: Vec<String>,
}

impl Token {
    pub fn new(name: &str, secret: &str, scopes: Vec<Scope>) -> Token {
        Token {
            name: name.to_string(),
            secret: secret.to_string(),
            digest: digest(secret),
            scopes,
            exec_tasks: Vec::new(),
            run_as: Vec::new(),
        }
    }

    /// This token, allowed to exec into these tasks as these users.
    pub fn with_exec(mut self, tasks: &[&str], run_as: &[&str]) -> Token {
        self.exec_tasks = tasks.iter().map(|s| s.to_string()).collect();
        self.run_as = run_as.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Whether this token may run a command in `task` as `user`; the
    /// reason when not.
    pub fn may_exec(&self, task: &crate::api::Task, user: &str) -> Result<(), String> {
        self.may_exec_into(task)?;
        let user_granted = self
            .run_as
            .iter()
            .any(|u| u == user || (u == "*" && user != "root"));
        if !user_granted {
            let hint = if user == "root" {
                " (root needs an explicit run_as = [\"root\"])"
            } else {
                ""
            };
            return Err(format!(
                "token {:?} may not run commands as {user:?}{hint}",
                self.name
            ));
        }
        Ok(())
    }

    /// Whether the token may exec into `task` at all (as some user): the
    /// check a hub makes before the agent, which knows the user, decides.
    pub fn may_exec_into(&self, task: &crate::api::Task) -> Result<(), String> {
        if !self.allows(Scope::Exec) {
            return Err(format!("token {:?} lacks the exec scope", self.name));
        }
        let names = [task.id.as_str(), task.name.as_str(), task.group.as_str()];
        let matched = self.exec_tasks.iter().any(|pattern| {
            glob::Pattern::new(pattern).is_ok_and(|p| names.iter().any(|n| p.matches(n)))
        });
        if !matched {
            return Err(format!(
                "token {:?} may not exec into task {:?} (group {:?}): no exec_tasks pattern matches it",
                self.name, task.id, task.group
            ));
        }
        Ok(())
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }

    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&Scope::Admin) || self.scopes.contains(&scope)
    }
}

fn digest(secret: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    d.as_ref().try_into().expect("SHA-256 is 32 bytes")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    #[serde(default)]
    token: Vec<Token>,
}

/// The shortest secret a token file may hold.
pub const MIN_SECRET_LEN: usize = 16;

#[derive(Debug, Clone)]
pub struct Tokens {
    tokens: Vec<Token>,
}

impl Tokens {
    pub fn new(tokens: Vec<Token>) -> Tokens {
        Tokens { tokens }
    }

    /// A single token with every scope and a fresh random secret, for a
    /// gateway nobody gave a token file: whoever can read it started the
    /// gateway, so it may exec anywhere, as anyone the gateway can be.
    pub fn generated(name: &str) -> Tokens {
        Tokens::new(vec![
            Token::new(name, &super::store::random_hex(24), vec![Scope::Admin])
                .with_exec(&["*"], &["*", "root"]),
        ])
    }

    /// Adds a read-only token with a fresh secret, for a part of this
    /// process that reads its own API (the alert engine); returns the secret.
    pub fn add_internal(&mut self, name: &str) -> String {
        let secret = super::store::random_hex(24);
        self.tokens
            .push(Token::new(name, &secret, vec![Scope::Read]));
        secret
    }

    pub fn load(path: &Path) -> Result<Tokens, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read token file {}: {e}", path.display()))?;
        Tokens::parse(&text).map_err(|e| format!("token file {}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Tokens, String> {
        let mut file: TokenFile = toml::from_str(text).map_err(|e| e.to_string())?;
        for token in &mut file.token {
            token.digest = digest(&token.secret);
        }
        if file.token.is_empty() {
            return Err("no [[token]] entries".into());
        }
        for (i, token) in file.token.iter().enumerate() {
            if token.secret.len() < MIN_SECRET_LEN {
                return Err(format!(
                    "token {:?}: the secret is shorter than {MIN_SECRET_LEN} characters",
                    token.name
                ));
            }
            if let Some(bad) = token
                .exec_tasks
                .iter()
                .find(|p| glob::Pattern::new(p).is_err())
            {
                return Err(format!(
                    "token {:?}: exec_tasks pattern {bad:?} is not a glob",
                    token.name
                ));
            }
            if file.token[..i].iter().any(|t| t.name == token.name) {
                return Err(format!("token {:?} is defined twice", token.name));
            }
        }
        Ok(Tokens { tokens: file.token })
    }

    pub fn named(&self, name: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| t.name == name)
    }

    pub fn first(&self) -> Option<&Token> {
        self.tokens.first()
    }

    /// Finds the token an `Authorization` header carries. The scheme is
    /// case-insensitive (RFC 7235). Every token's digest is compared in
    /// constant time with the presented one's, and all of them are
    /// compared, so timing tells neither a secret, nor its length, nor
    /// which token matched.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<&Token, ApiError> {
        let presented = authorization
            .map(str::trim_start)
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, secret)| secret.trim())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Unauthorized,
                    "missing bearer token: send 'Authorization: Bearer <token>'",
                )
            })?;
        let presented = digest(presented);
        let mut found = None;
        for token in &self.tokens {
            if constant_time_eq::constant_time_eq_32(&token.digest, &presented) {
                found = Some(token);
            }
        }
        found.ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "invalid bearer token"))
    }

    pub fn authorize(token: &Token, scope: Scope) -> Result<(), ApiError> {
        if token.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("token {:?} lacks the {scope:?} scope", token.name).to_lowercase(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[[token]]
name = "viewer"
secret = "0123456789abcdef-viewer"
scopes = ["read"]

[[token]]
name = "root"
secret = "0123456789abcdef-root"
scopes = ["admin"]
"#;

    #[test]
    fn authenticates_and_authorizes() {
        let tokens = Tokens::parse(FILE).unwrap();
        let viewer = tokens
            .authenticate(Some("Bearer 0123456789abcdef-viewer"))
            .unwrap();
        assert_eq!(viewer.name, "viewer");
        assert!(Tokens::authorize(viewer, Scope::Read).is_ok());
        let denied = Tokens::authorize(viewer, Scope::Exec).unwrap_err();
        assert_eq!(denied.error.code, ErrorCode::Forbidden);
        let root = tokens
            .authenticate(Some("Bearer 0123456789abcdef-root"))
            .unwrap();
        assert!(
            Tokens::authorize(root, Scope::Exec).is_ok(),
            "admin implies exec"
        );
        for scheme in ["bearer", "BEARER", "  Bearer", "bEaReR"] {
            let header = format!("{scheme}   0123456789abcdef-viewer");
            assert_eq!(
                tokens.authenticate(Some(&header)).unwrap().name,
                "viewer",
                "{header:?}: the scheme is case-insensitive"
            );
        }
        for bad in [
            None,
            Some("Bearer nope"),
            Some("Bearer 0123456789abcdef-viewe"),
            Some("Bearer 0123456789abcdef-viewerr"),
            Some("Bearer0123456789abcdef-viewer"),
            Some("Basic abc"),
            Some("Bearer "),
        ] {
            assert_eq!(
                tokens.authenticate(bad).unwrap_err().error.code,
                ErrorCode::Unauthorized
            );
        }
    }

    fn task(id: &str, group: &str) -> crate::api::Task {
        crate::api::Task {
            id: id.into(),
            name: "api".into(),
            group: group.into(),
            node_id: "node-1".into(),
            state: crate::api::TaskState::Running,
            health: crate::api::Health::Healthy,
            cpu: 0.0,
            cpu_limit: 0.0,
            mem_bytes: 0,
            mem_limit: 0,
            started: 0,
            updated: 0,
            version: String::new(),
            labels: Default::default(),
            statuses: Vec::new(),
            unreachable_since: None,
        }
    }

    #[test]
    fn exec_is_denied_unless_scope_task_and_user_all_allow_it() {
        let oncall = Token::new("oncall", "0123456789abcdef", vec![Scope::Read, Scope::Exec])
            .with_exec(&["/prod/payments/*"], &["app", "*"]);
        let payments = task("prod_payments_api.1", "/prod/payments/api");
        assert!(oncall.may_exec(&payments, "app").is_ok());
        assert!(
            oncall.may_exec(&payments, "nobody").is_ok(),
            "* is any user"
        );
        let root = oncall.may_exec(&payments, "root").unwrap_err();
        assert!(root.contains("explicit run_as"), "{root}");
        let other = oncall
            .may_exec(&task("prod_search.1", "/prod/search"), "app")
            .unwrap_err();
        assert!(other.contains("no exec_tasks pattern"), "{other}");

        let viewer = Token::new("viewer", "0123456789abcdef", vec![Scope::Read])
            .with_exec(&["*"], &["*", "root"]);
        assert!(
            viewer
                .may_exec(&payments, "app")
                .unwrap_err()
                .contains("lacks the exec scope")
        );
        let admin = Token::new("admin", "0123456789abcdef", vec![Scope::Admin]);
        assert!(
            admin.may_exec(&payments, "app").is_err(),
            "admin without exec_tasks is still denied: default deny"
        );
        let rooted = admin.with_exec(&["*"], &["root"]);
        assert!(rooted.may_exec(&payments, "root").is_ok());
        assert!(rooted.may_exec(&payments, "app").is_err());
        let by_name = Token::new("n", "0123456789abcdef", vec![Scope::Exec])
            .with_exec(&["prod_payments_api.*"], &["app"]);
        assert!(by_name.may_exec(&payments, "app").is_ok(), "ids match too");
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let short = "[[token]]\nname='a'\nsecret='short'\nscopes=['read']\n";
        assert!(
            Tokens::parse(short)
                .unwrap_err()
                .contains("shorter than 16")
        );
        let scope = "[[token]]\nname='a'\nsecret='0123456789abcdef'\nscopes=['root']\n";
        assert!(
            Tokens::parse(scope)
                .unwrap_err()
                .contains("unknown variant")
        );
        assert!(Tokens::parse("").unwrap_err().contains("no [[token]]"));
        let glob =
            "[[token]]\nname='a'\nsecret='0123456789abcdef'\nscopes=['exec']\nexec_tasks=['[']\n";
        assert!(Tokens::parse(glob).unwrap_err().contains("not a glob"));
        let twice = format!(
            "{FILE}\n[[token]]\nname='root'\nsecret='0123456789abcdef-x'\nscopes=['read']\n"
        );
        assert!(Tokens::parse(&twice).unwrap_err().contains("defined twice"));
    }
}
