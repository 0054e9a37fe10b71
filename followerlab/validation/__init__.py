"""Validating the Raft model against a real etcd cluster with injected latency (issue 7)."""
