"""Harness library of the Ceph conformance suite: targets, clients, waits, health gate, reports."""
