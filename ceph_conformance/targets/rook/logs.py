"""What Rook's tests/scripts/collect-logs.sh gathers, into the run's report folder, secrets masked:
Ceph's own view through the toolbox, and every pod of the Rook and run namespaces (state, logs),
with the namespaces' events."""

from pathlib import Path

import yaml

from ...errors import CommandError
from ...secrets import scrub

CEPH_COMMANDS = (("ceph", "status"), ("ceph", "health", "detail"), ("ceph", "osd", "dump"), ("ceph", "osd", "tree"),
                 ("ceph", "osd", "df"), ("ceph", "fs", "status"), ("ceph", "report"), ("ceph", "versions"))
LOG_LINES = 2000


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scrub(text))


def collect(kube, tools, namespaces, out_dir, progress=print):
    """Write what can be had into out_dir; every failure is a line in errors.txt, never a raise."""
    out = Path(out_dir)
    errors = []
    if tools is not None:
        for argv in CEPH_COMMANDS:
            try:
                result = tools.run(argv[0], argv[1:], timeout=30)
                _write(out / "ceph" / ("-".join(argv[1:]) + ".txt"), result.stdout.decode(errors="replace")
                       + result.stderr.decode(errors="replace"))
            except CommandError as exc:
                errors.append(f"{' '.join(argv)}: {exc}")
    for ns in namespaces:
        try:
            pods = kube.list("v1", "Pod", ns)
            events = kube.list("v1", "Event", ns)
        except Exception as exc:  # noqa: BLE001 - what could not be read is said, the rest is kept
            errors.append(f"namespace {ns}: {exc}")
            continue
        _write(out / ns / "events.txt", "\n".join(
            f"{e.get('lastTimestamp') or e.get('eventTime')} {e.get('type')} {e.get('reason')} "
            f"{e.get('involvedObject', {}).get('kind')}/{e.get('involvedObject', {}).get('name')}: {e.get('message')}"
            for e in events))
        for pod in pods:
            name = pod["metadata"]["name"]
            pod.get("metadata", {}).pop("managedFields", None)
            _write(out / ns / name / "pod.yaml", yaml.safe_dump(pod, sort_keys=False))  # describe
            containers = [c["name"] for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]]
            for container in containers:
                try:
                    text = kube.pod_log(ns, name, container=container, tail_lines=LOG_LINES, timeout=30)
                except Exception as exc:  # noqa: BLE001
                    text = f"(no log: {exc})"
                _write(out / ns / name / f"{container}.log", text)
    if errors:
        _write(out / "errors.txt", "\n".join(errors) + "\n")
    unread = f" ({len(errors)} could not be read)" if errors else ""
    progress(f"rook: logs and Ceph's state written to {out}{unread}")
    return errors
