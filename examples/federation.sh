#!/usr/bin/env bash
# A coordinator and three hospitals as separate processes on one machine,
# ending with the audit. Run from the repository root:
#   bash examples/federation.sh                      # logistic regression, breast cancer
#   bash examples/federation.sh configs/digits-mlp   # 64-16-10 MLP, handwritten digits
#   bash examples/federation.sh configs/breast-cancer-mlp
#   bash examples/federation.sh configs/breast-cancer-regression   # linear regression, standardized target
# A config directory holds coordinator.toml and hospital-{a,b,c}.toml; their
# files go to run/ (top-level configs) or run/NAME (configs/NAME).
set -euo pipefail
CFG=${1:-configs}
RUN=run${CFG#configs}
ROUNDS=$(sed -n 's/^rounds *= *\([0-9]*\).*/\1/p' "$CFG/coordinator.toml")
cargo build --release -p candor-coordinator -p candor-participant
C=target/release/candor-coordinator
P=target/release/candor-participant
rm -rf "$RUN" && mkdir -p "$RUN"
$C keygen --config "$CFG/coordinator.toml"
for h in a b c; do
    $P keygen --config "$CFG/hospital-$h.toml"
    $P commit --config "$CFG/hospital-$h.toml"
done
$C run --config "$CFG/coordinator.toml" > "$RUN/coordinator.log" 2>&1 &
coord=$!
# hospitals start once the coordinator listens (it may first derive or load
# its parameters); a coordinator that stops instead is reported with its log
for _ in $(seq 600); do
    grep -q "listening" "$RUN/coordinator.log" && break
    if ! kill -0 $coord 2>/dev/null; then
        echo "the coordinator stopped before listening:" >&2
        cat "$RUN/coordinator.log" >&2
        exit 1
    fi
    sleep 0.5
done
grep -q "listening" "$RUN/coordinator.log" || { echo "the coordinator is not listening after 300 s" >&2; kill $coord; exit 1; }
pids=()
for h in a b c; do
    $P run --config "$CFG/hospital-$h.toml" --until-round "$ROUNDS" > "$RUN/hospital-$h.log" 2>&1 &
    pids+=($!)
done
wait "${pids[@]}"
wait $coord
grep -h "round closed" "$RUN/coordinator.log" | sed 's/.*round closed/round closed/'
$C audit --config "$CFG/coordinator.toml"
