#!/usr/bin/env bash
# Fleet figures: real agent processes (demo gateways, 50 tasks each) on
# loopback addresses 127.0.X.Y, one hub over them, one console on the hub
# driven through tmux as an operator would. Prints a table a fleet size,
# beside issue 14's goals, and how the hub grows with the fleet.
#
#   benches/fleet.sh [AGENTS ...]      (default: 10 50 200)
#   HUB_REFRESH_MS=250 benches/fleet.sh 200   (how often the hub reads its agents)
#
# Key → screen is timed from `tmux send-keys` until the pane shows the
# change (polled with capture-pane: a few ms of tmux are included). A log
# line's time is from its write on an agent's host to the console's screen.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=$PWD/target/release/day2top
ticks=$(getconf CLK_TCK)
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 50 200)
nodes_each=${NODES_EACH:-5}
tasks_each=${TASKS_EACH:-50}
work=$(mktemp -d)
trap 'tmux -L fleet kill-server 2>/dev/null || true; pkill -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
t() { tmux -L fleet "$@"; }
# Each agent watches its log folder with one inotify instance, and every
# process of a user shares fs.inotify.max_user_instances (128 by default).
# Real hosts have a limit each; this one host stands for all of them, so
# the limit is raised for the run (as root) and put back after.
limit=/proc/sys/fs/inotify/max_user_instances
was=$(cat "$limit")
max_size=$(printf '%s\n' "${sizes[@]}" | sort -n | tail -1)
if [ "$was" -lt $((max_size + 64)) ]; then
    if echo $((max_size + 64)) >"$limit" 2>/dev/null; then
        trap 'echo "$was" >"$limit"; tmux -L fleet kill-server 2>/dev/null || true; pkill -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
    else
        echo "note: fs.inotify.max_user_instances is $was: agents past it read their files on a 250 ms timed pass" >&2
    fi
fi

# shellcheck source=benches/tmux.sh
source "$PWD/benches/tmux.sh"
address() { echo "127.0.$((1 + $1 / 250)).$((2 + $1 % 250))"; }

