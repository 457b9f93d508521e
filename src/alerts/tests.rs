//! Rules over a model: `for`, resolve, grouping and repeat timing, the
//! payloads' shapes, and what a rules file that is wrong says.

use std::collections::BTreeMap;

use super::config::AlertsConfig;
use super::engine::{Engine, Notification};
use super::payload::bodies;
use crate::api::{AlertState, Check, CheckKind, CheckStatus};
use crate::tui::model::Model;

const RULES: &str = r#"
queue = "/tmp/day2top-alerts-unit"
interval = "1s"

[[rule]]
name = "CheckFailing"
check = "web*"
for = "1m"
labels = { severity = "page" }
annotations = { summary = "{check} failing on {target}: {output}" }
to = ["am", "pd"]

[[rule]]
name = "MemoryHigh"
metric = "node.mem.percent"
above = 90
to = ["chat"]

[[receiver]]
name = "am"
kind = "webhook"
url = "http://127.0.0.1:1/hook"
group_by = ["alertname"]
group_wait = "30s"
group_interval = "5m"
repeat_interval = "1h"

[[receiver]]
name = "pd"
kind = "pagerduty"
url = "http://127.0.0.1:1/v2/enqueue"
routing_key = "R0UT1NGKEY"
group_wait = "0s"

[[receiver]]
name = "chat"
kind = "slack"
url = "http://127.0.0.1:1/slack"
group_wait = "0s"
"#;

fn config() -> AlertsConfig {
    AlertsConfig::parse("rules.toml", RULES, None).unwrap()
}

fn check(model: &mut Model, name: &str, failing: bool) {
    let mut c = Check::new(name, name, CheckKind::Http, &format!("http://{name}"));
    c.status = if failing {
        CheckStatus::Failing
    } else {
        CheckStatus::Passing
    };
    c.consecutive_failures = if failing { 3 } else { 0 };
    c.last_output = "connection refused".into();
    model.checks.insert(name.into(), c);
}

fn run(engine: &mut Engine, model: &Model, at: i64) -> Vec<Notification> {
    engine.evaluate(&config(), model, at, || {
        vec!["payments-api OOM-killed".into()]
    })
}

fn states(engine: &Engine) -> Vec<(String, AlertState)> {
    engine
        .listed()
        .into_iter()
        .map(|a| (a.labels["check"].clone(), a.state))
        .collect()
}

const M: i64 = 60_000;

#[test]
fn an_alert_fires_after_for_and_resolves() {
    let mut model = Model::default();
    let mut engine = Engine::default();
    check(&mut model, "web-1", true);
    check(&mut model, "db", true); // not web*: no alert
    assert!(run(&mut engine, &model, 0).is_empty());
    assert_eq!(
        states(&engine),
        [("web-1".to_string(), AlertState::Pending)]
    );
    run(&mut engine, &model, 59_000);
    assert_eq!(
        engine.listed()[0].state,
        AlertState::Pending,
        "not a minute yet"
    );
    // A minute: firing, and PagerDuty (no group wait) is told at once.
    let due = run(&mut engine, &model, M);
    assert_eq!(engine.listed()[0].state, AlertState::Firing);
    assert_eq!(engine.listed()[0].evidence, ["payments-api OOM-killed"]);
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(config().receivers[due[0].receiver].name, "pd");
    // The webhook waits its 30 s group wait.
    let due = run(&mut engine, &model, M + 30_000);
    assert_eq!(due.len(), 1);
    assert_eq!(config().receivers[due[0].receiver].name, "am");
    // Nothing new, before the repeat interval: nothing.
    assert!(run(&mut engine, &model, 10 * M).is_empty());
    // It passes: resolved, told after the group interval.
    check(&mut model, "web-1", false);
    let due = run(&mut engine, &model, 11 * M);
    assert_eq!(engine.listed()[0].state, AlertState::Resolved);
    // Both group intervals (5m) have passed since they were told: both hear.
    assert!(
        due.iter().any(|n| n.receiver == 1 && !n.firing()),
        "{due:?}"
    );
    assert!(
        due.iter().any(|n| n.receiver == 0 && !n.firing()),
        "{due:?}"
    );
    assert!(
        run(&mut engine, &model, 11 * M + 10_000).is_empty(),
        "told once"
    );
    // Gone from the list a quarter of an hour later.
    run(&mut engine, &model, 27 * M);
    assert!(engine.listed().is_empty());
}

