//! Bearer tokens with named scopes, loaded from a TOML token file.
//!
//! ```toml
//! [[token]]
//! name = "ops"
//! secret = "a long random string"
//! scopes = ["read", "exec"]
//! ```

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
    /// Everything, including the audit log.
    Admin,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    pub name: String,
    secret: String,
    pub scopes: Vec<Scope>,
}

impl Token {
    pub fn new(name: &str, secret: &str, scopes: Vec<Scope>) -> Token {
        Token {
            name: name.to_string(),
            secret: secret.to_string(),
            scopes,
        }
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }

    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&Scope::Admin) || self.scopes.contains(&scope)
    }
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
    /// gateway nobody gave a token file.
    pub fn generated(name: &str) -> Tokens {
        Tokens::new(vec![Token::new(
            name,
            &super::store::random_hex(24),
            vec![Scope::Admin],
        )])
    }

    pub fn load(path: &Path) -> Result<Tokens, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read token file {}: {e}", path.display()))?;
        Tokens::parse(&text).map_err(|e| format!("token file {}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Tokens, String> {
        let file: TokenFile = toml::from_str(text).map_err(|e| e.to_string())?;
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
            if file.token[..i].iter().any(|t| t.name == token.name) {
                return Err(format!("token {:?} is defined twice", token.name));
            }
        }
        Ok(Tokens { tokens: file.token })
    }

    pub fn first(&self) -> Option<&Token> {
        self.tokens.first()
    }

    /// Finds the token an `Authorization` header carries. Every secret is
    /// compared in constant time, and all of them are compared, so timing
    /// tells neither a secret nor which token matched.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<&Token, ApiError> {
        let presented = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Unauthorized,
                    "missing bearer token: send 'Authorization: Bearer <token>'",
                )
            })?;
        let mut found = None;
        for token in &self.tokens {
            if constant_time_eq::constant_time_eq(token.secret.as_bytes(), presented.as_bytes()) {
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
        for bad in [
            None,
            Some("Bearer nope"),
            Some("Basic abc"),
            Some("Bearer "),
        ] {
            assert_eq!(
                tokens.authenticate(bad).unwrap_err().error.code,
                ErrorCode::Unauthorized
            );
        }
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
        let twice = format!(
            "{FILE}\n[[token]]\nname='root'\nsecret='0123456789abcdef-x'\nscopes=['read']\n"
        );
        assert!(Tokens::parse(&twice).unwrap_err().contains("defined twice"));
    }
}
