"""ast.parse runs one at a time once the suite's plugin installs its lock (CPython 3.11, gh-106905)."""

import ast
import threading
import time

import pytest

from ceph_conformance.plugin import serial_ast


@pytest.mark.skipif(not serial_ast.AFFECTED, reason="this Python's ast.parse is safe in two threads at once")
def test_two_threads_never_parse_at_once_and_parses_still_answer(monkeypatch):
    inside, overlaps = [], []

    def slow_parse(source, *args, **kwargs):
        inside.append(1)
        if len(inside) > 1:
            overlaps.append(len(inside))
        time.sleep(0.05)  # a parse that lets the GIL go, as the bug's moment does
        inside.pop()
        return compile(source, "<test>", "exec", ast.PyCF_ONLY_AST)

    monkeypatch.setattr(ast, "parse", slow_parse)
    serial_ast.install()
    assert ast.parse is not slow_parse and ast.parse.__wrapped__ is slow_parse
    serial_ast.install()  # a second install (another plugin load) does not wrap twice
    assert ast.parse.__wrapped__ is slow_parse
    trees = []
    threads = [threading.Thread(target=lambda: trees.append(ast.parse("x = [i for i in range(3)]")))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not overlaps, f"{max(overlaps)} parses ran at once"
    assert len(trees) == 6 and all(isinstance(t.body[0], ast.Assign) for t in trees)
