//! Log history back to the source: a journal of 20,000 entries over five
//! hours, made with the real systemd-journal-remote, served by a gateway
//! whose ring holds a few hundred of them. Paging back from the newest
//! reaches the first entry with none lost or repeated; `since`/`until`
//! read a range the ring never held. Needs journalctl and
//! systemd-journal-remote; without them these tests say so and pass,
//! unless DAY2TOP_REQUIRE_JOURNAL=1 (as in CI).

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use day2top::api::{HISTORY_HEADER, LogEntry, OLDER_HEADER};
use day2top::gateway::{self, JournalConfig};

use common::journal::{FIRST_US, STEP_US, tools};

const ENTRIES: usize = 20_000;

/// A journal directory with ENTRIES entries of two units.
fn journal(name: &str) -> PathBuf {
    common::journal::make(name, ENTRIES)
}

async fn start(dir: &Path) -> gateway::RunningGateway {
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.journal = Some(JournalConfig {
        dir: Some(dir.to_path_buf()),
        files: vec![],
        backfill: Some(500),
    });
    // A ring of a few hundred entries: most of the history is the journal's.
    config.store_limits.log_bytes = 150_000;
    let quiet = day2top::collect::demo::DemoConfig {
        log_rate: 0,
        ..Default::default()
    };
    let gw = gateway::start(
        config,
        Box::new(day2top::collect::demo::DemoSource::new(quiet)),
    )
    .await
    .unwrap();
    // Until the ring holds the backfill's end. A read with `skip` reads the
    // ring alone: a plain newest read would find it in the journal before
    // the ring has it, and paging would then start from a ring still
    // taking its backfill (so its newest page would end short of it).
    let newest = format!("entry {}", ENTRIES - 2);
    poll_until(
        "the ring to hold the newest entry",
        Duration::from_secs(20),
        || async {
            let (_, tail) = read_logs(&gw.url, "limit=1&skip=1").await;
            tail.first()
                .is_some_and(|e| e.message == newest)
                .then_some(())
        },
    )
    .await;
    gw
}

struct Page {
    entries: Vec<LogEntry>,
    older: Option<String>,
    history: Option<String>,
}

async fn page(url: &str, query: &str) -> Page {
    let resp = http()
        .get(format!("{url}/api/v1/logs?{query}"))
        .bearer_auth(READ)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{query}");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let (older, history) = (header(OLDER_HEADER), header(HISTORY_HEADER));
    let body = resp.text().await.unwrap();
    Page {
        entries: body
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        older,
        history,
    }
}

/// `got` is `want`, or where they first differ.
fn same(got: &[usize], want: impl Iterator<Item = usize>) {
    let want: Vec<usize> = want.collect();
    if let Some(i) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)) {
        panic!(
            "{} entries where {} were wanted; first difference at {i}: got {:?}, wanted {:?}",
            got.len(),
            want.len(),
            &got[i.saturating_sub(2)..(i + 3).min(got.len())],
            &want[i.saturating_sub(2)..(i + 3).min(want.len())]
        );
    }
}

