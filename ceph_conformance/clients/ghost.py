"""Ghost's Admin API as its own admin client uses it: the owner made at setup, a session cookie
from signing in, images uploaded as multipart forms, posts created from HTML. Every call is
bounded (--op-timeout); an answer Ghost refuses raises GhostError with Ghost's own message."""

import requests

API = "/ghost/api/admin"


class GhostError(AssertionError):
    """Ghost answered an Admin API call with an error (its status and message), or not at all."""


class GhostAdmin:
    def __init__(self, url, timeout):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        # A session-authenticated Admin API call must come from the site's own origin (CSRF).
        self.http.headers.update({"Origin": self.url, "Accept-Version": "v5.0"})

    def _call(self, method, path, expect, **kw):
        what = f"{method} {API}{path}"
        try:
            resp = self.http.request(method, self.url + API + path, timeout=self.timeout, **kw)
        except requests.Timeout:
            raise GhostError(f"{what}: Ghost did not answer within {self.timeout:.0f}s") from None
        except requests.ConnectionError as exc:
            raise GhostError(f"{what}: no connection to Ghost at {self.url} ({type(exc).__name__})") from None
        if resp.status_code != expect:
            try:
                errors = resp.json()["errors"]
                said = "; ".join(f"{e.get('message')} ({e.get('context')})" if e.get("context") else e.get("message")
                                 for e in errors)
            except (ValueError, KeyError, TypeError):
                said = resp.text[:300]
            raise GhostError(f"{what}: HTTP {resp.status_code} (wanted {expect}): {said}")
        if not resp.headers.get("Content-Type", "").startswith("application/json"):
            return {}  # signing in answers "Created" as text
        return resp.json()

    def is_set_up(self):
        return self._call("GET", "/authentication/setup/", 200)["setup"][0]["status"]

    def setup(self, name, email, password, title):
        """The site's owner (the first staff user): the users it made."""
        body = {"setup": [{"name": name, "email": email, "password": password, "blogTitle": title}]}
        return self._call("POST", "/authentication/setup/", 201, json=body)["users"]

    def sign_in(self, email, password):
        """A staff session: its cookie authenticates the calls after this one."""
        self._call("POST", "/session/", 201, json={"username": email, "password": password})

    def upload_image(self, name, data, content_type="image/png"):
        """The uploaded image's URL as Ghost serves it (url/content/images/...)."""
        files = {"file": (name, data, content_type)}
        answer = self._call("POST", "/images/upload/", 201, files=files, data={"purpose": "image", "ref": name})
        return answer["images"][0]["url"]

    def create_post(self, title, html, feature_image=None, status="published"):
        """A post made from HTML (Ghost converts it to its editor's format): the post as Ghost
        returns it (id, url, status, ...)."""
        post = {"title": title, "html": html, "status": status}
        if feature_image:
            post["feature_image"] = feature_image
        return self._call("POST", "/posts/?source=html", 201, json={"posts": [post]})["posts"][0]

    def post(self, post_id):
        return self._call("GET", f"/posts/{post_id}/?formats=html", 200)["posts"][0]