#[test]
fn a_group_collects_alerts_and_repeats() {
    let mut model = Model::default();
    let mut engine = Engine::default();
    check(&mut model, "web-1", true);
    run(&mut engine, &model, 0);
    run(&mut engine, &model, M); // fires; pd told
    check(&mut model, "web-2", true);
    run(&mut engine, &model, M + 10_000);
    let due = run(&mut engine, &model, 2 * M + 10_000); // web-2 fires
    // The webhook's first send (its wait passed) holds what is firing:
    // both alerts of the group, one notification.
    let am: Vec<&Notification> = due.iter().filter(|n| n.receiver == 0).collect();
    assert_eq!(am.len(), 1);
    assert_eq!(am[0].alerts.len(), 2);
    assert_eq!(
        am[0].group_labels,
        BTreeMap::from([("alertname".to_string(), "CheckFailing".to_string())])
    );
    // Unchanged: the repeat interval (1h) brings it again, not before.
    assert!(
        run(&mut engine, &model, 30 * M)
            .iter()
            .all(|n| n.receiver != 0)
    );
    let again = run(&mut engine, &model, 2 * M + 10_000 + 60 * M);
    assert!(
        again.iter().any(|n| n.receiver == 0 && n.alerts.len() == 2),
        "{again:?}"
    );
}

#[test]
fn groups_go_when_nothing_is_left_to_tell() {
    let mut model = Model::default();
    let mut engine = Engine::default();
    check(&mut model, "web-1", true);
    run(&mut engine, &model, 0);
    run(&mut engine, &model, M); // fires; pd told
    run(&mut engine, &model, M + 30_000); // am told after its wait
    assert_eq!(engine.groups(), 2);
    check(&mut model, "web-1", false);
    run(&mut engine, &model, 2 * M); // resolved, not yet told (group intervals)
    assert_eq!(engine.groups(), 2, "the resolution is still to tell");
    // Told after their group interval: the groups go.
    run(&mut engine, &model, 8 * M);
    assert_eq!(engine.groups(), 0);
    // A resolved alert forgotten before its group could tell: it goes too.
    check(&mut model, "web-1", true);
    run(&mut engine, &model, 9 * M);
    run(&mut engine, &model, 10 * M);
    run(&mut engine, &model, 10 * M + 30_000);
    check(&mut model, "web-1", false);
    run(&mut engine, &model, 11 * M);
    run(&mut engine, &model, 11 * M + 16 * M);
    assert!(engine.listed().is_empty());
    run(&mut engine, &model, 11 * M + 17 * M);
    assert_eq!(engine.groups(), 0);
}

#[test]
fn an_alert_resolved_before_anyone_was_told_says_nothing() {
    let mut model = Model::default();
    let mut engine = Engine::default();
    check(&mut model, "web-1", true);
    run(&mut engine, &model, 0);
    run(&mut engine, &model, M); // fires: pd told, am waiting
    check(&mut model, "web-1", false);
    let due = run(&mut engine, &model, M + 5_000);
    assert!(
        due.iter().all(|n| n.receiver != 0),
        "am never heard of it: {due:?}"
    );
    assert!(
        run(&mut engine, &model, 20 * M)
            .iter()
            .all(|n| n.receiver != 0)
    );
}

