"""One ast.parse at a time in the process, on the Python versions where two at once can fail.

CPython 3.11 keeps the AST constructor's recursion depth in per-interpreter state, not per thread
(gh-106905): two threads in ast.parse at once can end one of them with "SystemError: AST
constructor recursion depth mismatch". Python 3.11's traceback module calls ast.parse to place
its ^^^ markers, and pytest's assertion rewriting parses each module it imports, so threads of a
check (the ledger's parts written side by side) met it: one CI run lost its four disruptive
checks to it. A re-entrant lock around ast.parse removes the overlap (re-entrant: a parse can run a
finalizer that formats a traceback); parses are short and rare, so nothing measurable waits on it."""

import ast
import sys
import threading

# Measured on 3.11.7 (this project's CI); later releases carry a fix, and the lock costs too little
# to tell them apart.
AFFECTED = sys.version_info < (3, 13)
_lock = threading.RLock()


def install():
    """Wrap ast.parse once, in this process; a no-op where Python is not affected or it is done."""
    if not AFFECTED or getattr(ast.parse, "serialized", False):
        return
    parse = ast.parse

    def serialized_parse(*args, **kwargs):
        with _lock:
            return parse(*args, **kwargs)

    serialized_parse.serialized = True
    serialized_parse.__wrapped__ = parse
    serialized_parse.__doc__ = parse.__doc__
    ast.parse = serialized_parse
