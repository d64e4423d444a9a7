"""The run's context, kept in pytest's config stash: one per pytest process of a conformance run.

Every hook of the plugin starts from `context(config)`: None means this pytest session is not a
conformance run (the project's own tests, or any other session of the venv), and the hook does
nothing.
"""

import sys
import time
from contextlib import nullcontext
from pathlib import Path

import pytest

from ..ordering import Coordinator
from ..report import results
from ..secrets import scrub
from ..session import ClusterSession
from ..targets import make_target

RUN_KEY = pytest.StashKey["RunContext"]()


class RunContext:
    def __init__(self, config, options, run, controller):
        self.config = config
        self.options = options
        self.run = run
        self.controller = controller
        self.target = make_target(options)
        self.started = False
        self.preflight_passed = False
        self.keep_lines = []
        self.collector = results.ResultsCollector()
        self.coordinator = Coordinator(run.session_dir)
        self.results = None
        self._session = None
        self.t0 = time.time()
        self.in_check = False
        self.terminal_gone = False  # set when writing to the terminal failed: the log file goes on

    def session(self):
        if self._session is None:
            self._session = ClusterSession(self.run, self.options, self.target, self.progress)
        return self._session

    def _logged(self, message):
        """The progress line for message, written to the run's progress.log first; None when the
        terminal is gone (the log goes on alone)."""
        line = f"[ceph {time.time() - self.t0:6.1f}s] {scrub(message)}"
        try:
            with open(self.run.run_dir / "progress.log", "a") as log:
                log.write(line + "\n")
        except OSError:
            pass
        return None if self.terminal_gone else line

    def _to_terminal(self, line):
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and self.controller:
            reporter.ensure_newline()
            reporter.write_line(line)
        else:  # an xdist worker: its stderr is the terminal's
            print(line, file=sys.__stderr__, flush=True)

    def progress(self, message):
        line = self._logged(message)
        if line is None:
            return
        try:
            if self.in_check:
                # Inside a check the terminal is captured: the line belongs to that check's output, and
                # going through the reporter would break its line of results.
                print(line, file=sys.stderr, flush=True)
            else:
                self._to_terminal(line)
        except (OSError, ValueError):
            # The terminal went away (`| head` ended, the harness that read it was killed): a
            # progress line must never stop the run, least of all its teardown.
            self.terminal_gone = True

    def announce(self, message):
        """A progress line that reaches the terminal even inside a check, past pytest's capture: for
        the long first-use steps (host/firstuse.py), so a user watching the run sees why it waits."""
        if not self.in_check:
            return self.progress(message)
        line = self._logged(message)
        if line is None:
            return
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        try:
            # As pytest's live logging does: the capture suspended for the one line.
            with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
                self._to_terminal(line)
        except (OSError, ValueError):
            self.terminal_gone = True

    def is_check(self, item):
        suites = self.config.rootpath / "suites"
        return suites in Path(item.path).parents


def context(config):
    """The run context, or None when this session is not a conformance run."""
    return config.stash.get(RUN_KEY, None)


def selects_suites(config):
    """Whether this session runs conformance checks (paths under suites/), not the project's own tests."""
    suites = (config.rootpath / "suites").resolve()
    if not suites.is_dir():
        return False
    for arg in config.args:
        path = Path(arg.split("::")[0])
        if not path.is_absolute():
            path = Path(config.invocation_params.dir) / path
        path = path.resolve()
        if path == suites or suites in path.parents or path in suites.parents:
            return True
    return False
