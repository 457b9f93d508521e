//! Syntax colouring of JSON and logfmt log lines, with syntect (its
//! pure-Rust regex engine) and two small grammars in `syntaxes/`. Scopes map
//! to theme roles, so every theme (mono too) decides how they look.

use syntect::parsing::{
    ParseState, Scope, ScopeStack, SyntaxDefinition, SyntaxSet, SyntaxSetBuilder,
};

use crate::tui::config::theme::Role;

const JSON: &str = include_str!("../../../syntaxes/json.sublime-syntax");
const LOGFMT: &str = include_str!("../../../syntaxes/logfmt.sublime-syntax");

/// A line's colouring: runs of it, each as its end offset and its role.
pub type Runs = Vec<(usize, Option<Role>)>;

pub struct Syntax {
    set: SyntaxSet,
    /// Scopes in the order they are looked for, with their roles.
    roles: Vec<(Scope, Role)>,
}

impl std::fmt::Debug for Syntax {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Syntax")
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Json,
    Logfmt,
}

/// Which grammar a line looks like it is in, if any.
fn kind(line: &str) -> Option<Kind> {
    let t = line.trim_start();
    if (t.starts_with('{') && t.trim_end().ends_with('}'))
        || (t.starts_with('[') && t.trim_end().ends_with(']'))
    {
        return Some(Kind::Json);
    }
    // logfmt: mostly key=value words, at least two of them.
    let words = t.split_whitespace().take(8);
    let (mut pairs, mut all) = (0, 0);
    for w in words {
        all += 1;
        if let Some((k, _)) = w.split_once('=')
            && !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            pairs += 1;
        }
    }
    (pairs >= 2 && pairs * 2 >= all).then_some(Kind::Logfmt)
}

impl Syntax {
    pub fn new() -> Syntax {
        let mut builder = SyntaxSetBuilder::new();
        for (name, text) in [("json", JSON), ("logfmt", LOGFMT)] {
            let def = SyntaxDefinition::load_from_str(text, true, None)
                .unwrap_or_else(|e| panic!("built-in grammar {name}: {e}"));
            builder.add(def);
        }
        let scope = |s: &str| Scope::new(s).expect("built-in scope names parse");
        Syntax {
            set: builder.build(),
            roles: vec![
                (scope("entity.name.tag"), Role::SyntaxKey),
                (scope("constant.numeric"), Role::SyntaxNumber),
                (scope("constant.language"), Role::SyntaxLiteral),
                (scope("string"), Role::SyntaxString),
                (scope("punctuation"), Role::SyntaxPunctuation),
            ],
        }
    }

    /// The line cut into `(text, role)` runs, or `None` if it is neither
    /// JSON nor logfmt (or does not parse as it looked).
    pub fn highlight<'a>(&self, line: &'a str) -> Option<Vec<(&'a str, Option<Role>)>> {
        let name = match kind(line)? {
            Kind::Json => "JSON",
            Kind::Logfmt => "logfmt",
        };
        let syntax = self.set.find_syntax_by_name(name)?;
        let mut state = ParseState::new(syntax);
        let ops = state.parse_line(line, &self.set).ok()?;
        let mut stack = ScopeStack::new();
        let mut out = Vec::with_capacity(ops.len() + 1);
        let mut last = 0;
        for (at, op) in ops {
            let at = at.min(line.len());
            if at > last {
                out.push((&line[last..at], self.role(&stack)));
                last = at;
            }
            stack.apply(&op).ok()?;
        }
        if last < line.len() {
            out.push((&line[last..], self.role(&stack)));
        }
        Some(out)
    }

    /// The same as [`Syntax::highlight`], as end offsets with their roles,
    /// owning nothing of the line: what the console caches per row.
    pub fn runs(&self, line: &str) -> Option<Runs> {
        let mut end = 0;
        let runs = self
            .highlight(line)?
            .into_iter()
            .map(|(text, role)| {
                end += text.len();
                (end, role)
            })
            .collect();
        Some(runs)
    }

    fn role(&self, stack: &ScopeStack) -> Option<Role> {
        for scope in stack.as_slice().iter().rev() {
            if let Some((_, role)) = self.roles.iter().find(|(s, _)| s.is_prefix_of(*scope)) {
                return Some(*role);
            }
        }
        None
    }
}

impl Default for Syntax {
    fn default() -> Self {
        Syntax::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles_of<'a>(runs: &[(&'a str, Option<Role>)], role: Role) -> Vec<&'a str> {
        runs.iter()
            .filter(|(_, r)| *r == Some(role))
            .map(|(t, _)| t.trim_matches('"'))
            .collect()
    }

    #[test]
    fn json_keys_values_and_literals() {
        let s = Syntax::new();
        let runs = s
            .highlight(r#"{"level":"info","n":42,"ok":true,"tags":["a"]}"#)
            .unwrap();
        let text: String = runs.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            text, r#"{"level":"info","n":42,"ok":true,"tags":["a"]}"#,
            "nothing lost"
        );
        assert!(roles_of(&runs, Role::SyntaxKey).concat().contains("level"));
        assert!(
            roles_of(&runs, Role::SyntaxString)
                .concat()
                .contains("info")
        );
        assert_eq!(roles_of(&runs, Role::SyntaxNumber), ["42"]);
        assert_eq!(roles_of(&runs, Role::SyntaxLiteral), ["true"]);
    }

    #[test]
    fn logfmt_pairs() {
        let s = Syntax::new();
        let runs = s
            .highlight(r#"level=warn msg="slow query" took=12ms ok=false"#)
            .unwrap();
        assert_eq!(
            roles_of(&runs, Role::SyntaxKey),
            ["level", "msg", "took", "ok"]
        );
        assert_eq!(roles_of(&runs, Role::SyntaxNumber), ["12ms"]);
        assert_eq!(roles_of(&runs, Role::SyntaxLiteral), ["false"]);
        assert!(s.highlight("just a sentence with a=b in it").is_none());
        assert!(s.highlight("plain text").is_none());
    }
}
