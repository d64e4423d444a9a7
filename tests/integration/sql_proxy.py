"""A stream proxy in front of a real MariaDB socket that goes silent on chosen queries.

Every byte passes through unchanged, both ways, until the client sends a query (a COM_QUERY
packet of the MySQL protocol) matching `silent_on`: from then on that connection is held open
and nothing more is passed on in either direction, as a database (or a load balancer, a
port-forward) that accepts connections and stops answering. The query never reaches the server.

It listens on a unix socket (the host's MariaDB has no TCP port; pymysql speaks the same
protocol over both) and forwards to another one.
"""

import socket
import threading
import time

COM_QUERY = 0x03


class SilentSqlProxy:
    def __init__(self, upstream, listen, silent_on=b"SELECT id, payload"):
        self.upstream, self.path, self.silent_on = str(upstream), str(listen), silent_on
        self.held = []  # (epoch seconds, query text) of each query held
        self.passed = 0  # queries passed on
        self._conns = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen(16)
        self._server.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept, name="sql proxy", daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                server.connect(self.upstream)
            except OSError:
                client.close()
                continue
            state = {"silent": False}
            with self._lock:
                self._conns += [client, server]
            threading.Thread(target=self._client_to_server, args=(client, server, state), daemon=True).start()
            threading.Thread(target=self._server_to_client, args=(server, client, state), daemon=True).start()

    def _client_to_server(self, client, server, state):
        buf = b""
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                buf += data
                while len(buf) >= 4:  # whole packets only: 3 bytes length, 1 byte sequence, payload
                    length = int.from_bytes(buf[:3], "little")
                    if len(buf) < 4 + length:
                        break
                    packet, buf = buf[:4 + length], buf[4 + length:]
                    payload = packet[4:]
                    if payload[:1] == bytes([COM_QUERY]):
                        if self.silent_on in payload:
                            with self._lock:
                                self.held.append((time.time(), payload[1:].decode(errors="replace")))
                            state["silent"] = True
                        else:
                            with self._lock:
                                self.passed += 1
                    if state["silent"]:
                        continue  # swallowed: the server never hears of it, the client waits
                    server.sendall(packet)
        except OSError:
            pass
        finally:
            if not state["silent"]:
                _close(server)

    def _server_to_client(self, server, client, state):
        try:
            while True:
                data = server.recv(65536)
                if not data:
                    break
                if not state["silent"]:
                    client.sendall(data)
        except OSError:
            pass
        finally:
            if not state["silent"]:
                _close(client)

    def close(self):
        self._closed.set()
        _close(self._server)
        self._thread.join(5)
        with self._lock:
            for conn in self._conns:
                _close(conn)
            self._conns.clear()


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
