#!/usr/bin/env bash
# Runs the images as an orchestrator would, each with a read-only root
# filesystem, as the non-root user, with state only in a volume: --help,
# keygen, a hospital's commit of the bundled data (check, commitment proof,
# registration), and health (which must say no daemon runs). Run after
# build.sh with the same CONTAINER and tag:
#   deploy/images/smoke.sh [TAG]
set -euo pipefail
cd "$(dirname "$0")/../.."
TAG=${1:-latest}
CONTAINER=${CONTAINER:-podman}
# extra flags for `run` on this host, e.g. "--ulimit host" where the
# runtime may not raise the file limit
RUN_FLAGS=${RUN_FLAGS:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/etc" "$work/state" "$work/data"
# the state volume belongs to the images' user, as a PVC with fsGroup would
chown 10001:10001 "$work/state" 2>/dev/null || chmod 777 "$work/state"
cp configs/study-breast-cancer.toml "$work/etc/study.toml"
cp examples/data/hospital-a.csv "$work/data/"
cat >"$work/etc/hospital.toml" <<'TOML'
study = "study.toml"
name = "hospital-a"
data = "/data/hospital-a.csv"
key = "/var/lib/candor/hospital.key"
secret = "/var/lib/candor/hospital.secret"
state = "/var/lib/candor/hospital.state"
registration = "/var/lib/candor/hospital.registration.toml"
coordinator_addr = "/dns4/candor-coordinator/tcp/7400"
coordinator_peer_id_file = "/var/lib/candor/coordinator.peer"
TOML
cat >"$work/etc/coordinator.toml" <<'TOML'
study = "study.toml"
listen = "/ip4/0.0.0.0/tcp/7400"
key = "/var/lib/candor/coordinator.key"
db = "/var/lib/candor/coordinator.db"
rounds = 1
quorum = 1
round_secs = 600
registrations = ["/var/lib/candor/hospital.registration.toml"]
[strategy]
name = "fed_avg"
TOML
run() {
    local image=$1; shift
    # (--no-healthcheck: the image's check needs systemd timers under podman;
    # health is run by hand below)
    $CONTAINER run --rm --read-only --network none --no-healthcheck $RUN_FLAGS \
        -v "$work/etc:/etc/candor:ro" -v "$work/data:/data:ro" -v "$work/state:/var/lib/candor" \
        "candor-$image:$TAG" "$@"
}
run coordinator --help | grep "Usage: candor-coordinator" >/dev/null
run participant --help | grep "Usage: candor-participant" >/dev/null
hospital_id=$(run participant keygen --config /etc/candor/hospital.toml | tail -1)
echo "participant keygen: $hospital_id"
run participant commit --config /etc/candor/hospital.toml | tail -3
grep -q "peer_id = \"$hospital_id\"" "$work/state/hospital.registration.toml"
grep -q "^rows = 152" "$work/state/hospital.registration.toml"
[ -s "$work/state/hospital.registration.proof" ] || { echo "no commitment proof" >&2; exit 1; }
# the coordinator's config admits the hospital that just registered
coordinator_id=$(run coordinator keygen --config /etc/candor/coordinator.toml | tail -1)
echo "coordinator keygen: $coordinator_id"
[ "$(cat "$work/state/coordinator.peer")" = "$coordinator_id" ]
# no daemon runs: health says so and fails
if out=$(run participant health --config /etc/candor/hospital.toml 2>&1); then
    echo "health passed with no daemon running: $out" >&2
    exit 1
fi
grep -q "no heartbeat" <<<"$out"
# what the daemons wrote is the non-root user's
[ "$(stat -c %u "$work/state/hospital.registration.toml")" = 10001 ] || { echo "written as $(stat -c %u "$work/state/hospital.registration.toml")" >&2; exit 1; }
echo "images ok: --help, keygen, commit and health ran read-only as uid 10001"
