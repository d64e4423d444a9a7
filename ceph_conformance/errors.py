"""Errors the harness raises, each carrying a message meant for the person running the suite."""


class SetupError(Exception):
    """The run cannot start or continue: a one-line cause and what to do about it."""


class CommandError(Exception):
    """An external command failed or overran its bound."""

    def __init__(self, argv, returncode, output, timeout=None):
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output
        self.timeout = timeout
        super().__init__(self._describe())

    def _describe(self):
        from .secrets import scrub

        cmd = scrub(" ".join(str(a) for a in self.argv))
        text = scrub(self.output.strip())
        # Many tools print the error first and boilerplate after it: keep both ends.
        errors = [line for line in text.splitlines() if "error" in line.lower()][:5]
        tail = text[-1500:]
        if errors and errors[0] not in tail:
            tail = "\n".join(errors) + "\n...\n" + tail
        if self.timeout is not None:
            head = f"`{cmd}` did not finish within {self.timeout:.0f}s"
        else:
            head = f"`{cmd}` exited with {self.returncode}"
        return f"{head}: {tail}" if tail else head


class Unsupported(Exception):
    """The target does not offer a capability; checks needing it skip with this reason."""
