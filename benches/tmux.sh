# Helpers the tmux-driven benchmarks share (sourced, after the script has
# defined `t`, its tmux command, and `ticks`, the clock ticks a second).

now_ms() { date +%s%3N; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
# The program in a pane (the pane may run it through sh).
pane_pid() {
    local pid
    pid=$(t list-panes -t "$1" -F '#{pane_pid}')
    if [ "$(ps -o comm= -p "$pid")" = "sh" ]; then pid=$(pgrep -P "$pid" | head -1); fi
    echo "$pid"
}
screen() { t capture-pane -p -t "$1"; }
wait_screen() { # until the screen matches $2 (up to $3 s); prints ms taken
    local session=$1 pattern=$2 limit=${3:-60} start
    start=$(now_ms)
    while [ $(($(now_ms) - start)) -lt $((limit * 1000)) ]; do
        # Not grep -q: its early exit fails the pipe (pipefail) as it matches.
        screen "$session" | grep -- "$pattern" >/dev/null && break
        sleep 0.005
    done
    echo $(($(now_ms) - start))
}
# Waits (up to 60 s) until line $2 of the screen matches $3; prints ms taken.
wait_line() {
    local session=$1 line=$2 pattern=$3 start
    start=$(now_ms)
    for _ in $(seq 1 6000); do
        if screen "$session" | sed -n "${line}p" | grep -q -- "$pattern"; then
            echo $(($(now_ms) - start))
            return
        fi
        sleep 0.01
    done
    echo 60000
}
# Sends keys, then waits until the screen differs from before; prints ms.
key_ms() {
    local session=$1 before start
    shift
    before=$(screen "$session")
    start=$(now_ms)
    t send-keys -t "$session" "$@"
    for _ in $(seq 1 3000); do
        [ "$(screen "$session")" != "$before" ] && break
        sleep 0.005
    done
    echo $(($(now_ms) - start))
}
# p50 and p99 of the numbers on stdin.
percentiles() { sort -n | awk '{a[NR]=$1} END {p50=a[int((NR+1)/2)]; i=int(NR*0.99); if (i<1) i=1; printf "%d / %d", p50, a[i]}'; }
# CPU % of a pid over $2 seconds.
cpu_over() {
    local pid=$1 secs=$2 a b
    a=$(cpu_ticks "$pid")
    sleep "$secs"
    b=$(cpu_ticks "$pid")
    awk -v d=$((b - a)) -v s="$secs" -v hz="$ticks" 'BEGIN { printf "%.1f", 100 * d / hz / s }'
}
# `:tasks` Enter and Esc back, $2 times each, in session $1: the ms each
# key took until the screen showed it, one a line.
tasks_and_back() {
    local session=$1 start
    for _ in $(seq 1 "$2"); do
        t send-keys -t "$session" ':tasks'
        sleep 0.05
        start=$(now_ms)
        t send-keys -t "$session" Enter
        wait_line "$session" 2 "tasks" >/dev/null
        echo $(($(now_ms) - start))
        start=$(now_ms)
        t send-keys -t "$session" Escape
        wait_line "$session" 2 "^ cluster *$" >/dev/null
        echo $(($(now_ms) - start))
    done
}
