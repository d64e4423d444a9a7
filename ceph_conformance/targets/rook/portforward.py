"""A local TCP port forwarded to a pod's port through the Kubernetes API (what `kubectl
port-forward` does), so that clients on this host (pymysql) reach a server inside the cluster."""

import select
import socket
import threading


class PortForward:
    """127.0.0.1:<port> on this host to pod:remote_port. Each connection gets its own forward
    (the API's port-forward streams are per connection). close() ends every one of them."""

    def __init__(self, kube, namespace, pod, remote_port):
        from kubernetes.stream import portforward

        self._open = lambda: portforward(kube.core.connect_get_namespaced_pod_portforward, pod, namespace,
                                         ports=str(remote_port))
        self.remote_port = remote_port
        self.pod = pod
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._conns = []
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True, name=f"port-forward {pod}")
        self._thread.start()

    def _accept(self):
        while not self._closed:
            try:
                local, _ = self._server.accept()
            except OSError:
                return  # closed
            try:
                forward = self._open()
                remote = forward.socket(self.remote_port)
            except Exception:  # noqa: BLE001 - the client sees its connection closed, and retries
                local.close()
                continue
            with self._lock:
                self._conns.append((local, remote, forward))
            threading.Thread(target=_relay, args=(local, remote), daemon=True).start()

    def close(self):
        self._closed = True
        try:  # wakes the accept() of the thread (a close alone would not, on Linux)
            self._server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._server.close()
        with self._lock:
            for local, remote, forward in self._conns:
                for s in (local, remote):
                    # shutdown first: a close alone leaves the socket open while the relay thread
                    # still waits on it in select(), and the client would never see the end.
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    s.close()
                try:
                    forward.close()
                except Exception:  # noqa: BLE001 - already gone
                    pass
            self._conns.clear()
        self._thread.join(5)


def _relay(a, b):
    """Copy bytes both ways until either side closes."""
    pair = {a: b, b: a}
    try:
        while True:
            ready, _, _ = select.select(list(pair), [], [], 60)
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                pair[s].sendall(data)
    except (OSError, ValueError):  # ValueError: close() took a socket from under select() (fd -1)
        return
    finally:
        for s in (a, b):
            try:
                s.close()
            except OSError:
                pass
