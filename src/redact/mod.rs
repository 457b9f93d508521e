//! Share mode's one redactor: every string from the wire passes through it
//! before the console draws, records or sends it, so a screen shared in an
//! incident review shows no secret. Secrets become stable placeholders
//! (`ip#3f2a`: the rule, then a keyed hash), the same for the same value
//! all session, so a review can still follow one host.

pub mod rules;
mod walk;

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aho_corasick::AhoCorasick;

use rules::{Allow, Rule};

thread_local! {
    /// The text being redacted, lower-cased, reused line after line.
    static LOWER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    static CLEAN: std::cell::RefCell<Clean> = const {
        std::cell::RefCell::new(Clean { redactor: u64::MAX, values: Vec::new(), next: 0 })
    };
}

/// Placeholders remembered (for stable collisions and for asking the
/// gateway about a placeholder's original); past this, placeholders are
/// still made and still stable, but two values may share one.
const REMEMBERED: usize = 65_536;
/// Values longer than this are not remembered (at most ~32 MB in all).
const REMEMBERED_LEN: usize = 256;

/// Share mode's settings, as the flags and config give them.
#[derive(Debug, Clone, Default)]
pub struct ShareSettings {
    /// A rules file in the gitleaks format, added to the built-in set.
    pub rules: Option<std::path::PathBuf>,
    /// Hide IP addresses too.
    pub ips: bool,
    /// Exact strings to hide: the console's own tokens.
    pub literals: Vec<String>,
}

pub struct Redactor {
    rules: Vec<Rule>,
    allow: Allow,
    /// Every rule's keywords, in one automaton: one pass over a string
    /// (lower-cased) says which rules could match at all.
    keywords: AhoCorasick,
    /// The same keywords, leftmost-first: it can only say whether one is
    /// there, but keeps its SIMD prefilter, so the text without any (most
    /// log lines) is passed in a few nanoseconds.
    gate: AhoCorasick,
    /// For each keyword of `keywords`, the rule it belongs to.
    keyword_rule: Vec<usize>,
    /// Rules without keywords, which always run.
    always: Vec<usize>,
    /// Keyed so a placeholder says nothing about its value to anyone
    /// without this process's memory.
    hasher: std::hash::RandomState,
    placeholders: Mutex<Placeholders>,
    /// Strings changed so far (the SHARE badge says how many).
    pub changed: AtomicU64,
    /// This redactor among all made (what its threads' memory of clean
    /// values belongs to).
    id: u64,
}

/// Redactors made so far, for their ids.
static MADE: AtomicU64 = AtomicU64::new(0);

/// Short values read lately and found clean, per thread, and the redactor
/// that read them: a log entry's node, unit, file and identifier are the
/// same line after line, and are not read again.
struct Clean {
    redactor: u64,
    values: Vec<Box<str>>,
    next: usize,
}

/// Values remembered clean, and the longest (a message is not one).
const CLEAN_KEPT: usize = 16;
const CLEAN_LONGEST: usize = 128;

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({})", self.rule_ids().join(", "))
    }
}

#[derive(Default)]
struct Placeholders {
    by_value: HashMap<String, String>,
    by_placeholder: HashMap<String, String>,
}

