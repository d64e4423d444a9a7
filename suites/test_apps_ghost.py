"""Ghost on Ceph, as the seeds deploy it: its content directory (themes, uploaded images) in CephFS,
its database (MySQL protocol; MariaDB on host targets) on an RBD volume.

A post with an image is published through Ghost's Admin API (fixtures/ghost.py); the checks read
it back as a visitor does, find its rows in the database and its image through the other CephFS
client, and serve it again from a Ghost started on the other client. Checks run under
--io-timeout; each HTTP call under --op-timeout.
"""

import re

import pytest

from ceph_conformance.clients.web import http_get
from ceph_conformance.payload import difference, sha256

pytestmark = [pytest.mark.sharedfs, pytest.mark.block]

GHOST_TABLES = {"posts", "users", "settings", "tags", "posts_tags", "sessions", "migrations"}


def _get(url, op_timeout, what):
    status, body = http_get(url, timeout=op_timeout)
    assert status == 200, f"Ghost answered HTTP {status} for {what} ({url}): {body[:200]!r}"
    return body


def test_ghost_serves_the_published_post_and_its_image_over_plain_http(ghost_site, published, op_timeout):
    """Ghost's public page shows the post's title, text and image; the image comes back byte for byte."""
    post = published.post
    assert post["status"] == "published", f"the post Ghost made is {post['status']!r}, not published"
    page = _get(post["url"], op_timeout, "the post's public page").decode(errors="replace")
    assert post["title"] in page, f"the post's page at {post['url']} does not show its title {post['title']!r}"
    assert "Kept on CephFS, indexed on RBD." in page, f"the post's page at {post['url']} lacks its text"
    assert published.image_url in page, f"the post's page does not show the image {published.image_url}"
    got = _get(published.image_url, op_timeout, "the uploaded image")
    wrong = difference(got, published.image)
    assert not wrong, f"Ghost served other bytes for the image it stored in CephFS: {wrong}"


def test_ghost_keeps_its_tables_and_the_post_in_the_database_on_rbd(ghost_site, published):
    """Ghost's tables, the post's row and the owner's are in its database on the RBD volume."""
    name = ghost_site.app.database_name
    with ghost_site.database.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (name,))
        tables = {row[0] for row in cur.fetchall()}
        missing = GHOST_TABLES - tables
        assert not missing, f"database {name} on {ghost_site.database.spec} lacks Ghost's tables {sorted(missing)} " \
                            f"(has {len(tables)})"
        cur.execute(f"SELECT title, status, feature_image FROM `{name}`.posts WHERE id = %s", (published.post["id"],))
        row = cur.fetchone()
        assert row is not None, f"no row in {name}.posts for the post {published.post['id']} Ghost published"
        cur.execute(f"SELECT email FROM `{name}`.users WHERE email = %s", (published.owner_email,))
        owner = cur.fetchone()
    title, status, feature_image = row
    assert (title, status) == (published.post["title"], "published"), \
        f"the post's row in {name}.posts says {title!r}, {status!r}; Ghost published {published.post['title']!r}, " \
        f"'published'"
    image_name = published.image_url.rsplit("/", 1)[1]
    assert feature_image and feature_image.endswith(image_name), \
        f"the post's row names the feature image {feature_image!r}, not {image_name}"
    assert owner is not None, f"no row in {name}.users for the owner made at setup ({published.owner_email})"


def test_ghost_image_reads_identically_through_the_other_cephfs_client(ghost_site, published):
    """The image file Ghost stored through one client reads byte for byte through the other."""
    path = f"{ghost_site.content}/{published.image_path}"
    try:
        got = ghost_site.b.read(path, uncached=True)
    except FileNotFoundError:
        pytest.fail(f"{ghost_site.b.name} finds no {path}, the image Ghost stored through {ghost_site.a.name}",
                    pytrace=False)
    wrong = difference(got, published.image)
    assert not wrong, (f"the image Ghost stored at {path} reads differently through {ghost_site.b.name}: "
                       f"{wrong} (sha256 {sha256(got)[:16]}, uploaded {sha256(published.image)[:16]})")


def test_ghost_restarted_on_the_other_client_serves_the_same_post_and_image(ghost_site, published, op_timeout):
    """Ghost restarted on the other client's mount serves the same post and image."""
    ghost_site.app.stop()
    moved = ghost_site.fs.ghost(ghost_site.b, ghost_site.database, ghost_site.content)
    ghost_site.app = moved  # stopped after the module, whatever happens here
    try:
        moved.start(timeout=300)
    except Exception as exc:  # noqa: BLE001 - the message is the check's verdict
        pytest.fail(f"Ghost did not start again on {ghost_site.b.name} with the same database and "
                    f"content: {exc}", pytrace=False)
    # The same site at the new instance's address: Ghost keeps its own URLs relative in the database.
    path = re.sub(r"^https?://[^/]+", "", published.post["url"])
    page = _get(moved.url + path, op_timeout, "the post after the restart").decode(errors="replace")
    assert published.post["title"] in page, f"after the restart on {ghost_site.b.name}, {moved.url}{path} " \
                                             f"does not show the post {published.post['title']!r}"
    image_url = f"{moved.url}/content/{published.image_path}"
    assert image_url in page, f"after the restart the post's page does not show the image at {image_url}"
    wrong = difference(_get(image_url, op_timeout, "the image after the restart"), published.image)
    assert not wrong, f"after the restart on {ghost_site.b.name} Ghost served other bytes for the image: {wrong}"

