"""Masks registered secrets in a test report before anything writes it out."""

from types import SimpleNamespace

from ..secrets import contains_secret, scrub


class ScrubbedRepr:
    """Stands in for a failure representation that mentioned a secret: same text, masked."""

    def __init__(self, longrepr):
        self.text = scrub(str(longrepr))
        crash = getattr(longrepr, "reprcrash", None)
        if crash is not None:
            self.reprcrash = SimpleNamespace(message=scrub(crash.message), path=crash.path, lineno=crash.lineno)

    def toterminal(self, tw):
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self):
        return self.text


def scrub_report(report):
    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        if contains_secret(str(report.longrepr)):
            report.longrepr = ScrubbedRepr(report.longrepr)
    elif isinstance(report.longrepr, tuple):  # a skip: (path, lineno, reason)
        report.longrepr = tuple(scrub(x) if isinstance(x, str) else x for x in report.longrepr)
    report.sections = [(title, scrub(content)) for title, content in report.sections]
    report.user_properties = [(k, scrub(v) if isinstance(v, str) else v) for k, v in report.user_properties]
