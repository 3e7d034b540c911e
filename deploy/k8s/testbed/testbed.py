#!/usr/bin/env python3
"""A researcher's testbed: a coordinator and N hospitals as Kubernetes
objects, provisioned from a study and one data file per hospital.

    deploy/k8s/testbed/testbed.py OUT --study configs/study-breast-cancer.toml \
        examples/data/hospital-a.csv examples/data/hospital-b.csv examples/data/hospital-c.csv

Provisioning runs the daemons' own commands (with --bin-dir binaries):
the coordinator's keygen, then each hospital's keygen and commit (its
commitment proof and registration). Then it writes OUT/testbed.yaml:

* default: for a cluster. Per hospital a ConfigMap (config, study, the
  coordinator's PeerId, its data file), a Secret (key, commit secret), a
  StatefulSet with a state PVC and a NetworkPolicy allowing egress to the
  coordinator's pods and DNS alone; the coordinator's ConfigMap (config,
  study, every registration and commitment proof), Secret (key, status
  token), StatefulSet and Services. Hospitals dial it by its Service name.
  `kubectl apply -n NAMESPACE -f OUT/testbed.yaml`.
* --local: for `podman kube play` on one machine (podman 4.3 plays Pods,
  Deployments and PVCs, and panics on Secret volumes): Deployments on the
  host's network, config and secrets from OUT by hostPath, state in
  PVCs (podman volumes). Throwaway keys; not for real data.

Documents are JSON, which is YAML. Only the standard library is used.
"""

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

UID = 10001
LABELS = {"app.kubernetes.io/part-of": "candor", "candor/testbed": "true"}


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out.stdout


def b64(path):
    return base64.b64encode(Path(path).read_bytes()).decode()


def security(read_only=True):
    return {
        "readOnlyRootFilesystem": read_only,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }


def pod_security():
    return {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "fsGroup": UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def probes(binary, config):
    health = [binary, "health", "--config", config]
    return {
        "startupProbe": {"exec": {"command": health}, "periodSeconds": 10, "failureThreshold": 60},
        "livenessProbe": {
            "exec": {"command": health + ["--max-age-secs", "60"]},
            "periodSeconds": 30,
            "timeoutSeconds": 10,
            "failureThreshold": 4,
        },
    }


# where each daemon's volumes go: state is written, the rest only read
MOUNTS = {"state": "/var/lib/candor", "config": "/etc/candor", "secrets": "/etc/candor-secrets", "data": "/data"}


def daemon(name, image, config, volumes, extra_args=()):
    """A daemon's container: `run --config CONFIG`, JSON logs (as log
    collectors read them), read-only but for its state, probed by `health`."""
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["--json-logs", "run", "--config", config, *extra_args],
        "securityContext": security(),
        "resources": {"requests": {"cpu": "1", "memory": "512Mi"}, "limits": {"memory": "4Gi"}},
        "volumeMounts": [{"name": "state", "mountPath": MOUNTS["state"]}]
        + [{"name": v, "mountPath": MOUNTS[v], "readOnly": True} for v in volumes],
        **probes(image.split(":")[0], config),
    }


def workload(name, local, container, volumes, state_claim, extra_labels, annotations=None):
    """A StatefulSet (cluster) or a Deployment on the host's network (local)."""
    labels = {"app.kubernetes.io/name": name, **LABELS, **extra_labels}
    pod = {
        "terminationGracePeriodSeconds": 60,
        "automountServiceAccountToken": False,
        "securityContext": pod_security(),
        "containers": [container],
        "volumes": volumes,
    }
    template = {"metadata": {"labels": labels}, "spec": pod}
    if annotations:
        template["metadata"]["annotations"] = annotations
    spec = {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}, "template": template}
    if local:
        pod["hostNetwork"] = True
        # the host's ports are the pod's; podman refuses mappings on them
        container.pop("ports", None)
        pod["volumes"] = volumes + [{"name": "state", "persistentVolumeClaim": {"claimName": state_claim}}]
        spec["strategy"] = {"type": "Recreate"}
        return [
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": state_claim, "labels": LABELS},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            },
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels}, "spec": spec},
        ]
    spec["serviceName"] = name
    spec["volumeClaimTemplates"] = [
        {
            "metadata": {"name": "state"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        }
    ]
    return [{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "labels": labels}, "spec": spec}]


def files_volume(name, local, host_dir, config_map=None, secret=None):
    if local:
        return {"name": name, "hostPath": {"path": str(host_dir), "type": "Directory"}}
    if secret:
        return {"name": name, "secret": {"secretName": secret, "defaultMode": 0o440}}
    return {"name": name, "configMap": {"name": config_map}}


def config_map(name, files):
    data, binary = {}, {}
    for key, path in files.items():
        raw = Path(path).read_bytes()
        try:
            data[key] = raw.decode()
        except UnicodeDecodeError:
            binary[key] = base64.b64encode(raw).decode()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": LABELS}, "data": data}
    if binary:
        cm["binaryData"] = binary
    return cm


def secret(name, files):
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "labels": LABELS},
        "type": "Opaque",
        "data": {key: b64(path) for key, path in files.items()},
    }


