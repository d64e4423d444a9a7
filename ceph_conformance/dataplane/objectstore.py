"""S3 object storage as a target offers it: an endpoint and users with their credentials."""

from abc import ABC, abstractmethod


class ObjectStore(ABC):
    """endpoint: the S3 URL as a client outside the cluster reaches it."""

    endpoint = None

    @abstractmethod
    def new_user(self, name):
        """A new S3 user of the run (name is run-prefixed): its S3Credentials (clients/s3), the
        secret registered (secrets.register) before anything can print it."""

    @abstractmethod
    def credentials(self, name):
        """The S3Credentials of a user of the run made earlier, possibly by another process of the
        run (secrets are never kept in the run's records)."""

    @abstractmethod
    def remove_user(self, credentials):
        """Remove the user and everything it owns. Returns an error text, or None when it is gone."""
