//! Journals made with the real systemd-journal-remote, for the history
//! tests: `entries` lines of two units, 0.9 s apart from 2023-11-14T22:13:20Z.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const REMOTE: &str = "/lib/systemd/systemd-journal-remote";
/// The first entry's time, in microseconds; entries are 0.9 s apart.
pub const FIRST_US: u64 = 1_700_000_000_000_000;
pub const STEP_US: u64 = 900_000;

/// Whether journalctl and systemd-journal-remote are here; without them a
/// test says "skipped", unless DAY2TOP_REQUIRE_JOURNAL is set (CI).
pub fn tools() -> bool {
    let journalctl = Command::new("journalctl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let found = journalctl && Path::new(REMOTE).exists();
    if !found {
        assert!(
            std::env::var_os("DAY2TOP_REQUIRE_JOURNAL").is_none(),
            "DAY2TOP_REQUIRE_JOURNAL is set but journalctl or {REMOTE} is missing"
        );
        eprintln!("skipped: journalctl and systemd-journal-remote are needed");
    }
    found
}

/// A journal directory of `entries` lines (`entry N`, every fourth of
/// db.service, the rest of web.service), named for the test.
pub fn make(name: &str, entries: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("day2top-journal-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut export = String::new();
    for i in 0..entries {
        let unit = if i % 4 == 0 {
            "db.service"
        } else {
            "web.service"
        };
        export.push_str(&format!(
            "__REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID={:032x}\n\
             _HOSTNAME=hist-host\n_SYSTEMD_UNIT={unit}\nPRIORITY=6\nMESSAGE=entry {i}\n\n",
            FIRST_US + i as u64 * STEP_US,
            i + 1,
            7
        ));
    }
    let input = dir.join("all.export");
    std::fs::write(&input, export).unwrap();
    let out = Command::new(REMOTE)
        .arg("-o")
        .arg(dir.join("remote-hist.journal"))
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(input).unwrap();
    dir
}
