"""The distribution's nginx serving a directory over HTTP on loopback (an app on shared storage)."""

from pathlib import Path

from ...clients.web import http_get
from ...host import processes
from ...waits import wait_for

CONF = """\
daemon off;
master_process off;
user root;
worker_processes 1;
pid {run_dir}/nginx.pid;
error_log {run_dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {run_dir}/tmp-body;
    proxy_temp_path {run_dir}/tmp-proxy;
    fastcgi_temp_path {run_dir}/tmp-fastcgi;
    uwsgi_temp_path {run_dir}/tmp-uwsgi;
    scgi_temp_path {run_dir}/tmp-scgi;
    types {{ text/plain txt; application/octet-stream bin; text/html html; }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
        sendfile off;  # read through the FUSE client each time
        open_file_cache off;
    }}
}}
"""


class Nginx:
    def __init__(self, root, run_dir, port):
        self.root = Path(root)
        self.run_dir = Path(run_dir)
        self.port = port
        self.pid = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30):
        self.run_dir.mkdir(parents=True, exist_ok=True)
        conf = self.run_dir / "nginx.conf"
        conf.write_text(CONF.format(run_dir=self.run_dir, port=self.port, root=self.root))
        self.pid = processes.start(["nginx", "-c", conf, "-p", self.run_dir, "-e", self.run_dir / "error.log"],
                                   self.run_dir / "nginx.stdout", self.run_dir)

        def probe():
            if not processes.is_alive(self.pid, str(self.run_dir)):
                raise RuntimeError(f"nginx exited: {(self.run_dir / 'nginx.stdout').read_text()[-500:]}")
            status, _ = http_get(self.url + "/", timeout=3)  # a connection refused: not yet
            return True, f"answering (HTTP {status})"

        wait_for(probe, what=f"nginx on {self.url}", timeout=timeout, interval=0.2)

    def stop(self):
        if self.pid:
            processes.stop(self.pid, str(self.run_dir), timeout=15)
            self.pid = None