def toml_paths(text, **paths):
    return text + "".join(f'{k} = "{v}"\n' for k, v in paths.items())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("data", type=Path, nargs="+", help="one data file per hospital")
    ap.add_argument("--study", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--round-secs", type=int, default=900)
    ap.add_argument("--local", action="store_true", help="for podman kube play on this machine")
    ap.add_argument("--port", type=int, default=7400, help="the coordinator's libp2p port")
    ap.add_argument("--bin-dir", type=Path, default=Path("target/release"))
    ap.add_argument("--tag", default="latest", help="image tag")
    ap.add_argument("--cache", type=Path, help="parameter cache for provisioning")
    a = ap.parse_args()

    out = a.out.resolve()
    if out.exists():
        sys.exit(f"{out} exists: give a new directory")
    names = [re.sub(r"[^a-z0-9-]", "-", p.stem.lower()).strip("-") for p in a.data]
    if len(set(names)) != len(names):
        sys.exit("each hospital's data file needs a distinct name")
    coord_bin = str((a.bin_dir / "candor-coordinator").resolve())
    part_bin = str((a.bin_dir / "candor-participant").resolve())
    cache = ["--cache", str((a.cache or out / "cache").resolve())]
    study = a.study.read_text()

    cdir = out / "coordinator"
    for d in ("etc", "secrets"):
        (cdir / d).mkdir(parents=True)
    (cdir / "etc" / "study.toml").write_text(study)
    (cdir / "secrets" / "status-token").write_text(secrets.token_hex(32))
    (cdir / "secrets" / "status-token").chmod(0o600)
    addr = f"/ip4/127.0.0.1/tcp/{a.port}" if a.local else f"/dns4/candor-coordinator/tcp/{a.port}"
    hospitals = []
    for name, data in zip(names, a.data):
        hdir = out / name
        for d in ("etc", "secrets", "data", "provision"):
            (hdir / d).mkdir(parents=True)
        shutil.copy(data, hdir / "data" / data.name)
        (hdir / "etc" / "study.toml").write_text(study)
        hospitals.append((name, hdir, data.name))
    registrations = ", ".join(f'"{n}.registration.toml"' for n, _, _ in hospitals)
    coordinator_toml = (
        f'study = "study.toml"\nlisten = "/ip4/{"127.0.0.1" if a.local else "0.0.0.0"}/tcp/{a.port}"\n'
        f'key = "/etc/candor-secrets/coordinator.key"\ndb = "/var/lib/candor/coordinator.db"\n'
        f'export_dir = "/var/lib/candor/models"\nrounds = {a.rounds}\nquorum = {len(hospitals)}\n'
        f"round_secs = {a.round_secs}\npoll_timeout_secs = 30\nmax_verifying = 2\n"
        + ("" if a.local else 'status_listen = "0.0.0.0:9400"\nstatus_token_file = "/etc/candor-secrets/status-token"\n')
        + f'registrations = [{registrations}]\n[strategy]\nname = "fed_avg"\n'
    )
    (cdir / "etc" / "coordinator.toml").write_text(coordinator_toml)

    # each hospital's key, commitment proof and registration (`commit`
    # needs no coordinator)
    for name, hdir, data_name in hospitals:
        common = (
            f'study = "study.toml"\nname = "{name}"\ncoordinator_addr = "{addr}"\ncoordinator_peer_id_file = "coordinator.peer"\n'
            # a restarted pod resumes its proof from at most 2 folds back
            "checkpoint_every = 2\n"
        )
        (hdir / "etc" / "hospital.toml").write_text(toml_paths(
            common,
            data=f"/data/{data_name}",
            key="/etc/candor-secrets/hospital.key",
            secret="/etc/candor-secrets/hospital.secret",
            state="/var/lib/candor/hospital.state",
            registration="registration.toml",
        ))
        p = hdir / "etc" / "provision.toml"
        p.write_text(toml_paths(
            common,
            data=str(hdir / "data" / data_name),
            key=str(hdir / "secrets" / "hospital.key"),
            secret=str(hdir / "secrets" / "hospital.secret"),
            state=str(hdir / "provision" / "hospital.state"),
            registration=str(hdir / "provision" / "registration.toml"),
        ))
        run([part_bin, *cache, "keygen", "--config", str(p)])
        run([part_bin, *cache, "commit", "--config", str(p)])
        p.unlink()
        reg = (hdir / "provision" / "registration.toml").read_text()
        reg = re.sub(r'^proof = ".*"$', f'proof = "{name}.registration.proof"', reg, flags=re.M)
        (cdir / "etc" / f"{name}.registration.toml").write_text(reg)
        shutil.copy(hdir / "provision" / "registration.proof", cdir / "etc" / f"{name}.registration.proof")
        # the daemon checks its data against what it registered
        shutil.copy(hdir / "provision" / "registration.toml", hdir / "etc" / "registration.toml")
        shutil.copy(hdir / "provision" / "registration.proof", hdir / "etc" / "registration.proof")
        shutil.rmtree(hdir / "provision")

    # the coordinator's key, with every registration in its config; every
    # hospital pins its PeerId
    prov = cdir / "etc" / "provision.toml"
    prov.write_text(coordinator_toml.replace("/etc/candor-secrets/", str(cdir / "secrets") + "/"))
    peer = run([coord_bin, *cache, "keygen", "--config", str(prov)]).split()[-1]
    prov.unlink()
    (cdir / "secrets" / "coordinator.peer").unlink(missing_ok=True)
    for _, hdir, _ in hospitals:
        (hdir / "etc" / "coordinator.peer").write_text(peer + "\n")

    docs = []
    # each workload's documents also go to OUT/pods/NAME.yaml, so that one
    # daemon can be deleted and played again on its own (the fault tests)
    workloads = {}
    # the coordinator
    c_files = {f.name: f for f in sorted((cdir / "etc").iterdir())}
    c_volumes = [
        files_volume("config", a.local, cdir / "etc", config_map="candor-coordinator-config"),
        files_volume("secrets", a.local, cdir / "secrets", secret="candor-coordinator-secrets"),
    ]
    container = daemon(
        "coordinator", f"candor-coordinator:{a.tag}", "/etc/candor/coordinator.toml", ["config", "secrets"], ["--keep-running"]
    )
    container["ports"] = [{"name": "libp2p", "containerPort": a.port, "protocol": "TCP"}] + (
        [] if a.local else [{"name": "status", "containerPort": 9400, "protocol": "TCP"}]
    )
    if not a.local:
        docs.append(config_map("candor-coordinator-config", c_files))
        docs.append(secret("candor-coordinator-secrets", {k: cdir / "secrets" / k for k in ("coordinator.key", "status-token")}))
        docs.append({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "candor-coordinator", "labels": LABELS},
            "spec": {"selector": {"app.kubernetes.io/name": "candor-coordinator"},
                     "ports": [{"name": "libp2p", "port": a.port, "targetPort": "libp2p", "protocol": "TCP"}]},
        })
        docs.append({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "candor-coordinator-status", "labels": LABELS,
                         "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9400"}},
            "spec": {"selector": {"app.kubernetes.io/name": "candor-coordinator"},
                     "ports": [{"name": "status", "port": 9400, "targetPort": "status", "protocol": "TCP"}]},
        })
    annotations = None if a.local else {"prometheus.io/scrape": "true", "prometheus.io/port": "9400", "prometheus.io/path": "/metrics"}
    workloads["candor-coordinator"] = workload("candor-coordinator", a.local, container, c_volumes, "candor-coordinator-state", {}, annotations)
    docs += workloads["candor-coordinator"]

    for name, hdir, data_name in hospitals:
        app = f"candor-{name}"
        volumes = [
            files_volume("config", a.local, hdir / "etc", config_map=f"{app}-config"),
            files_volume("secrets", a.local, hdir / "secrets", secret=f"{app}-secrets"),
            files_volume("data", a.local, hdir / "data", config_map=f"{app}-data"),
        ]
        container = daemon("participant", f"candor-participant:{a.tag}", "/etc/candor/hospital.toml", ["config", "secrets", "data"])
        if not a.local:
            docs.append(config_map(f"{app}-config", {f.name: f for f in sorted((hdir / "etc").iterdir())}))
            # a data set larger than a ConfigMap (1 MiB) goes on a volume
            docs.append(config_map(f"{app}-data", {data_name: hdir / "data" / data_name}))
            docs.append(secret(f"{app}-secrets", {k: hdir / "secrets" / k for k in ("hospital.key", "hospital.secret")}))
            docs.append({
                "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": f"{app}-egress", "labels": LABELS},
                "spec": {
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": app}},
                    "policyTypes": ["Ingress", "Egress"],
                    "ingress": [],
                    "egress": [
                        {"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "candor-coordinator"}}}],
                         "ports": [{"port": a.port, "protocol": "TCP"}]},
                        {"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                         "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
                    ],
                },
            })
        workloads[app] = workload(app, a.local, container, volumes, f"{app}-state", {"candor/role": "hospital"})
        docs += workloads[app]

    if a.local:
        # the pods run as UID: their hostPath files must be theirs, keys private
        if os.geteuid() != 0:
            sys.exit(f"--local hands {out} to uid {UID}, the pods' user: run it as root (as podman runs here)")
        for root, dirs, files in os.walk(out):
            for n in dirs + files:
                os.chown(os.path.join(root, n), UID, UID)
        os.chown(out, UID, UID)
    def dump(ds):
        return "".join("---\n" + json.dumps(d, indent=1) + "\n" for d in ds)

    (out / "testbed.yaml").write_text(dump(docs))
    (out / "pods").mkdir()
    for name, ds in workloads.items():
        # without the PVC: a deleted pod comes back on the volume it had
        (out / "pods" / f"{name}.yaml").write_text(dump([d for d in ds if d["kind"] != "PersistentVolumeClaim"]))
    print(f"{out / 'testbed.yaml'}: a coordinator ({peer}) and {len(hospitals)} hospitals")


if __name__ == "__main__":
    main()
