"""S3 objects through RGW, one of them multipart, under a user of the run's own."""

import io

import botocore.exceptions
from boto3.s3.transfer import TransferConfig

from ..clients.s3 import error_code, make_client
from ..payload import MiB, sha256
from .base import Part, payload, sizes_rng

COUNT = 24


class S3Objects(Part):
    kind = "S3 objects"

    def _client(self, uid, endpoint):
        # Another process of the run may verify: the keys come from the store, never the record.
        return make_client(endpoint, self.target.object_store().credentials(uid), max_attempts=3)

    def write(self):
        store = self.target.object_store()  # Unsupported: the target offers no S3
        uid = store.new_user(self.namer("ledger")).uid
        endpoint = store.endpoint
        s3 = self._client(uid, endpoint)
        bucket = self.namer("ledger")
        s3.create_bucket(Bucket=bucket)
        rng = sizes_rng(2)
        objects = {}
        for n in range(COUNT):
            key = f"ledger/obj-{n:03d}"
            data = payload(rng, 1024, 512 * 1024)
            s3.put_object(Bucket=bucket, Key=key, Body=data)
            objects[key] = sha256(data)
        # A multipart object: its parts are separate RADOS objects that must all survive.
        data = payload(rng, 12 * MiB, 12 * MiB)
        s3.upload_fileobj(io.BytesIO(data), bucket, "ledger/multipart", Config=TransferConfig(
            multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, use_threads=False))
        objects["ledger/multipart"] = sha256(data)
        return {"uid": uid, "endpoint": endpoint, "bucket": bucket, "count": len(objects), "objects": objects}

    def verify(self, record, findings):
        s3 = self._client(record["uid"], record["endpoint"])
        bucket = record["bucket"]
        for key, expected in sorted(record["objects"].items()):
            try:
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            except botocore.exceptions.ClientError as exc:
                code, status = error_code(exc)
                if code in ("NoSuchKey", "NoSuchBucket"):
                    findings.missing.append(key)
                else:
                    findings.unreadable.append(f"{key} (HTTP {status} {code})")
            except (botocore.exceptions.BotoCoreError, OSError) as exc:
                findings.unreadable.append(f"{key} ({type(exc).__name__}: {exc})")
            else:
                if sha256(body) != expected:
                    findings.changed.append(key)
            findings.checked += 1

    def where(self, record):
        return f"bucket {record['bucket']}"

    def describe(self, record):
        return f"{record['count']} S3 objects in bucket {record['bucket']}"
