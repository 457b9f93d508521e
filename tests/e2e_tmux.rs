//! The real binary in a real terminal (tmux): start it, drive it with keys,
//! read the screen, quit, and check the terminal was given back.
//!
//! Needs tmux. Without it these tests say so and pass, unless
//! DAY2TOP_REQUIRE_TMUX=1 (as in CI), where a missing tmux fails them.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

/// tmux on the server of socket `name`.
fn tmux(name: &str) -> Command {
    let mut command = Command::new("tmux");
    command.args(["-L", name]);
    command
}

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
        Session::start_with(test, "", args, width, height)
    }

    /// The same with extra environment (`NAME=value …`).
    fn start_with(test: &str, env: &str, args: &str, width: u16, height: u16) -> Session {
        let home = std::env::temp_dir().join(format!("day2top-{test}-{}", std::process::id()));
        Session::start_in(home, test, env, args, width, height)
    }

    /// The same, in the given home directory (config in `config/day2top`,
    /// state in `state/day2top`); it is removed with the session.
    fn start_in(
        home: std::path::PathBuf,
        test: &str,
        env: &str,
        args: &str,
        width: u16,
        height: u16,
    ) -> Session {
        let name = format!("day2top-{test}-{}", std::process::id());
        std::fs::create_dir_all(&home).unwrap();
        let command = format!(
            "env HOME={home} XDG_CONFIG_HOME={home}/config XDG_STATE_HOME={home}/state {env} {bin} {args}; echo EXITED=$?; sleep 60",
            home = home.display(),
            bin = env!("CARGO_BIN_EXE_day2top"),
        );
        let status = tmux(&name)
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

    /// tmux, on this session's own server: tests in parallel on one
    /// server race its exit when another's last session ends.
    fn tmux(&self) -> Command {
        tmux(&self.name)
    }

    fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.tmux()
                .args(["send-keys", "-t", &self.name, key])
                .status()
                .unwrap();
        }
    }

    fn text(&self, text: &str) {
        self.tmux()
            .args(["send-keys", "-t", &self.name, "-l", text])
            .status()
            .unwrap();
    }

    fn display(&self, format: &str) -> String {
        let out = self
            .tmux()
            .args(["display", "-p", "-t", &self.name, format])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits for the cluster view. How many tasks it counts depends on how
    /// long a test took (the demo replaces finished batch tasks).
    fn wait_cluster_view(&self) -> String {
        self.wait_for("the cluster view", |screen| {
            screen.lines().nth(1).is_some_and(|l| l.trim() == "cluster")
                && screen.contains("Tasks ")
        })
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
        // The server's socket outlives it: asked where it is first.
        let socket = self
            .tmux()
            .args(["display", "-p", "#{socket_path}"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        let _ = self.tmux().arg("kill-server").status();
        if let Ok(socket) = socket.as_deref()
            && !socket.is_empty()
        {
            let _ = std::fs::remove_file(socket);
        }
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

#[test]
fn demo_tasks_filter_open_quit() {
    if !have_tmux() {
        return;
    }
    tasks_filter_open_quit("demo", "--demo --seed 7", 10, (120, 40));
}

/// The same at the size the README promises: 1,000 nodes, 10,000 tasks.
#[test]
fn a_cluster_of_ten_thousand_tasks_filters_and_opens_a_task() {
    if !have_tmux() {
        return;
    }
    tasks_filter_open_quit(
        "scale",
        "--demo --seed 7 --demo-nodes 1000 --demo-tasks 10000",
        1000,
        (200, 60),
    );
}

/// An OOM kill played into the demo 5 s in: `W` ranks it first, Enter
/// opens its evidence, Esc comes back to it.
#[test]
fn what_changed_puts_the_oom_kill_first() {
    if !have_tmux() {
        return;
    }
    let s = Session::start(
        "triage",
        "--demo --seed 7 --scenario oom --scenario-at 5",
        160,
        45,
    );
    s.wait_text("● live");
    s.keys(&["W"]);
    s.wait_text("cluster › what changed · 15m");
    let screen = s.wait_for("the OOM kill ranked first", |s| {
        s.lines().any(|l| {
            l.starts_with("│  1 ") && l.contains("payments-api") && l.contains("OOM-killed on")
        })
    });
    assert!(screen.contains("evidence"), "{screen}");
    s.keys(&["Enter"]);
    s.wait_for("its evidence", |s| {
        s.contains("cluster › what changed · 15m › task payments-api")
            || s.contains("cluster › what changed · 15m › logs of task")
    });
    s.keys(&["Escape"]);
    s.wait_for("back on the finding", |s| {
        s.lines()
            .any(|l| l.starts_with("│  1 ") && l.contains("OOM-killed on"))
    });
    s.quit_and_check_restored();
}

/// Opens `:tasks`, filters them for cassandra, opens one, comes back and
/// quits.
fn tasks_filter_open_quit(test: &str, args: &str, nodes: usize, (width, height): (u16, u16)) {
    let s = Session::start(test, args, width, height);
    let nodes = format!("Nodes {nodes}");
    // The tasks come in a snapshot of their own, after the nodes (in
    // parts, at 10,000): wait for them as an operator would.
    s.wait_for("the live cluster view with its tasks", |s| {
        s.contains("● live") && s.contains(&nodes) && !s.contains(" 0 tasks")
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

#[test]
fn hangup_and_terminate_end_it_cleanly() {
    if !have_tmux() {
        return;
    }
    for (signal, seed) in [("HUP", "101"), ("TERM", "102")] {
        let s = Session::start(
            &format!("sig{signal}"),
            &format!("--demo --seed {seed}"),
            100,
            30,
        );
        s.wait_text("● live");
        // The pane's shell runs `env … day2top …`, and env execs day2top.
        let pane = s.display("#{pane_pid}");
        let out = Command::new("pgrep").args(["-P", &pane]).output().unwrap();
        let pids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(String::from)
            .collect();
        let day2top = pids
            .iter()
            .find(|p| {
                std::fs::read_link(format!("/proc/{p}/exe")).is_ok_and(|e| e.ends_with("day2top"))
            })
            .unwrap_or_else(|| panic!("no day2top among {pids:?}"));
        Command::new("kill")
            .args([&format!("-{signal}"), day2top])
            .status()
            .unwrap();
        s.wait_text("EXITED=0");
        assert_eq!(
            s.display("#{alternate_on}"),
            "0",
            "SIG{signal} left the alternate screen on"
        );
    }
}

/// `day2top gateway` with a generated token, a console connected to it by
/// a context in the config file, and `:ctx` switching between gateways.
#[test]
fn standalone_gateway_context_and_ctx_switch() {
    if !have_tmux() {
        return;
    }
    use std::io::{BufRead, BufReader};
    let home = std::env::temp_dir().join(format!("day2top-ctx-{}", std::process::id()));
    let state = home.join("state");
    let config = home.join("config/day2top");
    std::fs::create_dir_all(&config).unwrap();
    let mut gateway = Command::new(env!("CARGO_BIN_EXE_day2top"))
        .args([
            "gateway",
            "--listen",
            "127.0.0.1:0",
            "--demo",
            "--demo-nodes",
            "4",
            "--demo-tasks",
            "12",
            // Not the default ports: another test's gateway may hold them.
            "--statsd",
            "off",
            "--otlp",
            "off",
        ])
        .env("XDG_STATE_HOME", &state)
        .env("HOME", &home)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(gateway.stderr.take().unwrap()).lines();
    let mut url = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split("serving ").nth(1) {
            url = Some(rest.trim().to_string());
        }
        if line.contains("connect with") {
            break;
        }
    }
    // Keep reading its log, or its writes to a closed pipe would fail.
    std::thread::spawn(move || lines.for_each(drop));
    let url = url.expect("the gateway says where it serves");
    let token = state.join("day2top/gateway.token");
    assert!(
        token.exists(),
        "the generated token is written for the console"
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&token).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the token file is private");
    std::fs::write(
        config.join("config.toml"),
        format!(
            "default_context = \"remote\"\n\
             [context.remote]\nurl = \"{url}\"\ntoken_file = \"{t}\"\n\
             [context.backup]\nurl = \"{url}\"\ntoken_file = \"{t}\"\n",
            t = token.display()
        ),
    )
    .unwrap();

    // The console starts on the config's default context: the remote demo.
    let s = Session::start_in(home, "ctx", "", "", 120, 30);
    s.wait_for("the remote demo", |screen| {
        screen.contains("remote") && screen.contains("demo (demo)") && screen.contains("4 nodes")
    });
    s.text(":ctx");
    s.keys(&["Enter"]);
    s.wait_text("context remote; others: backup, remote");
    s.text(":ctx b");
    s.keys(&["Tab", "Enter"]);
    s.wait_for("the switch to backup", |screen| {
        screen.contains("│ backup │") && screen.contains("4 nodes")
    });
    gateway.kill().unwrap();
    let _ = gateway.wait();
    s.wait_text("Lost the gateway");
    s.quit_and_check_restored();
}

#[test]
fn no_color_means_no_colour() {
    if !have_tmux() {
        return;
    }
    let s = Session::start("nocolor", "--demo", 100, 30);
    s.wait_text("● live");
    let plain = s
        .tmux()
        .args(["capture-pane", "-p", "-e", "-t", &s.name])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&plain.stdout).contains("\x1b[3"),
        "the default theme has colour"
    );
    s.quit_and_check_restored();
    drop(s);

    let s = Session::start_with("nocolor2", "NO_COLOR=1", "--demo", 100, 30);
    s.wait_text("● live");
    let out = s
        .tmux()
        .args(["capture-pane", "-p", "-e", "-t", &s.name])
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    for sgr in screen.split("\x1b[").skip(1) {
        let params = sgr.split('m').next().unwrap_or("");
        for p in params.split(';') {
            let colour = matches!(p.len(), 2 if p.starts_with(['3', '4', '9']) && p != "39" && p != "49")
                || (p.len() == 3 && p.starts_with("10"));
            assert!(
                !colour,
                "NO_COLOR, yet a colour: ESC[{params}m in\n{screen}"
            );
        }
    }
    s.quit_and_check_restored();
}

#[test]
fn logs_of_a_task_follow_search_and_back() {
    if !have_tmux() {
        return;
    }
    let s = Session::start("logs", "--demo --seed 5 --demo-log-rate 200", 120, 30);
    s.wait_text("● live");
    s.text(":tasks");
    s.keys(&["Enter"]);
    s.text("/payments");
    s.keys(&["Enter"]);
    s.wait_text("</payments>");
    s.keys(&["l"]);
    s.wait_text("logs of payments-api");
    let screen = s.wait_for("the task's lines", |screen| {
        screen.contains("following") && screen.contains("charge")
    });
    let lines: Vec<&str> = screen
        .lines()
        .filter(|l| l.starts_with('│') && l.contains('{'))
        .collect();
    assert!(
        !lines.is_empty() && lines.iter().all(|l| l.contains("payments-api")),
        "{screen}"
    );
    s.keys(&["/"]);
    s.text("charge");
    s.keys(&["Enter"]);
    s.wait_text("/charge/");
    s.wait_text("paused");
    s.keys(&["f"]);
    s.wait_text("following");
    s.keys(&["Escape"]);
    s.wait_text("following"); // Esc first clears the search
    s.keys(&["Escape"]);
    s.wait_text("Tasks(all)");
    s.quit_and_check_restored();
}

/// Log history back to the source: the console's log view over a journal
/// of 20,000 entries (made with the real systemd-journal-remote) holds the
/// newest 1,000; scrolling up past them reads the pages before from the
/// gateway, which reads them back from journald, until the first entry
/// and the marker that says nothing is older. `:goto` to a time the
/// buffer does not hold reads back to it.
#[test]
fn scrolling_back_reads_the_journal_to_its_first_entry() {
    if !have_tmux() || !common::journal::tools() {
        return;
    }
    let dir = common::journal::make("e2e", 20_000);
    let args = format!("--journal-dir {}", dir.display());
    let s = Session::start("history", &args, 120, 30);
    s.wait_text("● live");
    s.text(":logs");
    s.keys(&["Enter"]);
    s.wait_text("entry 19999");
    // 14:00 into the journal's five hours: read back to, paused there.
    s.text(":goto 2023-11-14T22:23:20Z");
    s.keys(&["Enter"]);
    let screen = s.wait_text("entry 667 ");
    assert!(screen.contains("paused"), "{screen}");
    // On up, a page at a time, to the first entry.
    for _ in 0..40 {
        if s.screen().contains("the beginning of these logs") {
            break;
        }
        s.keys(&["g"]);
        std::thread::sleep(Duration::from_millis(300));
    }
    let screen = s.wait_text("the beginning of these logs: nothing older");
    let first = screen
        .lines()
        .skip_while(|l| !l.contains("the beginning of these logs"))
        .nth(1)
        .unwrap_or_default();
    assert!(first.contains("entry 0 "), "{screen}");
    s.quit_and_check_restored();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn dashboard_health_and_ascii_in_a_real_terminal() {
    if !have_tmux() {
        return;
    }
    let home = std::env::temp_dir().join(format!("day2top-e2e-checks-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let checks = home.join("checks.toml");
    std::fs::write(
        &checks,
        "[[check]]\nname = \"nothing listens\"\ntcp = \"127.0.0.1:9\"\ninterval = \"500ms\"\nfailures = 1\n",
    )
    .unwrap();
    let s = Session::start(
        "dash",
        &format!("--demo --ascii --checks {}", checks.display()),
        120,
        36,
    );
    s.wait_text("* live");
    s.wait_text("1 failing of");
    s.keys(&["H"]);
    let screen = s.wait_text("nothing listens");
    assert!(
        screen.contains("failing") && screen.contains("cannot connect"),
        "{screen}"
    );
    assert!(
        !screen.contains('│'),
        "--ascii draws no box glyphs:\n{screen}"
    );
    s.keys(&["d"]);
    s.wait_text("CPU by node");
    s.wait_for("sparklines with values", |screen| {
        screen.contains("agent-001") && screen.contains('%')
    });
    s.keys(&["w"]);
    s.wait_text("Cluster . 5m");
    s.keys(&["Enter"]);
    s.wait_text("node.cpu.percent . 10 series");
    s.keys(&["Escape", "Escape"]);
    s.wait_cluster_view();
    s.quit_and_check_restored();
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn traces_list_waterfall_and_span_detail_in_a_real_terminal() {
    if !have_tmux() {
        return;
    }
    let s = Session::start("traces", "--demo --demo-trace-rate 5", 140, 40);
    s.wait_text("● live");
    s.keys(&["T"]);
    s.wait_text("HTTP GET /checkout");
    s.keys(&["Enter"]);
    let screen = s.wait_text("cassandra SELECT customers");
    assert!(
        screen.contains("spans ·") && screen.contains("route HTTP GET /route"),
        "{screen}"
    );
    s.keys(&["j", "j", "j", "Enter"]);
    s.wait_text("Waiting for lock behind");
    s.keys(&["Escape", "Escape"]);
    s.wait_cluster_view();
    s.quit_and_check_restored();
}

#[test]
fn exec_pane_shell_in_a_demo_task() {
    if !have_tmux() {
        return;
    }
    let s = Session::start("exec-pane", "--demo", 120, 35);
    s.wait_text("60 tasks");
    s.keys(&["t"]);
    s.wait_text("NAME");
    // A cassandra node: a stateful task that stays running.
    s.text("/cassandra-node-0");
    s.keys(&["Enter", "Enter"]);
    s.wait_text("Task cassandra-node-0");
    s.keys(&["s"]);
    s.wait_for("a shell prompt", |screen| {
        screen.contains("shell in prod_cassandra") && screen.contains("running")
    });
    s.text("echo hello");
    s.keys(&["Enter"]);
    s.wait_for("hello on a line of its own", |screen| {
        screen
            .lines()
            .any(|l| l.trim_start_matches('│').trim_end_matches(['│', ' ']) == "hello")
    });
    // The terminal's size reached the process.
    s.text("stty size");
    s.keys(&["Enter"]);
    s.wait_text("30 118");
    // The chord gives the console back; the session keeps running.
    s.keys(&["C-]"]);
    s.wait_text("Task cassandra-node-0");
    s.text(":sessions");
    s.keys(&["Enter"]);
    s.wait_for("the session listed as running", |screen| {
        screen.contains("sessions (1)") && screen.contains("running")
    });
    s.keys(&["Enter"]);
    s.text("exit 4");
    s.keys(&["Enter"]);
    s.wait_text("exited 4");
    s.keys(&["Escape"]);
    s.wait_text("sessions (1)");
    s.quit_and_check_restored();
}

/// A process for exec to go beside: `sleep` in a directory of its own,
/// with a variable set.
fn exec_target(dir: &std::path::Path) -> std::process::Child {
    std::fs::create_dir_all(dir).unwrap();
    Command::new("sleep")
        .arg("120")
        .current_dir(dir)
        .env("DAY2TOP_E2E_MARK", "beside-the-task")
        .spawn()
        .unwrap()
}

#[test]
fn exec_command_passes_the_exit_code_and_runs_beside_the_task() {
    if !have_tmux() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("day2top-exec-cwd-{}", std::process::id()));
    let mut target = exec_target(&dir);
    // Through a gateway for this host started by the command itself.
    let s = Session::start(
        "exec-cli",
        &format!(
            "exec {} -- sh -c 'pwd; echo $DAY2TOP_E2E_MARK; exit 3'",
            target.id()
        ),
        100,
        20,
    );
    let screen = s.wait_text("EXITED=3");
    assert!(screen.contains(&dir.display().to_string()), "{screen}");
    assert!(screen.contains("beside-the-task"), "{screen}");
    drop(s);

    // With -it: a raw terminal, keys to the process, its exit code back.
    let s = Session::start(
        "exec-cli-tty",
        &format!("exec -it {} -- sh", target.id()),
        100,
        20,
    );
    s.wait_for("a prompt", |screen| {
        screen.contains('#') || screen.contains('$')
    });
    s.text("stty size");
    s.keys(&["Enter"]);
    s.wait_text("20 100");
    // The window changes size: the process sees it.
    s.tmux()
        .args(["resize-window", "-t", &s.name, "-x", "90", "-y", "25"])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    s.text("stty size; exit 7");
    s.keys(&["Enter"]);
    let screen = s.wait_text("EXITED=7");
    assert!(screen.contains("25 90"), "{screen}");
    let _ = target.kill();
    let _ = target.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
