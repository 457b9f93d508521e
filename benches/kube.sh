#!/usr/bin/env bash
# Kubernetes figures: the console on a cluster of PODS pods over NODES
# nodes (default 10,000 and 100), served by the fake API server of the
# tests (tests/kube.rs, serve_the_fake_for_a_look: it keeps CHURN pods a
# second going into and out of CrashLoopBackOff), driven through tmux as an
# operator would. Prints each figure beside issue "Cluster scale"'s goals.
#
#   benches/kube.sh                      PODS=10000 NODES=100 CHURN=20
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
cargo test -q --test kube --no-run 2>/dev/null
bin=$PWD/target/release/day2top
ticks=$(getconf CLK_TCK)
pods=${PODS:-10000}
nodes=${NODES:-100}
work=$(mktemp -d)
trap 'tmux -L kube kill-server 2>/dev/null || true; [ -n "${fake:-}" ] && kill "$fake" 2>/dev/null; rm -rf "$work"' EXIT
t() { tmux -L kube "$@"; }
# shellcheck source=benches/tmux.sh
source "$PWD/benches/tmux.sh"

DAY2TOP_FAKE_KUBE_DIR=$work DAY2TOP_FAKE_KUBE_PODS=$pods DAY2TOP_FAKE_KUBE_NODES=$nodes \
    DAY2TOP_FAKE_KUBE_CHURN=${CHURN:-20} \
    cargo test -q --test kube serve_the_fake_for_a_look -- --ignored --nocapture >"$work/fake.log" 2>&1 &
fake=$!
for _ in $(seq 1 600); do [ -f "$work/kubeconfig" ] && break; sleep 0.1; done
want=$((pods + 11))
# kubectl beside it: the same list, from the same fake.
kubectl_ms=none
if command -v kubectl >/dev/null; then
    start=$(now_ms)
    kubectl --kubeconfig "$work/kubeconfig" get pods -A -o name >/dev/null
    kubectl_ms=$(($(now_ms) - start))
fi
started=$(now_ms)
t new-session -d -s c0 -x 200 -y 60 "$bin --kube --kubeconfig $work/kubeconfig -A"
wait_line c0 1 "$want tasks" >/dev/null
shown=$(($(now_ms) - started))
sleep 3
c0=$(pane_pid c0)
idle=$(cpu_over "$c0" 10)
mapfile -t tasks_ms < <(tasks_and_back c0 20)
t send-keys -t c0 ':tasks' Enter
wait_line c0 2 "tasks" >/dev/null
t send-keys -t c0 '/'
sleep 0.2
filter_ms=$(for c in a p p 1 7 - 5 d 8 f - 0 4 2 x y z; do key_ms c0 "$c"; done | percentiles)
for k in Escape Escape; do t send-keys -t c0 "$k"; sleep 0.2; done
t send-keys -t c0 ':logs namespace team-3' Enter
sleep 2
rss=$(rss_mb "$c0")

printf '%-52s %-18s %s\n' figure measured goal
printf '%-52s %-18s %s\n' "the whole cluster shown after the console starts (ms)" "$shown" "report"
printf '%-52s %-18s %s\n' "  kubectl get pods -A -o name, the same fake (ms)" "$kubectl_ms" "a peer"
printf '%-52s %-18s %s\n' "key → screen p50 / p99 (ms): :tasks and back" "$(printf '%s\n' "${tasks_ms[@]}" | percentiles)" "p99 ≤ 100"
printf '%-52s %-18s %s\n' "  typing a filter" "$filter_ms" "p99 ≤ 100"
printf '%-52s %-18s %s\n' "console (with its gateway) CPU % idle, ${CHURN:-20} pods/s changing" "$idle" "report"
printf '%-52s %-18s %s\n' "console (with its gateway) RSS MB" "$rss" "report"
