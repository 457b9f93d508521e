#!/usr/bin/env bash
# Scale figures: the real release binary at cluster sizes, driven through
# tmux as an operator would, measured from /proc and the gateway's socket.
# Prints a table a size, beside issue 12's goals.
#
#   benches/scale.sh [NODESxTASKS ...]      (default: 1000x10000 5000x50000)
#   CONSOLES=20 benches/scale.sh 1000x10000 (consoles for the fan-out figures)
#
# Key → screen is timed from `tmux send-keys` until the pane shows the
# change (polled with capture-pane, so a few ms of tmux are included).
# Needs tmux and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=$PWD/target/release/day2top
ticks=$(getconf CLK_TCK)
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000x10000 5000x50000)
consoles=${CONSOLES:-20}
work=$(mktemp -d)
trap 'tmux -L scale kill-server 2>/dev/null || true; pkill -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
t() { tmux -L scale "$@"; }

# shellcheck source=benches/tmux.sh
source "$PWD/benches/tmux.sh"
# Payload bytes a second the gateway's stream frames carry (its own
# counter at /metrics), on port $1 over $2 seconds.
wire_over() {
    local port=$1 secs=$2 a b
    sent() {
        curl -s -H "Authorization: Bearer $(cat "$work/state/day2top/gateway.token")" \
            "http://127.0.0.1:$port/metrics" |
            awk '$1 == "day2top_gateway_stream_bytes_sent_total" {printf "%.0f\n", $2}'
    }
    a=$(sent)
    sleep "$secs"
    b=$(sent)
    echo $(((b - a) / secs))
}

for size in "${sizes[@]}"; do
    nodes=${size%x*}
    tasks=${size#*x}
    demo=(--demo --demo-nodes "$nodes" --demo-tasks "$tasks")
    echo "== $nodes nodes, $tasks tasks"

    # First frame with data, the console with its embedded demo gateway.
    t new-session -d -s first -x 200 -y 60 "$bin ${demo[*]}"
    first=$(wait_line first 1 "live.*$nodes nodes")
    t kill-session -t first

    # A gateway of its own, and one console on it.
    port=$((20000 + RANDOM % 20000))
    XDG_STATE_HOME=$work/state "$bin" gateway --listen "127.0.0.1:$port" "${demo[@]}" \
        --statsd off --otlp off --max-streams-per-token $((consoles + 4)) >"$work/gw.log" 2>&1 &
    gw=$!
    for _ in $(seq 1 600); do grep -q "connect with" "$work/gw.log" && break; sleep 0.1; done
    console="$bin --gateway http://127.0.0.1:$port --token-file $work/state/day2top/gateway.token"
    t new-session -d -s c0 -x 200 -y 60 "$console"
    wait_line c0 1 "live.*$nodes nodes" >/dev/null
    sleep 5
    c0=$(pane_pid c0)

    cpu_cluster=$(cpu_over "$c0" 10)
    wire1=$(wire_over "$port" 10)
    gw_cpu1=$(cpu_over "$gw" 10)

    # Keys: :tasks and back, page down, sort, typing a filter.
    mapfile -t tasks_ms < <(tasks_and_back c0 25)
    t send-keys -t c0 ':tasks' Enter
    wait_line c0 2 "tasks" >/dev/null
    sleep 1
    cpu_tasks=$(cpu_over "$c0" 10)
    page_ms=$(for _ in $(seq 1 50); do key_ms c0 PageDown; done | percentiles)
    sort_ms=$(for _ in $(seq 1 50); do key_ms c0 '>'; done | percentiles)
    t send-keys -t c0 '/'
    sleep 0.2
    filter_ms=$(for c in c a s s a n d r a - n o d e - 1 c a s s a n d r a - n o d e - 2 x y z w v u t s r q p o n m l k j i h g; do
        key_ms c0 "$c"
    done | percentiles)
    # One key at a time: Escape and ':' sent together read as Alt-:.
    for k in Enter Escape Escape; do t send-keys -t c0 "$k"; sleep 0.2; done
    t send-keys -t c0 ':logs' Enter
    sleep 2
    cpu_logs=$(cpu_over "$c0" 10)
    rss_console=$(rss_mb "$c0")
    rss_gw=$(rss_mb "$gw")

    # The fan-out: more consoles on the same gateway.
    for i in $(seq 1 $((consoles - 1))); do
        t new-session -d -s "c$i" -x 100 -y 30 "$console"
    done
    sleep 15
    gw_cpun=$(cpu_over "$gw" 10)
    wiren=$(wire_over "$port" 10)
    rss_gwn=$(rss_mb "$gw")
    figures=$(curl -s -H "Authorization: Bearer $(cat "$work/state/day2top/gateway.token")" \
        "http://127.0.0.1:$port/metrics")
    figure() { echo "$figures" | awk -v n="day2top_gateway_$1" '$1 == n {printf "%.0f", $2}'; }
    live=0
    for i in $(seq 0 $((consoles - 1))); do
        screen "c$i" | head -1 | grep -q "live" && live=$((live + 1))
    done
    t kill-server
    kill "$gw" 2>/dev/null || true
    wait "$gw" 2>/dev/null || true

    printf '%-52s %-18s %s\n' figure measured goal
    printf '%-52s %-18s %s\n' "key → screen p50 / p99 (ms): :tasks and back" "$(printf '%s\n' "${tasks_ms[@]}" | percentiles)" "≤ 30 / ≤ 50"
    printf '%-52s %-18s %s\n' "  page down" "$page_ms" "≤ 30 / ≤ 50"
    printf '%-52s %-18s %s\n' "  sort by the next column" "$sort_ms" "≤ 30 / ≤ 50"
    printf '%-52s %-18s %s\n' "  typing a filter" "$filter_ms" "≤ 30 / ≤ 50"
    printf '%-52s %-18s %s\n' "console CPU % idle: cluster / tasks / logs" "$cpu_cluster / $cpu_tasks / $cpu_logs" "≤ 5"
    printf '%-52s %-18s %s\n' "gateway CPU %: 1 console / $consoles consoles" "$gw_cpu1 / $gw_cpun" "≤ 10 / ≤ 25"
    printf '%-52s %-18s %s\n' "RSS MB: console / gateway (1 console, $consoles)" "$rss_console / $rss_gw, $rss_gwn" "≤ 60 / ≤ 150"
    printf '%-52s %-18s %s\n' "first frame with data after launch (ms)" "$first" "≤ 300"
    printf '%-52s %-18s %s\n' "wire KiB/s per console, idle cluster view" "$((wire1 / 1024)) ($((wiren / consoles / 1024)) with $consoles)" "report"
    printf '%-52s %-18s %s\n' "consoles still live with $consoles attached" "$live of $consoles" "all"
    printf '%-52s %-18s %s\n' "events caught up / dropped, consoles cut off" "$(figure events_coalesced_total) / $(figure events_dropped_total), $(figure slow_clients_disconnected_total)" "report"
done
