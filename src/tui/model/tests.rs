//! The model's handling of check events: what a check's history holds.

use super::*;
use crate::api::{CheckKind, CheckResult};

fn check_event(op: Op, results: std::ops::Range<i64>) -> StreamEvent {
    let mut check = Check::new("c1", "web", CheckKind::Http, "http://web");
    check.history = results
        .map(|ts| CheckResult {
            ts,
            ok: ts % 2 == 0,
            latency_ms: 1.0,
            output: String::new(),
        })
        .collect();
    StreamEvent::Message(ServerMsg::Event {
        sub: SUB_HEALTH.into(),
        events: vec![Event {
            seq: 1,
            op,
            data: Record::Check(check),
        }],
    })
}

fn history(model: &Model) -> Vec<i64> {
    model.checks["c1"].history.iter().map(|r| r.ts).collect()
}

#[test]
fn a_check_update_adds_its_newest_result_to_the_history_held() {
    let mut model = Model::default();
    model.apply(check_event(Op::Added, 0..3), 0);
    model.apply(check_event(Op::Updated, 3..4), 0);
    assert_eq!(history(&model), [0, 1, 2, 3]);
    for ts in 4..100 {
        model.apply(check_event(Op::Updated, ts..ts + 1), 0);
    }
    assert_eq!(history(&model).len(), CHECK_HISTORY, "bounded");
    assert_eq!(history(&model).last(), Some(&99));
    // A catch-up (`Added`) replaces the history whole.
    model.apply(check_event(Op::Added, 200..202), 0);
    assert_eq!(history(&model), [200, 201]);
}
