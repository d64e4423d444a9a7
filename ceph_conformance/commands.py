"""Runs external commands with a bound on time, and says what failed when they do."""

import os
import subprocess

from .errors import CommandError


def run(argv, *, timeout=60.0, input=None, env=None, check=True, cwd=None):
    """Run argv, return its CompletedProcess (text). Raises CommandError on failure or overrun."""
    __tracebackhide__ = True
    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update(env)
    try:
        proc = subprocess.run(
            [str(a) for a in argv],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            cwd=cwd,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        out = (exc.stderr or b"") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        if isinstance(out, bytes):
            out = out.decode(errors="replace")
        raise CommandError(argv, None, out, timeout=timeout) from None
    except FileNotFoundError:
        raise CommandError(argv, 127, f"{argv[0]}: command not found") from None
    if check and proc.returncode != 0:
        raise CommandError(argv, proc.returncode, (proc.stderr or "") + (proc.stdout or ""))
    return proc
