"""The descriptor of the product under test (as Sonobuoy's bundles carry one): what ran, on what,
with which options. It labels the run's column in the matrix page."""

import dataclasses
import platform
from importlib import metadata

# Options that say where files go, or name an existing cluster's files: not an axis of a run.
NOT_AXES = {"run_root", "report_dir", "ceph_conf", "ceph_keyring", "rgw_endpoint"}
# Versions a target may report in its description (the Rook targets), by axis name.
DESCRIBED = ("rook_version", "kubernetes_version", "ceph_image", "kind_node_image")


def changed_options(options):
    """The run's options that differ from their defaults, as strings: {"nodes": "3"}."""
    out = {}
    for f in dataclasses.fields(options):
        if f.name in NOT_AXES or f.name == "target":
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        value = getattr(options, f.name)
        if value != default:
            out[f.name] = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return out


def selection(config):
    """How pytest was asked to choose and spread the checks (-m, -k, -n)."""
    o = config.option
    out = {}
    if getattr(o, "markexpr", ""):
        out["-m"] = o.markexpr
    if getattr(o, "keyword", ""):
        out["-k"] = o.keyword
    if getattr(o, "numprocesses", None):
        out["-n"] = str(o.numprocesses)
    return out


def _os_name():
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        return ""


def describe(options, cluster, config):
    cluster = cluster or {}
    facts = cluster.get("facts") or {}
    description = cluster.get("description") or {}
    product = {
        "product": "Ceph",
        "target": options.target,
        "ceph_versions": facts.get("ceph_versions", []),
        "options": changed_options(options),
        "selection": selection(config),
        "suite": {"name": "ceph-conformance", "version": _version()},
        "host": {"os": _os_name(), "kernel": platform.release(), "python": platform.python_version()},
    }
    # What the target said it ran; the options only where they are the target's (a Rook target whose
    # bring-up failed early): the local and existing targets run no Rook and no image.
    host_target = options.target in ("local", "ceph")
    for key in DESCRIBED:
        value = description.get(key) or (None if host_target else getattr(options, key, None))
        if value:
            product[key] = value
    return product


def _version():
    try:
        return metadata.version("ceph-conformance")
    except metadata.PackageNotFoundError:
        return "unknown"


def axes(results):
    """The labels of a run's column: [(axis, value)], from its descriptor (older runs: from facts)."""
    product = results.get("product") or {}
    facts = (results.get("cluster") or {}).get("facts") or {}
    out = [("target", product.get("target") or results.get("target", "?"))]
    versions = product.get("ceph_versions") or facts.get("ceph_versions") or []
    out.append(("Ceph", ", ".join(versions) or "?"))
    for key, label in (("rook_version", "Rook"), ("kubernetes_version", "Kubernetes"), ("ceph_image", "Ceph image"),
                       ("kind_node_image", "node image")):
        if product.get(key):
            out.append((label, product[key]))
    for key, value in (product.get("options") or {}).items():
        out.append((f"--{key.replace('_', '-')}", value))
    for key, value in (product.get("selection") or {}).items():
        out.append((key, value))
    return out
