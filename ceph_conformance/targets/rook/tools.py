"""Ceph's tools through Rook's toolbox: exec in the run's toolbox pod, argv and stdin bytes in,
stdout bytes out, bounded. The toolbox holds the admin identity; nothing goes through local files."""

from ...dataplane.tools import CephTools, ToolResult
from ...errors import CommandError, SetupError

TOOLS = ("ceph", "rados", "rbd", "radosgw-admin", "ceph-volume")


class ToolboxCephTools(CephTools):
    """pod_finder: returns the name of a ready toolbox pod (asked again after the pod went away)."""

    def __init__(self, kube, namespace, pod_finder):
        self.kube = kube
        self.namespace = namespace
        self._find_pod = pod_finder
        self._pod = None

    def run(self, tool, args, *, input=None, timeout=60.0):
        __tracebackhide__ = True
        if tool not in TOOLS:
            raise CommandError([tool], 127, f"{tool}: not one of Ceph's tools ({', '.join(TOOLS)})")
        argv = [tool, *(str(a) for a in args)]
        try:
            self._pod = self._pod or self._find_pod()
        except SetupError as exc:
            raise CommandError(argv, 126, str(exc)) from None
        try:
            rc, out, err = self.kube.exec(self.namespace, self._pod, argv, input=input, timeout=timeout)
        except CommandError:
            self._pod = None  # a rescheduled toolbox has another name: look it up next time
            raise
        return ToolResult(argv, rc, out, err)
