"""The app checks fail when what the app keeps on Ceph is not what it stored, naming what differs.

Ghost's uploaded image is changed on one of the run's CephFS mounts behind Ghost's back, right
before the check that reads it through the other client; it is put back right after, so the checks
after it (Ghost restarted on the other client) pass on the same data.
"""

import os
from pathlib import Path

from .client_views import Overmount, client_mounts, only
from .harness import GHOST_MODULE, break_during, break_in_turn

CHECK = "test_ghost_image_reads_identically_through_the_other_cephfs_client"


def _ghost_image(run_dir):
    # <run>/clients/<scope>/mnt/client.<id>/<module dir>/ghost/images/YYYY/MM/<name>.png: the same
    # file through each of the two mounts; one is enough.
    found = sorted(Path(run_dir).glob("clients/*/mnt/client.*/*/ghost/images/*/*/*.png"))
    assert found, f"no image of Ghost under {run_dir}/clients: the fixtures did not publish one"
    return found[0]


def _write(path, data):
    with open(path, "r+b") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def test_ghost_image_changed_on_cephfs_fails_the_check_reading_it_through_the_other_client(
        live_cluster, existing, tmp_path):
    kept = {}

    def break_it(run_dir):
        path = _ghost_image(run_dir)
        kept["path"], kept["data"] = path, path.read_bytes()
        changed = bytearray(kept["data"])
        changed[len(changed) // 2] ^= 0xFF  # one byte in the image's pixel data
        _write(path, bytes(changed))

    def heal(_run_dir):
        if kept:
            _write(kept["path"], kept["data"])

    run = break_during(tmp_path, CHECK, break_it, heal, GHOST_MODULE, "-m", "sharedfs and block", "-k", "ghost",
                       *existing)
    check = run.check(CHECK)
    assert check["outcome"] == "failed", (check, run)
    size = len(kept["data"])
    assert "reads differently through client" in check["message"], check["message"]
    assert f"1 of {size} bytes differ, the first at offset {size // 2}" in check["message"], check["message"]
    others = [c for c in run.results["checks"] if CHECK not in c["nodeid"]]
    assert len(others) == 3 and all(c["outcome"] == "passed" for c in others), (others, run)


SERVES = "test_ghost_serves_the_published_post_and_its_image_over_plain_http"
DATABASE = "test_ghost_keeps_its_tables_and_the_post_in_the_database_on_rbd"
RESTARTED = "test_ghost_restarted_on_the_other_client_serves_the_same_post_and_image"


def _ghost_sql(run_dir):
    """A root connection to the MariaDB holding Ghost's database, by its private socket (the run's
    one database server: clients/<block scope>/db-<n>/mysqld.sock), and that database's name."""
    import pymysql

    socket = only(Path(run_dir).glob("clients/*/db-*/mysqld.sock"), f"MariaDB socket under {run_dir}/clients")
    conn = pymysql.connect(unix_socket=str(socket), user="root", autocommit=True, connect_timeout=20,
                           read_timeout=30, write_timeout=30)
    with conn.cursor() as cur:
        cur.execute("SHOW DATABASES LIKE 'ghost\\_%'")
        names = [row[0] for row in cur.fetchall()]
    assert len(names) == 1, f"expected Ghost's one database on {socket}, found {names}"
    return conn, names[0]


def test_ghost_checks_fail_on_a_missing_image_an_altered_row_and_the_other_clients_view(
        live_cluster, existing, tmp_path):
    """One Ghost run, three checks broken in turn, each healed before the next:

    - the image Ghost serves is renamed away on its own client's mount: the check of what Ghost
      serves over HTTP fails on the 404;
    - the post's title is changed in its row, through the MariaDB socket: the database check
      fails naming the row's title and the one Ghost published;
    - client b's view of the image is another file (a changed copy bound over it on b's mount, the
      cluster's file untouched): Ghost restarted on b serves those bytes, and the restart check
      fails naming the differing bytes.
    The image check through the other client runs unbroken between them and passes (the test
    above breaks it, with these three passing)."""
    kept, view = {}, Overmount()

    def hide_image(run_dir):
        a, _ = client_mounts(run_dir)
        image = only(a.glob("*/ghost/images/*/*/*.png"), f"image of Ghost on {a}")
        kept["image"] = image.read_bytes()
        kept["name"] = image.name
        image.rename(image.with_name(image.name + ".aside"))
        kept["hidden"] = image

    def unhide_image(_run_dir):
        hidden = kept.get("hidden")
        if hidden is not None:
            hidden.with_name(hidden.name + ".aside").rename(hidden)

    def alter_title(run_dir):
        conn, name = _ghost_sql(run_dir)
        with conn, conn.cursor() as cur:
            cur.execute(f"SELECT id, title FROM `{name}`.posts WHERE type = 'post' AND title LIKE 'Ghost on Ceph %%'")
            rows = cur.fetchall()
            assert len(rows) == 1, f"expected the one post the fixtures published in {name}.posts, found {rows}"
            kept["post"], kept["title"] = rows[0]
            kept["database"] = name
            cur.execute(f"UPDATE `{name}`.posts SET title = %s WHERE id = %s", (kept["title"] + " (altered)",
                                                                               kept["post"]))

    def restore_title(run_dir):
        if "post" in kept:
            conn, name = _ghost_sql(run_dir)
            with conn, conn.cursor() as cur:
                cur.execute(f"UPDATE `{name}`.posts SET title = %s WHERE id = %s", (kept["title"], kept["post"]))

    def change_bs_view(run_dir):
        _, b = client_mounts(run_dir)
        image = only(b.glob("*/ghost/images/*/*/*.png"), f"image of Ghost on {b}")
        changed = bytearray(image.read_bytes())
        changed[len(changed) // 2] ^= 0xFF
        (tmp_path / "changed.png").write_bytes(bytes(changed))
        kept["b"] = b.name
        view.bind(tmp_path / "changed.png", image)

    run = break_in_turn(tmp_path, [(SERVES, hide_image, unhide_image), (DATABASE, alter_title, restore_title),
                                   (RESTARTED, change_bs_view, lambda _run_dir: view.heal())],
                        GHOST_MODULE, "-m", "sharedfs and block", "-k", "ghost", *existing)
    served = run.check(SERVES)
    assert served["outcome"] == "failed", (served, run)
    assert "Ghost answered HTTP 404 for the uploaded image" in served["message"], served["message"]
    assert kept["name"] in served["message"], served["message"]

    database = run.check(DATABASE)
    assert database["outcome"] == "failed", (database, run)
    assert f"the post's row in {kept['database']}.posts says {kept['title'] + ' (altered)'!r}" in database["message"], \
        database["message"]
    assert f"Ghost published {kept['title']!r}" in database["message"], database["message"]

    restarted = run.check(RESTARTED)
    assert restarted["outcome"] == "failed", (restarted, run)
    size = len(kept["image"])
    assert f"after the restart on {kept['b']} Ghost served other bytes for the image" in restarted["message"], \
        restarted["message"]
    assert f"1 of {size} bytes differ, the first at offset {size // 2}" in restarted["message"], restarted["message"]

    assert run.check(CHECK)["outcome"] == "passed", (run.check(CHECK), run)
    assert len(run.results["checks"]) == 4, run
