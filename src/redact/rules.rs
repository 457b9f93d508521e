//! What share mode hides: rules in the gitleaks format (`[[rules]]` with
//! `id`, `description`, `regex`, `secretGroup`, `entropy`, `keywords` and
//! allowlists), the built-in set, and the user's own file added to it.

use regex::Regex;
use serde::Deserialize;

/// One thing to hide.
#[derive(Debug)]
pub struct Rule {
    /// Also the placeholder's prefix: `ip#3f2a`.
    pub id: String,
    pub description: String,
    pub regex: Regex,
    /// The group that is the secret; 0 takes the first group when the
    /// regex has one, else the whole match (as gitleaks does).
    pub secret_group: usize,
    /// A match whose secret has less Shannon entropy (bits a character)
    /// is left alone.
    pub entropy: f64,
    /// Lower-case words one of which the text must hold before the regex
    /// runs at all (the cheap test that keeps the log pipeline fast).
    pub keywords: Vec<String>,
    pub allow: Allow,
}

/// Secrets that are not secrets after all.
#[derive(Debug, Default)]
pub struct Allow {
    pub regexes: Vec<Regex>,
    pub stopwords: Vec<String>,
}

impl Allow {
    pub fn admits(&self, secret: &str) -> bool {
        let lower = secret.to_lowercase();
        self.regexes.iter().any(|r| r.is_match(secret))
            || self.stopwords.iter().any(|w| lower.contains(w.as_str()))
    }

    fn extend(&mut self, other: Allow) {
        self.regexes.extend(other.regexes);
        self.stopwords.extend(other.stopwords);
    }
}

/// The built-in rules, in the same format a user writes. IP addresses are
/// a rule of their own, on only when asked (`--share-ips`); they have no
/// keyword (a dot is in every line), and the regex's own search is fast.
pub const BUILT_IN: &str = include_str!("built_in.toml");
pub const IP_RULES: &str = r#"
[[rules]]
id = "ip"
description = "An IPv4 address"
regex = '''\b(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\b'''

[[rules]]
id = "ip"
description = "An IPv6 address"
regex = '''(?i)(?:\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|\b(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,5})?\b|::(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4}\b)'''
"#;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    #[serde(default)]
    rules: Vec<RuleDef>,
    /// The global allowlist, old style and new.
    allowlist: Option<AllowDef>,
    #[serde(default)]
    allowlists: Vec<AllowDef>,
    extend: Option<Extend>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Extend {
    /// `false`: the user's rules replace the built-in set.
    use_default: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleDef {
    id: String,
    description: Option<String>,
    /// A rule with only `path` (gitleaks matches file names) has nothing
    /// to match in a string; it is skipped, with a warning.
    regex: Option<String>,
    #[serde(default)]
    secret_group: usize,
    #[serde(default)]
    entropy: f64,
    #[serde(default)]
    keywords: Vec<String>,
    allowlist: Option<AllowDef>,
    #[serde(default)]
    allowlists: Vec<AllowDef>,
}

#[derive(Deserialize)]
struct AllowDef {
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
}

/// Rules read from a file, and what in it could not be used.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub allow: Allow,
    /// The file says `[extend] useDefault = false`.
    pub replaces_built_in: bool,
    pub warnings: Vec<String>,
}

/// Reads rules in the gitleaks format; `origin` names the file in errors.
pub fn parse(origin: &str, text: &str) -> Result<RuleSet, String> {
    let file: File = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
    let compile = |what: &str, re: &str| {
        Regex::new(re).map_err(|e| format!("{origin}: {what}: regex {re:?}: {e}"))
    };
    let allow = |def: AllowDef, what: &str| -> Result<Allow, String> {
        Ok(Allow {
            regexes: def
                .regexes
                .iter()
                .map(|r| compile(what, r))
                .collect::<Result<_, _>>()?,
            stopwords: def.stopwords.iter().map(|w| w.to_lowercase()).collect(),
        })
    };
    let mut set = RuleSet {
        rules: Vec::new(),
        allow: Allow::default(),
        replaces_built_in: file.extend.and_then(|e| e.use_default) == Some(false),
        warnings: Vec::new(),
    };
    for def in file.allowlist.into_iter().chain(file.allowlists) {
        set.allow.extend(allow(def, "allowlist")?);
    }
    for def in file.rules {
        let what = format!("rule {:?}", def.id);
        let Some(re) = def.regex else {
            set.warnings
                .push(format!("{origin}: {what} has no regex; it is skipped"));
            continue;
        };
        let regex = compile(&what, &re)?;
        if def.secret_group >= regex.captures_len() {
            return Err(format!(
                "{origin}: {what}: secretGroup {} but the regex has {} groups",
                def.secret_group,
                regex.captures_len() - 1
            ));
        }
        let mut rule_allow = Allow::default();
        for a in def.allowlist.into_iter().chain(def.allowlists) {
            rule_allow.extend(allow(a, &what)?);
        }
        set.rules.push(Rule {
            description: def.description.unwrap_or_else(|| def.id.clone()),
            id: def.id,
            regex,
            secret_group: def.secret_group,
            entropy: def.entropy,
            keywords: def.keywords.iter().map(|k| k.to_lowercase()).collect(),
            allow: rule_allow,
        });
    }
    Ok(set)
}

/// Shannon entropy in bits a character, as gitleaks measures a secret.
pub fn entropy(text: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0usize;
    for c in text.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        total += 1;
    }
    counts
        .values()
        .map(|&n| {
            let p = n as f64 / total as f64;
            -p * p.log2()
        })
        .sum()
}
