"""pymysql connections whose every operation has one budget (--op-timeout), retries included.

pymysql's own timeouts bound each socket call, not an operation: a server that trickles, or a
read_timeout per packet of a long result, can stretch one query far past any bound. Here each
operation gets a deadline when it starts, and every socket read and write under it waits only
for what is left of that deadline:

- connecting (the socket, the handshake, authentication, the session's first commands) is one
  operation; a connection refused or a socket not there yet (a server starting) is retried,
  every attempt within what is left of the same budget;
- every command sent to the server afterwards (a query with its whole result, a streamed
  result included; COMMIT, BEGIN, ROLLBACK, a ping) is one operation. Commands are never
  retried: a COMMIT whose answer was lost may have been applied, and the check must see that.

So a database that accepts connections and then stops answering fails the operation within
its budget, with an error (a pymysql OperationalError, code 2013) that says so.
"""

import time

import pymysql
from pymysql.constants import CR
from pymysql.err import OperationalError

# Errors of a connection attempt that a later attempt may not meet: no socket yet, refused,
# too many connections, the server going down or coming up.
RETRIED_ON_CONNECT = {CR.CR_CONNECTION_ERROR, CR.CR_CONN_HOST_ERROR, CR.CR_SERVER_LOST, 1040, 1053}
RETRY_PAUSE = 0.25


class OperationTimedOut(OperationalError):
    """The server did not answer an operation within its budget."""


class BudgetConnection(pymysql.connections.Connection):
    """A pymysql Connection whose socket waits never exceed the current operation's deadline."""

    def __init__(self, *, budget, deadline, where, **kwargs):
        self._budget, self._deadline, self._where = budget, deadline, where
        self._connecting = True
        self._doing = "connecting"
        left = max(0.001, deadline - time.monotonic())
        super().__init__(connect_timeout=left, read_timeout=left, write_timeout=left, **kwargs)
        self._connecting = False

    def _execute_command(self, command, sql):
        if not self._connecting:  # the session's first commands belong to the connect's budget
            self._deadline = time.monotonic() + self._budget
            text = sql.decode(errors="replace") if isinstance(sql, bytes) else str(sql)
            self._doing = " ".join(text.split())[:80]
        return super()._execute_command(command, sql)

    def close(self):
        # Saying goodbye (COM_QUIT) is an operation of its own, however long the connection idled.
        self._deadline = time.monotonic() + self._budget
        self._doing = "closing"
        super().close()

    def _left(self, waiting_for):
        left = self._deadline - time.monotonic()
        if left <= 0:
            self._force_close()
            raise self._timed_out(waiting_for)
        if self._sock is not None:
            self._sock.settimeout(left)
            self._current_timeout = left
        return left

    def _timed_out(self, waiting_for):
        return OperationTimedOut(
            CR.CR_SERVER_LOST,
            f"the database at {self._where} accepted the connection but did not {waiting_for} within "
            f"{self._budget:g}s (--op-timeout, the budget of one operation; doing: {self._doing})")

    def _read_bytes(self, num_bytes):
        self._left("answer")
        try:
            return super()._read_bytes(num_bytes)
        except OperationalError as exc:
            if isinstance(exc.__context__, TimeoutError):
                raise self._timed_out("answer") from None
            raise

    def _write_bytes(self, data):
        self._left("take the request")
        try:
            return super()._write_bytes(data)
        except OperationalError as exc:
            if isinstance(exc.__context__, TimeoutError):
                raise self._timed_out("take the request") from None
            raise


def connect(*, budget, where, retry=True, **kwargs):
    """A BudgetConnection (autocommit unless told otherwise) to where (for messages: the socket's
    path or host:port); kwargs are pymysql's (unix_socket or host and port, user, password).
    Connecting, its retries included, takes at most budget seconds; so does every later operation."""
    kwargs.setdefault("autocommit", True)
    deadline = time.monotonic() + budget
    attempts = 0
    while True:
        attempts += 1
        try:
            return BudgetConnection(budget=budget, deadline=deadline, where=where, **kwargs)
        except OperationTimedOut:
            raise
        except OperationalError as exc:
            code = exc.args[0] if exc.args else None
            if not retry or code not in RETRIED_ON_CONNECT or deadline - time.monotonic() <= RETRY_PAUSE:
                if attempts > 1:
                    raise OperationalError(code, f"could not connect to the database at {where} within {budget:g}s "
                                                 f"(--op-timeout, {attempts} attempts): {exc.args[-1]}") from None
                raise
            time.sleep(RETRY_PAUSE)
