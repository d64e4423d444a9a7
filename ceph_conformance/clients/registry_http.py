"""The OCI distribution API over HTTP (requests), as a container runtime pulls through it.

Every call is bounded by op_timeout as a whole (connecting, and a blob's whole body), so a registry
that stalls on its storage fails the call within it; an answer other than the one expected raises
RegistryAPIError naming the method, the path, the status and the registry's error codes.
"""

import hashlib
import json
import time

import requests

MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json")


class RegistryAPIError(AssertionError):
    """The registry answered a request with an unexpected status, or not within the bound."""


class NoAnswer(RegistryAPIError):
    pass


def _codes(resp):
    try:
        errors = resp.json().get("errors", [])
        return ", ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or resp.text[:200]
    except ValueError:
        return resp.text[:200]


class RegistryHTTP:
    def __init__(self, url, op_timeout=60.0):
        self.url = url.rstrip("/")
        self.op_timeout = op_timeout
        self.session = requests.Session()

    def _request(self, method, path, expect, **kwargs):
        """One request; the response (its body read, or to be streamed when stream=True)."""
        where = f"{method} {path}"
        try:
            resp = self.session.request(method, self.url + path, timeout=(min(5.0, self.op_timeout), self.op_timeout),
                                        allow_redirects=False, **kwargs)
        except requests.Timeout:
            raise NoAnswer(f"{where}: the registry did not answer within {self.op_timeout:.0f}s") from None
        except requests.ConnectionError as exc:
            raise RegistryAPIError(f"{where}: cannot reach the registry at {self.url}: {exc}") from None
        if resp.status_code not in expect:
            raise RegistryAPIError(f"{where}: HTTP {resp.status_code} (expected {'/'.join(map(str, expect))}): "
                                   f"{_codes(resp)}")
        return resp

    def manifest(self, repository, reference):
        """(raw bytes, parsed manifest, the Docker-Content-Digest header) of a manifest by tag or digest."""
        resp = self._request("GET", f"/v2/{repository}/manifests/{reference}", (200,),
                             headers={"Accept": ", ".join(MANIFEST_TYPES)})
        return resp.content, json.loads(resp.content), resp.headers.get("Docker-Content-Digest")

    def blob(self, repository, digest):
        """(bytes, sha256 digest computed while reading) of a blob, the whole read within op_timeout."""
        path = f"/v2/{repository}/blobs/{digest}"
        deadline = time.monotonic() + self.op_timeout
        h, parts = hashlib.sha256(), []
        with self._request("GET", path, (200,), stream=True) as resp:
            try:
                for chunk in resp.iter_content(1024 * 1024):
                    h.update(chunk)
                    parts.append(chunk)
                    if time.monotonic() > deadline:
                        raise NoAnswer(f"GET {path}: {sum(map(len, parts))} bytes read, not all of the blob, within "
                                       f"{self.op_timeout:.0f}s")
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise NoAnswer(f"GET {path}: the blob's body stopped after {sum(map(len, parts))} bytes: {exc}") \
                    from None
        return b"".join(parts), f"sha256:{h.hexdigest()}"

    def blob_status(self, repository, digest):
        """The status a HEAD of the blob gets (200 there, 404 gone)."""
        return self._request("HEAD", f"/v2/{repository}/blobs/{digest}", (200, 404)).status_code

    def manifest_status(self, repository, reference):
        return self._request("HEAD", f"/v2/{repository}/manifests/{reference}", (200, 404),
                             headers={"Accept": ", ".join(MANIFEST_TYPES)}).status_code

    def delete_manifest(self, repository, digest):
        """DELETE of a manifest by digest: 202 Accepted (its tags go with it)."""
        return self._request("DELETE", f"/v2/{repository}/manifests/{digest}", (202,)).status_code

    def tags(self, repository):
        resp = self._request("GET", f"/v2/{repository}/tags/list", (200, 404))
        return [] if resp.status_code == 404 else (resp.json().get("tags") or [])

    def close(self):
        self.session.close()
