"""MinIO serving a bucket directory on the shared filesystem (SharedFilesystem.minio).

One MinIO server at a time serves a directory of the shared CephFS directory, as one of its
clients sees it. It can be stopped and started again on another client's view of the same
directory (another mount on this host, another pod on Rook): what it stored through one CephFS
client must then be served through the other. Credentials are the server's root user; the
secret is registered for masking by the target.
"""

from abc import ABC, abstractmethod


class MinioServer(ABC):
    """A MinIO server on a shared directory. url: its S3 endpoint while running (None before
    start; it may change at each start); credentials: clients.s3.S3Credentials of its root user;
    client_name: the filesystem client it serves through now; version: what MinIO this is."""

    url = None
    credentials = None
    client_name = None
    version = None

    @abstractmethod
    def start(self, timeout=120):
        """Start serving and wait (bounded) until MinIO says it is ready; SetupError with the end
        of its log if it does not get there."""

    @abstractmethod
    def stop(self):
        """Stop the server (bounded); harmless when it is not running."""

    @abstractmethod
    def move_to(self, client):
        """Stop, and serve the same directory through client (a FilesystemClient of the same
        SharedFilesystem) at the next start()."""