fn number(e: &LogEntry) -> usize {
    e.message.strip_prefix("entry ").unwrap().parse().unwrap()
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn paging_back_from_the_newest_reaches_the_first_entry_with_none_lost_or_repeated() {
    if !tools() {
        return;
    }
    let dir = journal("pages");
    let gw = start(&dir).await;
    let mut seen: Vec<usize> = Vec::new();
    let mut query = "limit=1000".to_string();
    let mut pages = 0;
    loop {
        let p = page(&gw.url, &query).await;
        pages += 1;
        let mut numbers: Vec<usize> = p.entries.iter().map(number).collect();
        assert!(numbers.is_sorted(), "a page is oldest first");
        numbers.extend(seen);
        seen = numbers;
        match p.older {
            Some(token) => query = format!("limit=1000&before={}", encode(&token)),
            None => {
                assert_eq!(p.history.as_deref(), Some("start"));
                break;
            }
        }
        assert!(pages < 40, "paging does not end");
    }
    same(&seen, 0..ENTRIES);

    // A unit's entries alone, paged back the same way.
    let (mut db, mut query) = (Vec::new(), "unit=db.service&limit=700".to_string());
    loop {
        let p = page(&gw.url, &query).await;
        let mut numbers: Vec<usize> = p.entries.iter().map(number).collect();
        numbers.extend(db);
        db = numbers;
        let Some(token) = p.older else { break };
        query = format!("unit=db.service&limit=700&before={}", encode(&token));
    }
    same(&db, (0..ENTRIES).step_by(4));
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn since_and_until_read_a_range_the_ring_never_held() {
    if !tools() {
        return;
    }
    let dir = journal("range");
    let gw = start(&dir).await;
    // One hour, an hour in: entries 4000 to 7999 (0.9 s apart).
    let ms = |i: u64| (FIRST_US + i * STEP_US) / 1000;
    let (since, until) = (ms(4000), ms(8000));
    let p = page(&gw.url, &format!("since={since}&until={until}&limit=10000")).await;
    same(
        &p.entries.iter().map(number).collect::<Vec<_>>(),
        4000..8000,
    );
    // In pages: on from the last cursor, the range's end holding.
    let mut got = Vec::new();
    let mut query = format!("since={since}&until={until}&limit=1500");
    loop {
        let p = page(&gw.url, &query).await;
        got.extend(p.entries.iter().map(number));
        let Some(last) = p.entries.last() else { break };
        query = format!("cursor={}&until={until}&limit=1500", encode(&last.cursor));
    }
    same(&got, 4000..8000);
    // Back from the range's end to its start, by RFC 3339 times.
    let rfc = |ms: u64| {
        jiff::Timestamp::from_millisecond(ms as i64)
            .unwrap()
            .to_string()
    };
    let mut back = Vec::new();
    let mut query = format!(
        "since={}&until={}&limit=900&before=",
        encode(&rfc(since)),
        encode(&rfc(until))
    );
    loop {
        let p = page(&gw.url, &query).await;
        let mut numbers: Vec<usize> = p.entries.iter().map(number).collect();
        numbers.extend(back);
        back = numbers;
        match p.older {
            Some(t) => query = format!("since={since}&limit=900&before={}", encode(&t)),
            None => {
                assert_eq!(p.history.as_deref(), Some("since"));
                break;
            }
        }
    }
    same(&back, 4000..8000);
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// The demo makes its past on demand: paging back from its newest line
/// goes from the gateway's buffer into the lines before the demo began,
/// made by its generator, in order, none repeated; the same range read
/// twice is the same lines.
#[tokio::test]
async fn the_demo_makes_its_history_before_it_began() {
    let mut config = demo_config("127.0.0.1:0".parse().unwrap());
    config.store_limits.log_bytes = 60_000;
    let source = day2top::collect::demo::DemoSource::new(day2top::collect::demo::DemoConfig {
        log_rate: 50,
        nodes: 3,
        tasks: 12,
        ..Default::default()
    });
    let gw = gateway::start(config, Box::new(source)).await.unwrap();
    poll_until("demo lines", Duration::from_secs(10), || async {
        let (_, tail) = read_logs(&gw.url, "limit=5&skip=0").await;
        (tail.len() == 5).then_some(())
    })
    .await;
    let mut query = "limit=400".to_string();
    let (mut seen, mut made, mut oldest) = (std::collections::HashSet::new(), 0, i64::MAX);
    for _ in 0..6 {
        let p = page(&gw.url, &query).await;
        assert_eq!(p.entries.len(), 400, "{query}");
        for e in p.entries.iter().rev() {
            assert!(seen.insert(e.cursor.clone()), "repeated: {}", e.cursor);
            assert!(e.ts <= oldest, "older pages are older");
            oldest = e.ts;
            made += usize::from(e.cursor.contains(":h"));
        }
        query = format!(
            "limit=400&before={}",
            encode(&p.older.expect("more history"))
        );
    }
    assert!(made > 1000, "most of it made before the demo began: {made}");
    // A minute an hour before the demo began, twice: the same lines.
    let at = oldest - 3_600_000;
    let range = format!("since={at}&until={}&limit=10000", at + 60_000);
    let (a, b) = (page(&gw.url, &range).await, page(&gw.url, &range).await);
    assert!(a.entries.len() >= 50 * 60, "{}", a.entries.len());
    assert!(a.entries.iter().all(|e| e.ts >= at && e.ts < at + 60_000));
    assert_eq!(
        a.entries
            .iter()
            .map(|e| (&e.cursor, &e.message))
            .collect::<Vec<_>>(),
        b.entries
            .iter()
            .map(|e| (&e.cursor, &e.message))
            .collect::<Vec<_>>()
    );
    gw.shutdown().await;
}
