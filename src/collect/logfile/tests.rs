//! The file tailer's tests: appends, partial lines, rotation, truncation,
//! and cursors that resume only within followed files.

use super::*;
use std::io::Write;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("day2top-tail-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn messages(t: &mut FileTailer) -> Vec<String> {
    let mut out = Vec::new();
    t.poll(&mut out);
    out.into_iter().map(|e| e.message).collect()
}

#[test]
fn follows_appends_and_holds_partial_lines() {
    let d = dir("append");
    let log = d.join("app.log");
    append(&log, "one\ntwo\nthr");
    let mut t = FileTailer::new(
        vec![format!("{}/*.log", d.display())],
        "n".into(),
        FileRegistry::default(),
    );
    assert_eq!(messages(&mut t), ["one", "two"]);
    append(&log, "ee\nfour\n");
    assert_eq!(messages(&mut t), ["three", "four"]);
    assert!(messages(&mut t).is_empty());
}

#[test]
fn rotation_by_rename_finishes_the_old_file_first() {
    let d = dir("rotate");
    let log = d.join("app.log");
    append(&log, "a\n");
    let mut t = FileTailer::new(
        vec![log.display().to_string()],
        "n".into(),
        FileRegistry::default(),
    );
    assert_eq!(messages(&mut t), ["a"]);
    append(&log, "b\nunfinished");
    std::fs::rename(&log, d.join("app.log.1")).unwrap();
    append(&log, "c\n");
    assert_eq!(messages(&mut t), ["b", "unfinished", "c"]);
}

#[test]
fn copytruncate_starts_over() {
    let d = dir("truncate");
    let log = d.join("app.log");
    append(&log, "a\nb\n");
    let mut t = FileTailer::new(
        vec![log.display().to_string()],
        "n".into(),
        FileRegistry::default(),
    );
    assert_eq!(messages(&mut t), ["a", "b"]);
    std::fs::write(&log, "").unwrap();
    append(&log, "c\n");
    let got = messages(&mut t);
    assert_eq!(got.len(), 2);
    assert!(got[0].contains("file truncated"));
    assert_eq!(got[1], "c");
}

#[test]
fn deleted_and_recreated_and_new_files() {
    let d = dir("recreate");
    let log = d.join("app.log");
    append(&log, "a\n");
    let mut t = FileTailer::new(
        vec![format!("{}/*.log", d.display())],
        "n".into(),
        FileRegistry::default(),
    );
    assert_eq!(messages(&mut t), ["a"]);
    std::fs::remove_file(&log).unwrap();
    assert!(messages(&mut t).is_empty());
    append(&log, "again\n");
    append(&d.join("later.log"), "new file\n");
    let mut got = messages(&mut t);
    got.sort();
    assert_eq!(
        got,
        ["again", "new file"],
        "files that appear later are read from the start"
    );
}

fn after(registry: &FileRegistry, cursor: &str) -> Result<Vec<String>, String> {
    registry
        .entries_after(cursor, "n", 10)
        .expect("a file cursor")
        .map(|entries| entries.into_iter().map(|e| e.message).collect())
}

#[test]
fn cursors_resume_in_followed_files_even_after_rotation() {
    let d = dir("cursor");
    let log = d.join("app.log");
    append(&log, "a\nb\nc\n");
    let registry = FileRegistry::default();
    let mut t = FileTailer::new(
        vec![log.display().to_string()],
        "n".into(),
        registry.clone(),
    );
    let mut out = Vec::new();
    t.poll(&mut out);
    let after_a = out[0].cursor.clone();
    assert!(
        !after_a.contains("app.log"),
        "a cursor names no path: {after_a}"
    );
    assert_eq!(after(&registry, &after_a).unwrap(), ["b", "c"]);
    assert!(after(&registry, &out[2].cursor).unwrap().is_empty());
    // Rotated away and replaced: the old file is still read, through
    // the descriptor the tailer kept, not by its (new) name.
    std::fs::rename(&log, d.join("app.log.1")).unwrap();
    append(&log, "other\n");
    t.poll(&mut Vec::new());
    assert_eq!(after(&registry, &after_a).unwrap(), ["b", "c"]);
}