impl Redactor {
    /// The built-in rules, IPs if asked, the user's file and literals.
    pub fn new(settings: &ShareSettings) -> Result<Redactor, String> {
        let mut sets = Vec::new();
        let user = match &settings.rules {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("share rules {}: {e}", path.display()))?;
                Some(rules::parse(&path.display().to_string(), &text)?)
            }
            None => None,
        };
        if !user.as_ref().is_some_and(|u| u.replaces_built_in) {
            sets.push(rules::parse("built-in share rules", rules::BUILT_IN)?);
        }
        if settings.ips {
            sets.push(rules::parse("built-in IP rules", rules::IP_RULES)?);
        }
        for w in user.iter().flat_map(|u| &u.warnings) {
            tracing::warn!("{w}");
        }
        sets.extend(user);
        let mut all = Vec::new();
        let mut allow = Allow::default();
        for set in sets {
            all.extend(set.rules);
            allow.regexes.extend(set.allow.regexes);
            allow.stopwords.extend(set.allow.stopwords);
        }
        let literals: Vec<&String> = settings.literals.iter().filter(|l| l.len() >= 8).collect();
        if !literals.is_empty() {
            let alternation = literals
                .iter()
                .map(|l| regex::escape(l))
                .collect::<Vec<_>>()
                .join("|");
            all.push(Rule {
                id: "token".into(),
                description: "The console's own bearer token".into(),
                regex: regex::Regex::new(&alternation).map_err(|e| e.to_string())?,
                secret_group: 0,
                entropy: 0.0,
                keywords: Vec::new(),
                allow: Allow::default(),
            });
        }
        Ok(Redactor::from_rules(all, allow))
    }

    fn from_rules(rules: Vec<Rule>, allow: Allow) -> Redactor {
        let mut words = Vec::new();
        let mut keyword_rule = Vec::new();
        let mut always = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            // A one-byte keyword (`@`) would cost the gate its prefilter on
            // every line, ten times its speed: such a rule runs always (its
            // regex's own search for the byte is fast).
            if rule.keywords.is_empty() || rule.keywords.iter().any(|k| k.len() < 2) {
                always.push(i);
                continue;
            }
            for k in &rule.keywords {
                words.push(k.clone());
                keyword_rule.push(i);
            }
        }
        // Matched against the text lower-cased (keywords are), which
        // keeps the gate's SIMD prefilter: a case-insensitive automaton
        // loses it, and is ten times slower over every log line.
        let keywords = AhoCorasick::new(&words).expect("keywords are plain strings");
        let gate = AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(&words)
            .expect("keywords are plain strings");
        Redactor {
            rules,
            allow,
            keywords,
            gate,
            keyword_rule,
            always,
            hasher: std::hash::RandomState::new(),
            placeholders: Mutex::new(Placeholders::default()),
            changed: AtomicU64::new(0),
            id: MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// The text with every secret replaced; borrowed when nothing was.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        // Spans to replace, from every rule that matched: those that
        // always run, then those whose keyword the text holds. Nothing is
        // allocated for text that holds no secret (most of it).
        let mut spans: Vec<(usize, usize, usize)> = Vec::new();
        for &i in &self.always {
            self.find(i, text, &mut spans);
        }
        let mut keyword_rules: Vec<usize> = Vec::new();
        LOWER.with_borrow_mut(|lower| {
            lower.clear();
            lower.extend(text.bytes().map(|b| b.to_ascii_lowercase()));
            // Most text holds no keyword: one quick pass says so.
            if self.gate.is_match(&lower[..]) {
                for m in self.keywords.find_overlapping_iter(&lower[..]) {
                    let rule = self.keyword_rule[m.pattern().as_usize()];
                    if !keyword_rules.contains(&rule) {
                        keyword_rules.push(rule);
                    }
                }
            }
            // One huge line must not hold its size for good.
            if lower.capacity() > 1 << 20 {
                *lower = Vec::new();
            }
        });
        for i in keyword_rules {
            self.find(i, text, &mut spans);
        }
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        // Where two overlap, both are hidden as one: the earlier rule
        // (the more specific) names it.
        spans.sort_by_key(|&(start, _, rule)| (start, rule));
        let mut merged: Vec<(usize, usize, usize)> = Vec::with_capacity(spans.len());
        for (start, end, rule) in spans {
            match merged.last_mut() {
                Some(last) if start < last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end, rule)),
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, rule) in merged {
            out.push_str(&text[at..start]);
            out.push_str(&self.placeholder(&self.rules[rule].id, &text[start..end]));
            at = end;
        }
        out.push_str(&text[at..]);
        self.changed.fetch_add(1, Ordering::Relaxed);
        Cow::Owned(out)
    }

    /// Where rule `i` finds secrets in `text`, less what is allowed.
    fn find(&self, i: usize, text: &str, spans: &mut Vec<(usize, usize, usize)>) {
        let rule = &self.rules[i];
        // The search without groups is the fast one: groups only on a hit.
        if !rule.regex.is_match(text) {
            return;
        }
        for caps in rule.regex.captures_iter(text) {
            let group = match rule.secret_group {
                0 if caps.len() > 1 => caps.get(1),
                0 => caps.get(0),
                n => caps.get(n),
            };
            let Some(secret) = group.filter(|g| !g.is_empty()) else {
                continue;
            };
            let value = secret.as_str();
            if is_placeholder(value)
                || (rule.entropy > 0.0 && rules::entropy(value) < rule.entropy)
                || rule.allow.admits(value)
                || self.allow.admits(value)
            {
                continue;
            }
            spans.push((secret.start(), secret.end(), i));
        }
    }

    /// Replaces the string in place when it holds a secret.
    pub fn string(&self, s: &mut String) {
        if let Cow::Owned(new) = self.text(s) {
            *s = new;
        }
    }

    /// As [`Redactor::string`], for a short value that repeats (a node,
    /// a unit, a file name): one this thread found clean lately is not
    /// read again.
    pub fn repeated(&self, s: &mut String) {
        if s.len() > CLEAN_LONGEST {
            return self.string(s);
        }
        let known =
            CLEAN.with_borrow(|c| c.redactor == self.id && c.values.iter().any(|v| **v == **s));
        if known {
            return;
        }
        match self.text(s) {
            Cow::Owned(new) => *s = new,
            Cow::Borrowed(_) => CLEAN.with_borrow_mut(|c| {
                if c.redactor != self.id {
                    *c = Clean {
                        redactor: self.id,
                        values: Vec::with_capacity(CLEAN_KEPT),
                        next: 0,
                    };
                }
                let value: Box<str> = s.as_str().into();
                if c.values.len() < CLEAN_KEPT {
                    c.values.push(value);
                } else {
                    c.values[c.next] = value;
                    c.next = (c.next + 1) % CLEAN_KEPT;
                }
            }),
        }
    }

    /// The stable placeholder of a value: the same all session, and two
    /// values never share one while fewer than `REMEMBERED` are known.
    fn placeholder(&self, id: &str, value: &str) -> String {
        let mut held = self.placeholders.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = held.by_value.get(value) {
            return p.clone();
        }
        let hash = self.hasher.hash_one((id, value));
        let mut digits = 4;
        let made = loop {
            let p = format!("{id}#{:0digits$x}", hash >> (64 - 4 * digits));
            match held.by_placeholder.get(&p) {
                Some(other) if other != value && digits < 16 => digits += 2,
                _ => break p,
            }
        };
        // Bounded in count and size: a long secret (a key block) is never
        // asked of the gateway by name, and need not be remembered.
        if held.by_value.len() < REMEMBERED && value.len() <= REMEMBERED_LEN {
            held.by_value.insert(value.to_string(), made.clone());
            held.by_placeholder.insert(made.clone(), value.to_string());
        }
        made
    }

    /// What the gateway must be asked for: the text with every placeholder
    /// this session made put back (a task whose name held an address is
    /// still found by its placeholder). Goes only to the gateway, never to
    /// the screen.
    pub fn restore<'a>(&self, text: &'a str) -> Cow<'a, str> {
        static SHAPE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new("[a-z0-9-]+(?:#|%23)[0-9a-f]{4,16}").expect("a valid regex")
        });
        if !text.contains('#') && !text.contains("%23") {
            return Cow::Borrowed(text);
        }
        let held = self.placeholders.lock().unwrap_or_else(|p| p.into_inner());
        SHAPE.replace_all(text, |caps: &regex::Captures| {
            let found = &caps[0];
            match found.split_once("%23") {
                Some((id, hex)) => match held.by_placeholder.get(&format!("{id}#{hex}")) {
                    Some(value) => form_urlencoded::byte_serialize(value.as_bytes()).collect(),
                    None => found.to_string(),
                },
                None => held
                    .by_placeholder
                    .get(found)
                    .cloned()
                    .unwrap_or_else(|| found.to_string()),
            }
        })
    }

    /// Which rules made the placeholders in a line (`:share why`): each
    /// rule's id and description, once.
    pub fn why(&self, line: &str) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = Vec::new();
        for word in line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '#')) {
            if !is_placeholder(word) {
                continue;
            }
            let id = word.split('#').next().unwrap_or_default();
            for rule in self.rules.iter().filter(|r| r.id == id) {
                if !found.iter().any(|(_, d)| *d == rule.description) {
                    found.push((rule.id.clone(), rule.description.clone()));
                }
            }
        }
        found
    }

    /// The rule ids in use, for the README's and `:share`'s account.
    pub fn rule_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.rules.iter().map(|r| r.id.as_str()).collect();
        ids.dedup();
        ids
    }
}

