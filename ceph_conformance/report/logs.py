"""The cluster's logs, copied into the run's report before teardown removes them: the end of each
file (a daemon's log can run to hundreds of MiB), secrets masked."""

from pathlib import Path

from ..secrets import scrub

LIMIT = 2 * 1024 * 1024  # bytes kept of each log: its end, where a failure shows


def keep(files, dest):
    """Copy {name: path} under dest; returns [(name, bytes kept, bytes cut)]."""
    kept = []
    for name, path in files.items():
        target = Path(dest) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "rb") as f:
                size = f.seek(0, 2)
                f.seek(max(0, size - LIMIT))
                data = f.read(LIMIT)
        except OSError as exc:
            target.with_name(target.name + ".unreadable").write_text(f"{path}: {exc}\n")
            continue
        text = data.decode("utf-8", errors="replace")
        cut = size - len(data)
        if cut:
            text = f"[the first {cut} bytes of {path.name} are cut; its end follows]\n" + text.split("\n", 1)[-1]
        target.write_text(scrub(text))
        kept.append((name, len(data), cut))
    return kept
