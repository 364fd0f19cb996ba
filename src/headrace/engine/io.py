"""Picks the connector that reads or writes each source and sink descriptor."""

from __future__ import annotations

from headrace.connectors import base, files, memory
from headrace.pipeline import FileSink, FileSource, SinkDescriptor, SourceDescriptor

__all__ = ["sink_connector", "source_connector"]


def source_connector(desc: SourceDescriptor) -> base.SourceConnector:
    """The connector that reads ``desc``."""
    if isinstance(desc, FileSource):
        return files.FileSourceConnector(desc)
    found = memory.source_connector(desc)
    if found is None:
        msg = f"no connector reads {type(desc).__name__}"
        raise TypeError(msg)
    return found


def sink_connector(desc: SinkDescriptor) -> base.SinkConnector:
    """The connector that writes ``desc``."""
    if isinstance(desc, FileSink):
        return files.FileSinkConnector(desc)
    found = memory.sink_connector(desc)
    if found is None:
        msg = f"no connector writes {type(desc).__name__}"
        raise TypeError(msg)
    return found
