r"""The Pipeline definition API: frozen, picklable descriptions of dataflows; no execution.

Example:
    >>> from headrace.pipeline import Pipeline
    >>> p = Pipeline.create()
    >>> p.read_from(Pipeline.from_list("numbers", [1, 2, 3, 4, 5])) \
    ...     .map(lambda x: x * 2).filter(lambda x: x > 4) \
    ...     .write_to(Pipeline.to_list("results"))
    >>> p.validate()
"""

from __future__ import annotations

from headrace.pipeline.aggregate import (
    AggregateOperation,
    all_of,
    averaging,
    counting,
    from_accumulator,
    max_by,
    min_by,
    summing,
    to_list,
    to_set,
)
from headrace.pipeline.node import Node
from headrace.pipeline.parameters import Parameter
from headrace.pipeline.pipeline import NameResolver, Pipeline
from headrace.pipeline.sinks import (
    CallableSink,
    FileSink,
    ListSink,
    LoggerSink,
    MapSink,
    SinkDescriptor,
    StreamSink,
)
from headrace.pipeline.sources import (
    FileSource,
    GeneratorSource,
    ItemsSource,
    ListSource,
    MapSource,
    SourceDescriptor,
    StreamSource,
)
from headrace.pipeline.stage import GroupedStage, GroupedWindowStage, Stage, WindowedStage
from headrace.pipeline.window import WindowDefinition, session, sliding, tumbling

__all__ = [
    "AggregateOperation",
    "CallableSink",
    "FileSink",
    "FileSource",
    "GeneratorSource",
    "GroupedStage",
    "GroupedWindowStage",
    "ItemsSource",
    "ListSink",
    "ListSource",
    "LoggerSink",
    "MapSink",
    "MapSource",
    "NameResolver",
    "Node",
    "Parameter",
    "Pipeline",
    "SinkDescriptor",
    "SourceDescriptor",
    "Stage",
    "StreamSink",
    "StreamSource",
    "WindowDefinition",
    "WindowedStage",
    "all_of",
    "averaging",
    "counting",
    "from_accumulator",
    "max_by",
    "min_by",
    "session",
    "sliding",
    "summing",
    "to_list",
    "to_set",
    "tumbling",
]
