#!/usr/bin/env bash
# Idle cost: CPU and memory of day2top (with its embedded local gateway)
# beside htop and btop, all at once, each in a 120x40 tmux pane, left
# alone for a while, measured from /proc. Prints a table.
#
#   benches/idle.sh [SECONDS]      (default 30; needs tmux, htop, btop)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
cargo build --release -q
bin=$PWD/target/release/day2top
ticks=$(getconf CLK_TCK)

# All four run at once, each in its own 120x40 pane, measured over the same
# window, so they share whatever else the machine is doing.
names=("day2top (local host, embedded gw)" "day2top --demo (embedded gw)" "htop (default 1.5 s refresh)" "btop (default 2 s refresh)")
commands=("$bin" "$bin --demo" "htop" "btop")
sessions=()
for i in "${!commands[@]}"; do
    session="idle-$$-$i"
    tmux new-session -d -s "$session" -x 120 -y 40 "${commands[$i]}"
    sessions+=("$session")
done
trap 'for s in "${sessions[@]}"; do tmux kill-session -t "$s" 2>/dev/null; done' EXIT
sleep 3 # start-up is not idle
pids=()
for session in "${sessions[@]}"; do
    pid=$(tmux list-panes -t "$session" -F '#{pane_pid}')
    # The pane runs the program directly; follow one exec level if needed.
    if [ "$(ps -o comm= -p "$pid")" = "sh" ]; then pid=$(pgrep -P "$pid" | head -1); fi
    pids+=("$pid")
done
t0=()
for pid in "${pids[@]}"; do t0+=("$(awk '{print $14+$15}' "/proc/$pid/stat")"); done
sleep "$secs"
echo "idle for ${secs}s, all at once, each in a 120x40 tmux pane:"
for i in "${!pids[@]}"; do
    pid=${pids[$i]}
    t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    threads=$(awk '/Threads/ {print $2}' "/proc/$pid/status")
    awk -v n="${names[$i]}" -v d=$((t1 - ${t0[$i]})) -v s="$secs" -v hz="$ticks" -v r="$rss" -v t="$threads" \
        'BEGIN { printf "%-34s CPU %6.2f%%   RSS %6.1f MB   threads %s\n", n, 100 * d / hz / s, r / 1024, t }'
done