secret=fleet-bench-hub-token-0123456789
printf '[[token]]\nname = "hub"\nsecret = "%s"\nscopes = ["admin"]\n' "$secret" >"$work/agent-tokens.toml"
echo "$secret" >"$work/hub.token"
printf '[[token]]\nname = "operator"\nsecret = "%s"\nscopes = ["admin"]\n' "$secret" >"$work/hub-tokens.toml"
growth=()
for agents in "${sizes[@]}"; do
    echo "== $agents agents, $nodes_each nodes and $tasks_each tasks each"
    : >"$work/agents.toml"
    pids=()
    for i in $(seq 0 $((agents - 1))); do
        addr=$(address "$i")
        # A folder a host, as on real hosts: a write wakes its own agent only.
        mkdir -p "$work/a$i"
        : >"$work/a$i/app.log"
        "$bin" gateway --demo --seed "$i" --demo-nodes "$nodes_each" --demo-tasks "$tasks_each" \
            --demo-log-rate 0 --listen "$addr:7070" --statsd off --otlp off \
            --token-file "$work/agent-tokens.toml" --log-file "$work/a$i/app.log" \
            >"$work/a$i.out" 2>&1 &
        pids+=($!)
        printf '[[agent]]\nname = "a%d"\nurl = "http://%s:7070"\ntoken_file = "hub.token"\n' "$i" "$addr" >>"$work/agents.toml"
    done
    for i in $(seq 0 $((agents - 1))); do
        for _ in $(seq 1 300); do grep -q "serving" "$work/a$i.out" && break; sleep 0.1; done
    done
    sleep 2
    agents_cpu=0
    for p in "${pids[@]::10}"; do agents_cpu=$(awk -v a="$agents_cpu" -v b="$(cpu_over "$p" 1)" 'BEGIN {print a + b}'); done

    port=$((20000 + RANDOM % 20000))
    started=$(now_ms)
    XDG_STATE_HOME=$work/state "$bin" gateway --agents "$work/agents.toml" --listen "127.0.0.1:$port" \
        --token-file "$work/hub-tokens.toml" --refresh-ms "${HUB_REFRESH_MS:-1000}" >"$work/hub.log" 2>&1 &
    hub=$!
    want=$((agents * nodes_each))
    whole=60000
    for _ in $(seq 1 6000); do
        # Refused until the hub listens: no answer yet, not a failure.
        n=$(curl -s -H "Authorization: Bearer $secret" "http://127.0.0.1:$port/api/v1/cluster" |
            sed -n 's/.*"nodes":\([0-9]*\).*"tasks":\([0-9]*\).*/\1 \2/p' || true)
        if [ "${n% *}" = "$want" ] && [ "${n#* }" -ge $((agents * tasks_each)) ]; then
            whole=$(($(now_ms) - started))
            break
        fi
        sleep 0.02
    done
    sleep 5
    hub_idle=$(cpu_over "$hub" 10)
    hub_rss=$(rss_mb "$hub")

    t new-session -d -s c0 -x 200 -y 60 "$bin --gateway http://127.0.0.1:$port --token-file $work/hub.token"
    wait_line c0 1 "live.*$want nodes" >/dev/null
    sleep 3
    c0=$(pane_pid c0)
    mapfile -t tasks_ms < <(tasks_and_back c0 20)
    t send-keys -t c0 ':tasks' Enter
    wait_line c0 2 "tasks" >/dev/null
    t send-keys -t c0 '/'
    sleep 0.2
    filter_ms=$(for c in k a f k a - b r o k e r - 1 x y z; do key_ms c0 "$c"; done | percentiles)
    # One key at a time: Escape and ':' sent together read as Alt-:.
    for k in Escape Escape Escape; do t send-keys -t c0 "$k"; sleep 0.2; done
    t send-keys -t c0 ':logs' Enter
    sleep 3
    hub_logs=$(cpu_over "$hub" 5)
    # A line on a random agent's host, timed to the console's screen.
    log_ms=$(for k in $(seq 1 100); do
        i=$((RANDOM % agents))
        mark="mark-$k-$RANDOM"
        start=$(now_ms)
        echo "$mark" >>"$work/a$i/app.log"
        wait_screen c0 "$mark" 10 >/dev/null
        echo $(($(now_ms) - start))
        sleep 0.2
    done | percentiles)
    console_cpu=$(cpu_over "$c0" 5)
    console_rss=$(rss_mb "$c0")
    t kill-server
    kill "$hub" "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true

    printf '%-52s %-18s %s\n' figure measured goal
    printf '%-52s %-18s %s\n' "key → screen p50 / p99 (ms): :tasks and back" "$(printf '%s\n' "${tasks_ms[@]}" | percentiles)" "p99 ≤ 100"
    printf '%-52s %-18s %s\n' "  typing a filter" "$filter_ms" "p99 ≤ 100"
    printf '%-52s %-18s %s\n' "a log line, agent's file → console (ms)" "$log_ms" "p99 ≤ 250"
    printf '%-52s %-18s %s\n' "hub CPU % idle / following all logs" "$hub_idle / $hub_logs" "≤ 25 idle"
    printf '%-52s %-18s %s\n' "hub RSS MB" "$hub_rss" "≤ 300"
    printf '%-52s %-18s %s\n' "the whole fleet shown after the hub starts (ms)" "$whole" "report"
    printf '%-52s %-18s %s\n' "console CPU % / RSS MB on the logs view" "$console_cpu / $console_rss" "report"
    printf '%-52s %-18s %s\n' "CPU % of the first 10 agents together" "$agents_cpu" "report"
    growth+=("$(printf '%-8s %-14s %-10s %s' "$agents" "$hub_idle" "$hub_rss" "$whole")")
done
echo "== the hub as the fleet grows"
printf '%-8s %-14s %-10s %s\n' agents "CPU % idle" "RSS MB" "all shown (ms)"
printf '%s\n' "${growth[@]}"
