"""The data-plane seam: what checks, fixtures and the ledger use to reach the cluster's storage.

Each capability is a small service object a target hands out (targets/base.py). The checks are
written against these interfaces only, so a target (host clients, Kubernetes pods) is added
without editing a check, a fixture or a ledger part.
"""