#[test]
fn payloads_take_each_receivers_shape() {
    let mut model = Model::default();
    let mut engine = Engine::default();
    check(&mut model, "web-1", true);
    run(&mut engine, &model, 0);
    let due = run(&mut engine, &model, M);
    let config = config();
    let pd = bodies(&config.receivers[1], &due[0], "http://gw:7070");
    assert_eq!(pd.len(), 1);
    let e = &pd[0];
    assert_eq!(e["routing_key"], "R0UT1NGKEY");
    assert_eq!(e["event_action"], "trigger");
    assert_eq!(e["dedup_key"].as_str().unwrap().len(), 16);
    assert_eq!(e["payload"]["severity"], "critical", "severity=page");
    assert_eq!(
        e["payload"]["summary"],
        "web-1 failing on http://web-1: connection refused"
    );
    assert_eq!(e["payload"]["source"], "http://web-1");
    assert!(e["payload"]["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(e["payload"].get("group").is_none(), "absent, not null");
    assert!(e["payload"]["component"].is_string());
    assert_eq!(
        e["payload"]["custom_details"]["evidence"][0],
        "payments-api OOM-killed"
    );

    let am = run(&mut engine, &model, M + 30_000);
    let hook = &bodies(&config.receivers[0], &am[0], "http://gw:7070")[0];
    assert_eq!(hook["version"], "4");
    assert_eq!(hook["status"], "firing");
    assert_eq!(hook["receiver"], "am");
    assert_eq!(hook["groupKey"], "am:{alertname=\"CheckFailing\"}");
    assert_eq!(hook["commonLabels"]["severity"], "page");
    assert_eq!(hook["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(
        hook["alerts"][0]["annotations"]["evidence"],
        "payments-api OOM-killed"
    );

    check(&mut model, "web-1", false);
    let resolved = run(&mut engine, &model, 11 * M);
    let pd = bodies(
        &config.receivers[1],
        resolved.iter().find(|n| n.receiver == 1).unwrap(),
        "u",
    );
    assert_eq!(pd[0]["event_action"], "resolve");
    assert_eq!(
        pd[0]["dedup_key"], e["dedup_key"],
        "the same key resolves what it triggered"
    );
    assert!(pd[0].get("payload").is_none());

    let slack = Notification {
        receiver: 2,
        group_key: "k".into(),
        group_labels: BTreeMap::new(),
        alerts: engine.listed(),
    };
    let text = bodies(&config.receivers[2], &slack, "u")[0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.starts_with("*RESOLVED* 1 alert(s)"), "{text}");
    assert!(text.contains("What changed"), "{text}");
}

#[test]
fn a_wrong_rules_file_says_what_and_where() {
    let wrong = |text: &str| AlertsConfig::parse("rules.toml", text, None).unwrap_err();
    let q = "queue = \"/tmp/q\"\n";
    assert!(
        wrong(&format!(
            "{q}[[rule]]\nname = \"x\"\ncheck = \"*\"\nmetric = \"m\"\n"
        ))
        .contains("only one")
    );
    assert!(
        wrong(&format!("{q}[[rule]]\nname = \"x\"\nmetric = \"m\"\n"))
            .contains("needs above or below")
    );
    assert!(
        wrong(&format!(
            "{q}[[rule]]\nname = \"x\"\ncheck = \"*\"\nfor = \"soon\"\n"
        ))
        .contains("\"soon\" is not a duration")
    );
    assert!(
        wrong(&format!(
            "{q}[[rule]]\nname = \"x\"\ncheck = \"*\"\nto = [\"nobody\"]\n"
        ))
        .contains("no receiver named \"nobody\"")
    );
    assert!(
        wrong(&format!(
            "{q}[[receiver]]\nname = \"p\"\nkind = \"pagerduty\"\nurl = \"https://x\"\n"
        ))
        .contains("routing_key")
    );
    assert!(wrong("queue = \"relative/q\"\n").contains("absolute path"));
    assert!(wrong("[[rule]]\nname = 1\n").starts_with("rules.toml:2:"));
    assert!(wrong("").contains("say where the queue goes"));
}
