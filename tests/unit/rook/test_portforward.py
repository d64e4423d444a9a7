"""The port-forward's local side: accept, relay both ways, close everything. The stream to the pod
is Kubernetes' own (kubernetes.stream.portforward); here a local echo server stands at its end,
so what is proven is this module's sockets, not the API server."""

import socket
import threading

from ceph_conformance.targets.rook.portforward import PortForward


def _echo_server():
    server = socket.create_server(("127.0.0.1", 0))

    def echo(conn):
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return server


class _Stream:
    """What kubernetes' PortForward offers: socket(port), close()."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))

    def socket(self, _remote_port):
        return self.sock

    def close(self):
        self.sock.close()


def test_bytes_cross_both_ways_and_close_ends_every_connection():
    echo = _echo_server()
    forward = PortForward(kube=None, namespace="ns", pod="mysql-0", remote_port=3306)
    forward._open = lambda: _Stream(echo.getsockname()[1])
    try:
        clients = [socket.create_connection(("127.0.0.1", forward.port), timeout=10) for _ in range(2)]
        for i, c in enumerate(clients):
            payload = bytes([i]) * 200_000  # larger than one relay read
            c.sendall(payload)
            got = b""
            while len(got) < len(payload):
                got += c.recv(65536)
            assert got == payload
    finally:
        forward.close()
        echo.close()
    for c in clients:
        c.settimeout(5)
        assert c.recv(10) == b"", "a connection outlived close()"
        c.close()
    refused = socket.socket()
    assert refused.connect_ex(("127.0.0.1", forward.port)) != 0, "the local port still accepts after close()"
    refused.close()
