use super::*;

fn redactor(ips: bool) -> Redactor {
    Redactor::new(&ShareSettings {
        ips,
        literals: vec!["0123456789abcdef0123456789abcdef".into()],
        ..Default::default()
    })
    .unwrap()
}

fn hides(r: &Redactor, text: &str, secret: &str) -> String {
    let out = r.text(text).into_owned();
    assert!(!out.contains(secret), "{secret:?} still in {out:?}");
    out
}

#[test]
fn the_built_in_rules_hide_each_kind_of_secret() {
    let r = redactor(false);
    let cases = [
        (
            "Authorization: Bearer abcDEF123456789.xyz",
            "abcDEF123456789.xyz",
        ),
        ("key id AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
            "MIIEpAIBAAKCAQEA",
        ),
        (
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        ),
        ("connect postgres://app:hunter22@db:5432/x", "hunter22"),
        ("login failed password=s3cr3t-value for bob", "s3cr3t-value"),
        (r#"{"api_key": "k-9f8e7d6c"}"#, "k-9f8e7d6c"),
        ("mail from ops@example.com bounced", "ops@example.com"),
        (
            "sent with 0123456789abcdef0123456789abcdef",
            "0123456789abcdef",
        ),
    ];
    for (text, secret) in cases {
        hides(&r, text, secret);
    }
    // What holds no secret is passed through untouched, and borrowed.
    let plain = "GET /healthz 200 in 3 ms from 10.0.0.7";
    assert!(matches!(r.text(plain), Cow::Borrowed(_)));
}

#[test]
fn placeholders_are_stable_and_distinct() {
    let r = redactor(true);
    let a = hides(&r, "from 10.1.2.3 to 10.1.2.4", "10.1.2.3");
    let b = hides(&r, "again 10.1.2.3", "10.1.2.3");
    let first: Vec<&str> = a.split(' ').filter(|w| w.starts_with("ip#")).collect();
    assert_eq!(first.len(), 2);
    assert_ne!(first[0], first[1], "two addresses, two placeholders");
    assert!(b.ends_with(first[0]), "{b} keeps {}", first[0]);
    // Thousands of values and no two share a placeholder.
    let mut seen = std::collections::HashSet::new();
    for i in 0..3000 {
        let out = r
            .text(&format!("10.9.{}.{}", i / 250, i % 250))
            .into_owned();
        assert!(seen.insert(out.clone()), "{out} given twice");
    }
    // Another session keys its hash afresh: placeholders say nothing.
    let other = redactor(true);
    assert_ne!(other.text("again 10.1.2.3"), b);
}

#[test]
fn restore_puts_back_what_this_session_hid_for_the_gateway_only() {
    let r = redactor(true);
    let shown = r.text("node 10.1.2.3").into_owned();
    let placeholder = shown.strip_prefix("node ").unwrap();
    assert_eq!(
        r.restore(&format!(r#"{{"node":"{placeholder}"}}"#)),
        r#"{"node":"10.1.2.3"}"#
    );
    let encoded = placeholder.replace('#', "%23");
    assert_eq!(
        r.restore(&format!("/api/v1/nodes/{encoded}")),
        "/api/v1/nodes/10.1.2.3"
    );
    assert_eq!(
        r.restore("no#beef here"),
        "no#beef here",
        "unknown placeholders stay"
    );
}

#[test]
fn why_names_the_rules_behind_a_line() {
    let r = redactor(true);
    let shown = r.text("db=postgres://u:pw12345@10.0.0.1/x").into_owned();
    let why: Vec<String> = r.why(&shown).into_iter().map(|(id, _)| id).collect();
    assert!(
        why.contains(&"url-password".to_string()),
        "{shown}: {why:?}"
    );
    assert!(why.contains(&"ip".to_string()), "{shown}: {why:?}");
    assert!(r.why("nothing hidden here").is_empty());
}

#[test]
fn a_key_names_the_secret_its_value_is() {
    let r = redactor(false);
    let mut v = serde_json::json!({
        "labels": {"DB_PASSWORD": "hunter2", "team": "payments"},
        "cursor": "s=abc;password=x",
        "message": "ok",
        "message_base64": "cGFzc3dvcmQ9aHVudGVyMg==",
    });
    r.value(&mut v);
    assert_ne!(v["labels"]["DB_PASSWORD"], "hunter2");
    assert_eq!(v["labels"]["team"], "payments");
    assert_eq!(
        v["cursor"], "s=abc;password=x",
        "the protocol's fields stay"
    );
    assert!(v.get("message_base64").is_none(), "raw bytes are dropped");
}

#[test]
fn gitleaks_rules_files_are_read_with_allowlists_and_entropy() {
    let text = r#"
title = "ours"
[allowlist]
stopwords = ["example"]

[[rules]]
id = "ticket"
description = "An internal ticket secret"
regex = '''tkt_([a-z0-9]{8,})'''
secretGroup = 1
keywords = ["tkt_"]

[[rules]]
id = "low"
regex = '''low=(\w+)'''
entropy = 3.0

[[rules]]
id = "files-only"
path = '''\.pem$'''
"#;
    let set = rules::parse("ours.toml", text).unwrap();
    assert_eq!(set.rules.len(), 2);
    assert_eq!(set.warnings.len(), 1, "a path-only rule is skipped, said");
    let r = Redactor::from_rules(set.rules, set.allow);
    assert_eq!(
        r.text("x tkt_abcdef123 y").split('#').next(),
        Some("x tkt_ticket")
    );
    assert_eq!(r.text("tkt_example99"), "tkt_example99", "stopword");
    assert_eq!(r.text("low=aaaaaaaa"), "low=aaaaaaaa", "too little entropy");
    assert_ne!(r.text("low=q8Zr2mXw"), "low=q8Zr2mXw");
    let bad = rules::parse("bad.toml", "[[rules]]\nid='x'\nregex='(unclosed'\n");
    assert!(bad.unwrap_err().contains("bad.toml: rule \"x\""));
    let group = rules::parse("g.toml", "[[rules]]\nid='x'\nregex='a(b)'\nsecretGroup=3\n");
    assert!(group.unwrap_err().contains("secretGroup 3"));
}

#[test]
fn a_stream_message_is_redacted_through_and_through() {
    let r = redactor(false);
    let entry = |message: &str| crate::api::LogEntry {
        cursor: "d:1".into(),
        ts: 1,
        node: "n1".into(),
        unit: None,
        task: Some("t".into()),
        file: None,
        identifier: None,
        stream: None,
        priority: 6,
        message: message.into(),
        message_base64: Some("eA==".into()),
        fields: [(
            "TOKEN".to_string(),
            crate::api::FieldValue::Text("abc123456".into()),
        )]
        .into(),
    };
    let msg = crate::api::ServerMsg::Event {
        sub: "logs".into(),
        events: vec![crate::api::Event {
            seq: 1,
            op: crate::api::Op::Added,
            data: crate::api::Record::Log(entry("user ops@example.com password=pw999")),
        }],
    };
    let out = serde_json::to_string(&r.message(msg)).unwrap();
    for secret in ["ops@example.com", "pw999", "abc123456", "eA=="] {
        assert!(!out.contains(secret), "{secret} in {out}");
    }
    assert!(out.contains(r#""cursor":"d:1""#));
}

#[test]
fn a_repeated_value_is_read_once_clean_and_every_time_it_holds_a_secret() {
    let plain = Redactor::new(&ShareSettings::default()).unwrap();
    let secret = "0123456789abcdef0123456789abcdef";
    // Found clean by a redactor without the literal...
    let mut node = format!("node-{secret}");
    plain.repeated(&mut node);
    assert!(node.contains(secret));
    // ...it is still read by one that has it, and hidden each time.
    let strict = redactor(false);
    for _ in 0..3 {
        let mut node = format!("node-{secret}");
        strict.repeated(&mut node);
        assert!(!node.contains(secret), "{node}");
    }
    // Past what is remembered, values are read again and still pass.
    for n in 0..(CLEAN_KEPT * 2) {
        let mut unit = format!("unit-{n}.service");
        strict.repeated(&mut unit);
        assert_eq!(unit, format!("unit-{n}.service"));
    }
    let mut long = format!("{}password=hunter22", "x".repeat(CLEAN_LONGEST));
    strict.repeated(&mut long);
    assert!(!long.contains("hunter22"));
}
