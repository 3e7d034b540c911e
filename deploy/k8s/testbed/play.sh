#!/usr/bin/env bash
# Plays the testbed on this machine with `podman kube play`: a coordinator
# and the three bundled hospitals, two proven rounds, with two faults:
#   - a hospital's pod deleted while it proves round 2, then played again on
#     its volume (it resumes from its checkpoint and submits);
#   - the coordinator's pod deleted right after it accepted an update of
#     round 2, before the round closed, then played again on its volume (it
#     re-verifies what it stored and closes the round once).
# Then `audit`, run in the coordinator's image against its volume, must find
# 2 rounds and 6 proofs (3 hospitals x 2 rounds: none lost, none twice) and
# no problem.
#   CONTAINER="podman ..." TAG=ci BIN_DIR=target/debug deploy/k8s/testbed/play.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
TAG=${TAG:-latest}
BIN_DIR=${BIN_DIR:-target/release}
P=${CONTAINER:-podman}
PATIENCE=${PATIENCE:-600}
work=$(mktemp -d)
out="$work/testbed"
python3 deploy/k8s/testbed/testbed.py "$out" --local --bin-dir "$BIN_DIR" --tag "$TAG" --rounds 2 --port "${PORT:-7411}" \
    --study configs/study-breast-cancer.toml examples/data/hospital-a.csv examples/data/hospital-b.csv examples/data/hospital-c.csv
daemons=(candor-coordinator candor-hospital-a candor-hospital-b candor-hospital-c)
# the testbed's pods and volumes, left over from an interrupted play too
remove_daemons() {
    for d in "${daemons[@]}"; do
        $P pod rm -f "$d-pod-0" >/dev/null 2>&1 || true
        $P volume rm -f "$d-state" >/dev/null 2>&1 || true
    done
}
trap 'remove_daemons; rm -rf "$work"' EXIT
remove_daemons
$P kube play "$out/testbed.yaml" >/dev/null
logs() { $P logs "$1-pod-0-${2}" 2>&1; }
# waits until the JSON log of daemon $1 (container $2) has a line with all of $3...
wait_log() {
    local d=$1 c=$2; shift 2
    local t=0
    until logs "$d" "$c" | grep -F "$1" | grep -qF "${2:-}"; do
        sleep 0.2
        t=$((t + 1))
        if [ $t -gt $((PATIENCE * 5)) ]; then
            echo "timed out waiting for $d: $*" >&2
            logs "$d" "$c" | tail -20 >&2
            exit 1
        fi
    done
}
replay() { $P pod rm -f "$1-pod-0" >/dev/null; $P kube play "$out/pods/$1.yaml" >/dev/null; }
health() { $P exec "candor-coordinator-pod-0-coordinator" candor-coordinator health --config /etc/candor/coordinator.toml 2>/dev/null || true; }

wait_log candor-coordinator coordinator '"message":"round closed"' '"round":1'
echo "round 1 closed"
wait_log candor-hospital-b participant '"message":"training and proving"' '"round":2'
sleep 3
replay candor-hospital-b
echo "hospital-b's pod deleted while proving round 2, and played again"
wait_log candor-coordinator coordinator '"message":"update accepted"' '"round":2'
replay candor-coordinator
echo "the coordinator's pod deleted after an acceptance in round 2, and played again"
t=0
until health | grep -q "2 of 2 rounds done\|^healthy: 2 rounds done"; do
    sleep 1
    t=$((t + 1))
    [ $t -lt "$PATIENCE" ] || { echo "round 2 did not close" >&2; logs candor-coordinator coordinator | tail -20 >&2; exit 1; }
done
echo "round 2 closed: $(health)"
logs candor-hospital-b participant | grep -F '"message":"proof compressed"' | tail -1
report=$($P run --rm --read-only --network none --no-healthcheck ${RUN_FLAGS:-} \
    -v candor-coordinator-state:/var/lib/candor \
    -v "$out/coordinator/etc:/etc/candor:ro" -v "$out/coordinator/secrets:/etc/candor-secrets:ro" \
    "candor-coordinator:$TAG" audit --config /etc/candor/coordinator.toml 2>/dev/null)
echo "$report"
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert (r["rounds"], r["proofs"], r["problems"]) == (2, 6, []), r' "$report"
echo "testbed ok: two proven rounds through two pod deletions; audit passed, 6 proofs for 3 hospitals x 2 rounds"
