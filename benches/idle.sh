#!/usr/bin/env bash
# Idle cost: CPU and memory of day2top (with its embedded local gateway)
# beside htop and btop, each run the same way: in a 120x40 tmux pane, left
# alone for a while, measured from /proc. Prints a table.
#
#   benches/idle.sh [SECONDS]      (default 30; needs tmux, htop, btop)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
cargo build --release -q
bin=$PWD/target/release/day2top
ticks=$(getconf CLK_TCK)

measure() { # name, command
    local name=$1 cmd=$2 session="idle-$$-$RANDOM"
    tmux new-session -d -s "$session" -x 120 -y 40 "$cmd"
    sleep 3 # start-up is not idle
    local pid
    pid=$(tmux list-panes -t "$session" -F '#{pane_pid}')
    # The pane runs the program directly; follow one exec level if needed.
    if [ "$(ps -o comm= -p "$pid")" = "sh" ]; then pid=$(pgrep -P "$pid" | head -1); fi
    local t0 t1
    t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
    sleep "$secs"
    t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
    local rss threads
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    threads=$(awk '/Threads/ {print $2}' "/proc/$pid/status")
    tmux kill-session -t "$session"
    awk -v n="$name" -v d=$((t1 - t0)) -v s="$secs" -v hz="$ticks" -v r="$rss" -v t="$threads" \
        'BEGIN { printf "%-34s CPU %6.2f%%   RSS %6.1f MB   threads %s\n", n, 100 * d / hz / s, r / 1024, t }'
}

echo "idle for ${secs}s in a 120x40 tmux pane:"
measure "day2top (local host, embedded gw)" "$bin"
measure "day2top --demo (embedded gw)" "$bin --demo"
measure "htop (default 1.5 s refresh)" "htop"
measure "btop (default 2 s refresh)" "btop"
