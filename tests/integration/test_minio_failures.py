"""The MinIO-on-CephFS checks fail, naming the object, when its files change behind MinIO's back."""

from suites.test_apps_minio import DATA_DIR

from .client_views import Overmount, client_mounts, only
from .harness import MINIO_MODULE, break_in_turn, run_suite

COPY_DIR = "written-on-b"  # where the check has client b write the copied object's files


def test_minio_restart_check_names_the_object_truncated_through_the_other_client(live_cluster, existing, tmp_path):
    run = run_suite(tmp_path, MINIO_MODULE, "-m", "sharedfs", "-k", "minio", "-p", "tests.integration.minio_tamper",
                    *existing)
    for passed in ("test_objects_stored_through_minio_are_files_the_other_client_reads",
                   "test_minio_serves_an_object_whose_files_the_other_client_wrote"):
        assert run.check(passed)["outcome"] == "passed", (run.check(passed), run)
    check = run.check("test_minio_restarted_on_the_other_client_serves_every_object")
    assert check["outcome"] == "failed", (check, run)
    message = check["message"]
    assert "MinIO restarted on" in message and "GET multipart.bin" in message, message


READ_BY_B = "test_objects_stored_through_minio_are_files_the_other_client_reads"
WRITTEN_BY_B = "test_minio_serves_an_object_whose_files_the_other_client_wrote"
RESTARTED = "test_minio_restarted_on_the_other_client_serves_every_object"


def _bucket(mount):
    """MinIO's bucket directory as one client sees it: <module dir>/minio/<bucket>."""
    return only([p for p in mount.glob(f"*/{DATA_DIR}/cconf-*") if p.is_dir()], f"MinIO bucket under {mount}")


def test_minio_checks_fail_when_the_other_clients_view_of_the_bucket_differs(live_cluster, existing, tmp_path):
    """One MinIO run, the two checks of the other client's view broken in turn, each healed before
    the next, by making client b's view of the bucket differ from what the cluster holds (an empty
    directory bound over it on b's mount; MinIO on a and the cluster untouched):

    - over the whole bucket: b finds none of the files MinIO stored through a, and the check
      reading them through b fails naming the object's missing xl.meta;
    - over the directory the copy's key goes in (made on CephFS first): what b writes there never
      reaches the cluster, and MinIO through a answers NoSuchKey for it.
    The restart check runs unbroken after them and passes (the test above breaks it, with these
    two passing)."""
    view, made = Overmount(), {}

    def empty(name):
        (tmp_path / name).mkdir()
        return tmp_path / name

    def hide_bucket_from_b(run_dir):
        _, b = client_mounts(run_dir)
        bucket = _bucket(b)
        made["b"], made["bucket"] = b.name, bucket.name
        view.bind(empty("empty-bucket"), bucket)

    def hide_bs_writes(run_dir):
        a, b = client_mounts(run_dir)
        made["dir"] = _bucket(a) / COPY_DIR
        made["dir"].mkdir()  # through a: on CephFS, so b sees it and the bind has a place
        view.bind(empty("bs-writes"), _bucket(b) / COPY_DIR)

    def heal_writes(_run_dir):
        view.heal()
        if "dir" in made:
            made["dir"].rmdir()  # empty on CephFS: what b wrote went into the bound directory

    run = break_in_turn(tmp_path, [(READ_BY_B, hide_bucket_from_b, lambda _run_dir: view.heal()),
                                   (WRITTEN_BY_B, hide_bs_writes, heal_writes)],
                        MINIO_MODULE, "-m", "sharedfs", "-k", "minio", *existing)
    read = run.check(READ_BY_B)
    assert read["outcome"] == "failed", (read, run)
    assert f"{made['b']} sees no {DATA_DIR}/{made['bucket']}/small.txt/xl.meta for the object MinIO stored " \
           f"through the other client; files there: none" in read["message"], read["message"]

    written = run.check(WRITTEN_BY_B)
    assert written["outcome"] == "failed", (written, run)
    assert f"refused to GET {COPY_DIR}/copy.bin, whose files {made['b']} wrote: NoSuchKey (HTTP 404)" \
        in written["message"], written["message"]

    assert run.check(RESTARTED)["outcome"] == "passed", (run.check(RESTARTED), run)
    assert len(run.results["checks"]) == 3, run
