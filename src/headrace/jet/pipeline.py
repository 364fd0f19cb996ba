"""``hazelcast.jet.pipeline`` under Headrace's name: the Pipeline API of seed 001."""

from headrace.pipeline import *  # noqa: F403 - the facade is exactly the Pipeline API
from headrace.pipeline import __all__ as __all__