#[test]
fn cursors_never_open_a_path_a_client_names() {
    let d = dir("forged");
    let log = d.join("app.log");
    append(&log, "a\n");
    let registry = FileRegistry::default();
    let mut t = FileTailer::new(
        vec![log.display().to_string()],
        "n".into(),
        registry.clone(),
    );
    t.poll(&mut Vec::new());
    let secret = d.join("secret");
    std::fs::write(&secret, "the admin token\n").unwrap();
    let m = std::fs::metadata(&secret).unwrap();
    // The old cursor format carried a path; a forged one named any file.
    for forged in [
        format!("f:{}:{}:0:{}", m.dev(), m.ino(), secret.display()),
        format!("f:{}:{}:0", m.dev(), m.ino()),
        "f:1:2".to_string(),
        "f:".to_string(),
        "f:-1:x:0".to_string(),
        // Other spellings of a real cursor: only the one written counts.
        format!("f:+{}:{}:0", m.dev(), m.ino()),
        format!("f:0{}:{}:0", m.dev(), m.ino()),
    ] {
        assert!(after(&registry, &forged).is_err(), "{forged} is refused");
    }
    assert!(
        registry.entries_after("j:abc", "n", 10).is_none(),
        "not a file cursor"
    );
}

#[test]
fn a_fifo_in_place_of_a_log_file_is_not_opened() {
    let d = dir("fifo");
    let fifo = d.join("app.log");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        0,
    )
    .unwrap();
    // A glob that names it, and the open that a race could reach.
    let mut t = FileTailer::new(
        vec![fifo.display().to_string()],
        "n".into(),
        FileRegistry::default(),
    );
    assert!(messages(&mut t).is_empty());
    assert!(
        FileTailer::open(&fifo, false).is_none(),
        "opened without blocking, and refused"
    );
}

#[test]
fn only_the_last_rotated_files_are_kept() {
    let d = dir("retired");
    let log = d.join("app.log");
    let registry = FileRegistry::default();
    let mut t = FileTailer::new(
        vec![log.display().to_string()],
        "n".into(),
        registry.clone(),
    );
    let mut first = None;
    for i in 0..RETIRED_FILES + 2 {
        append(&log, &format!("{i}\n"));
        let mut out = Vec::new();
        t.poll(&mut out);
        first.get_or_insert(out[0].cursor.clone());
        std::fs::rename(&log, d.join(format!("app.log.{i}"))).unwrap();
    }
    t.poll(&mut Vec::new());
    assert!(registry.lock().retired.len() <= RETIRED_FILES);
    assert!(
        after(&registry, first.as_ref().unwrap()).is_err(),
        "the oldest was let go"
    );
}

#[test]
fn a_busy_file_is_read_again_at_once() {
    let d = dir("busy");
    let mut t = FileTailer::new(
        vec![format!("{}/*.log", d.display())],
        "n".into(),
        FileRegistry::default(),
    );
    assert!(!t.poll(&mut Vec::new()));
    let line = "y".repeat(1023) + "\n";
    append(&d.join("fast.log"), &line.repeat(9 * 1024)); // 9 MiB, appeared later
    let (mut first, mut second) = (Vec::new(), Vec::new());
    assert!(
        t.poll(&mut first),
        "one pass reads 8 MiB and says more waits"
    );
    assert!(!t.poll(&mut second));
    assert_eq!(first.len() + second.len(), 9 * 1024);
}

#[test]
fn starts_near_the_end_of_a_big_file() {
    let d = dir("backfill");
    let log = d.join("big.log");
    let line = "x".repeat(99) + "\n";
    append(&log, &line.repeat(30_000)); // 3 MB
    let mut t = FileTailer::new(
        vec![log.display().to_string()],
        "n".into(),
        FileRegistry::default(),
    );
    let mut out = Vec::new();
    t.poll(&mut out);
    assert!(
        out.len() <= (BACKFILL / 100) as usize + 1 && out.len() > 10_000,
        "{}",
        out.len()
    );
    assert!(
        out.iter().all(|e| e.message.len() == 99),
        "whole lines only"
    );
}
