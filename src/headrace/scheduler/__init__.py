"""Job types, queues and workers: claiming, leases, heartbeats, retries, timeouts."""
