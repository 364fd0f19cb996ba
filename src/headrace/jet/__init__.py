"""The Hazelcast Jet facade (seeds 000, 001): ``headrace.jet.pipeline``, ``headrace.jet.job``."""
