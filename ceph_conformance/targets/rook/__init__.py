"""The Rook layer shared by the Kubernetes targets (kind, vagrant, kubeconfig): Rook's release
manifests patched for the run, the run's storage and apps, deploy and bounded waits, the toolbox
as the Ceph tool executor, the object store through Rook's users and bucket claims, logs, teardown
by the run's label."""
