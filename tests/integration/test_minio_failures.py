"""The MinIO-on-CephFS checks fail, naming the object, when its files change behind MinIO's back."""

from .harness import MINIO_MODULE, run_suite


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
