//! The real binary in a real terminal (tmux): start it, drive it with keys,
//! read the screen, quit, and check the terminal was given back.
//!
//! Needs tmux. Without it these tests say so and pass, unless
//! DAY2TOP_REQUIRE_TMUX=1 (as in CI), where a missing tmux fails them.

use std::process::Command;
use std::time::{Duration, Instant};

fn have_tmux() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("DAY2TOP_REQUIRE_TMUX").is_none(),
            "DAY2TOP_REQUIRE_TMUX is set but tmux is not installed"
        );
        eprintln!("skipped: tmux is not installed");
    }
    found
}

struct Session {
    name: String,
    home: std::path::PathBuf,
}

impl Session {
    /// Runs `args` in a fresh tmux session of the given size, with a home
    /// directory of its own so no user config leaks in.
    fn start(test: &str, args: &str, width: u16, height: u16) -> Session {
        let name = format!("day2top-{test}-{}", std::process::id());
        let home = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&home).unwrap();
        let command = format!(
            "env HOME={home} XDG_CONFIG_HOME={home}/config XDG_STATE_HOME={home}/state {bin} {args}; echo EXITED=$?; sleep 60",
            home = home.display(),
            bin = env!("CARGO_BIN_EXE_day2top"),
        );
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                &command,
            ])
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        Session { name, home }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            Command::new("tmux")
                .args(["send-keys", "-t", &self.name, key])
                .status()
                .unwrap();
        }
    }

    fn text(&self, text: &str) {
        Command::new("tmux")
            .args(["send-keys", "-t", &self.name, "-l", text])
            .status()
            .unwrap();
    }

    fn display(&self, format: &str) -> String {
        let out = Command::new("tmux")
            .args(["display", "-p", "-t", &self.name, format])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits up to 20 s for the screen to satisfy `ok`.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited in vain for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_text(&self, needle: &str) -> String {
        self.wait_for(needle, |s| s.contains(needle))
    }

    /// Quits with `q` and checks the terminal came back as it was.
    fn quit_and_check_restored(&self) {
        self.keys(&["q"]);
        self.wait_text("EXITED=0");
        assert_eq!(
            self.display("#{alternate_on}"),
            "0",
            "still in the alternate screen"
        );
        assert_eq!(
            self.display("#{cursor_flag}"),
            "1",
            "the cursor is still hidden"
        );
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

#[test]
fn demo_tasks_filter_open_quit() {
    if !have_tmux() {
        return;
    }
    let s = Session::start("demo", "--demo --seed 7", 120, 40);
    s.wait_for("the live cluster view", |s| {
        s.contains("● live") && s.contains("Nodes 10")
    });
    assert_eq!(
        s.display("#{alternate_on}"),
        "1",
        "the console uses the alternate screen"
    );

    s.text(":tasks");
    s.keys(&["Enter"]);
    s.wait_text("cluster › tasks");

    s.text("/cassandra");
    s.keys(&["Enter"]);
    let screen = s.wait_text("</cassandra>");
    let rows: Vec<&str> = screen
        .lines()
        .filter(|l| l.starts_with('│') && !l.contains("NAME"))
        .collect();
    let shown: Vec<&str> = rows
        .iter()
        .copied()
        .filter(|l| !l.trim_matches(['│', ' ']).is_empty())
        .collect();
    assert!(!shown.is_empty(), "{screen}");
    assert!(
        shown.iter().all(|l| l.contains("cassandra")),
        "the filter let others through:\n{screen}"
    );

    s.keys(&["Enter"]);
    s.wait_text("Task cassandra-node-");
    s.wait_text("state changes, newest first");

    s.keys(&["Escape"]);
    s.wait_text("</cassandra>");
    s.keys(&["Escape"]);
    s.wait_for("the filter cleared", |s| {
        !s.contains("</cassandra>") && s.contains("Tasks(all)")
    });
    s.quit_and_check_restored();
}

#[test]
fn local_host_with_the_embedded_gateway() {
    if !have_tmux() {
        return;
    }
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    let s = Session::start("local", "", 100, 30);
    s.wait_for("this machine as a node", |screen| {
        screen.contains("● live") && screen.contains(&hostname[..hostname.len().min(16)])
    });
    s.keys(&["t"]);
    s.wait_text("Tasks(all)");
    // This very test runs as a process, so the console lists the test binary.
    s.text("/day2top");
    s.keys(&["Enter"]);
    s.wait_text("</day2top>");
    s.quit_and_check_restored();
}

#[test]
fn a_dead_gateway_is_explained_and_quitting_still_works() {
    if !have_tmux() {
        return;
    }
    let token = std::env::temp_dir().join(format!("day2top-dead-token-{}", std::process::id()));
    std::fs::write(&token, "0123456789abcdef0123").unwrap();
    let s = Session::start(
        "dead",
        &format!(
            "--gateway http://127.0.0.1:9 --token-file {}",
            token.display()
        ),
        100,
        20,
    );
    let screen = s.wait_text("cannot reach the gateway at http://127.0.0.1:9");
    assert!(screen.contains("Lost the gateway"), "{screen}");
    s.wait_text("retry");
    s.quit_and_check_restored();
    let _ = std::fs::remove_file(token);
}

#[test]
fn a_tiny_terminal_draws_and_quits() {
    if !have_tmux() {
        return;
    }
    let s = Session::start("tiny", "--demo", 10, 3);
    s.wait_text("day2top");
    s.keys(&["?", "Escape", "t", "j", "Enter"]);
    std::thread::sleep(Duration::from_millis(300));
    s.quit_and_check_restored();
}
