#!/usr/bin/env bash
# A coordinator and three hospitals as separate processes on one machine,
# ending with the audit. Run from the repository root:  bash examples/federation.sh
set -euo pipefail
cargo build --release -p candor-coordinator -p candor-participant
C=target/release/candor-coordinator
P=target/release/candor-participant
rm -rf run && mkdir -p run
$C keygen --config configs/coordinator.toml
for h in a b c; do
    $P keygen --config configs/hospital-$h.toml
    $P commit --config configs/hospital-$h.toml
done
$C run --config configs/coordinator.toml > run/coordinator.log 2>&1 &
coord=$!
sleep 3
pids=()
for h in a b c; do
    $P run --config configs/hospital-$h.toml --until-round 5 > run/hospital-$h.log 2>&1 &
    pids+=($!)
done
wait "${pids[@]}"
wait $coord
grep -h "round closed" run/coordinator.log | sed 's/.*round closed/round closed/'
$C audit --config configs/coordinator.toml
