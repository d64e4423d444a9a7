"""Masks registered secrets in a test report before anything writes it out."""

from ..secrets import contains_secret, scrub


def scrub_report(report):
    if report.longrepr is not None:
        text = str(report.longrepr)
        if contains_secret(text):
            report.longrepr = scrub(text)
    sections = []
    for title, content in report.sections:
        sections.append((title, scrub(content) if contains_secret(content) else content))
    report.sections = sections
    report.user_properties = [(k, scrub(v) if isinstance(v, str) else v) for k, v in report.user_properties]
