"""Executors: in-process and worker processes."""