/// `rule#hex`: what this redactor writes in place of a secret.
fn is_placeholder(word: &str) -> bool {
    let Some((id, hex)) = word.split_once('#') else {
        return false;
    };
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && (4..=16).contains(&hex.len())
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Share mode for a process: prepared at start (so a bad rules file is
/// an error at launch), on from the start (`--share`) or from `:share`,
/// and never off again while the process runs.
#[derive(Clone, Default)]
pub struct Share(Option<Arc<ShareInner>>);

struct ShareInner {
    on: AtomicBool,
    redactor: Redactor,
}

impl Share {
    /// Share mode ready, on or not yet.
    pub fn prepare(settings: &ShareSettings, on: bool) -> Result<Share, String> {
        Ok(Share(Some(Arc::new(ShareInner {
            on: AtomicBool::new(on),
            redactor: Redactor::new(settings)?,
        }))))
    }

    /// The redactor, while share mode is on.
    pub fn active(&self) -> Option<&Redactor> {
        self.0
            .as_ref()
            .filter(|s| s.on.load(Ordering::Acquire))
            .map(|s| &s.redactor)
    }

    pub fn is_on(&self) -> bool {
        self.active().is_some()
    }

    /// Turns share mode on; false when it could not be (never prepared).
    pub fn turn_on(&self) -> bool {
        match &self.0 {
            Some(s) => {
                s.on.store(true, Ordering::Release);
                true
            }
            None => false,
        }
    }

    /// Text for the gateway: placeholders put back while sharing.
    pub fn restore<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.active() {
            Some(r) => r.restore(text),
            None => Cow::Borrowed(text),
        }
    }
}

impl std::fmt::Debug for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Share({})", if self.is_on() { "on" } else { "off" })
    }
}

#[cfg(test)]
mod tests;
