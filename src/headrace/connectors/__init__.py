"""Sources and sinks: what reading and writing a pipeline's data does."""
