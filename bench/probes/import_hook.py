"""Shared by the probes' ``sitecustomize`` files: run a function on a module once it loaded.

A probe is a start-up hook, not code in Headrace: put on ``PYTHONPATH``, its
``sitecustomize`` imports this file (from the folder above it) and asks for its patch to
be applied when the module it measures is first imported.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any


class _Hook(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loaders of its targets to patch them after they run."""

    def __init__(self, targets: dict[str, Callable[[Any], None]]) -> None:
        self.targets = dict(targets)

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        install = self.targets.pop(name, None)
        if install is None:
            return None
        if not self.targets:
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            install(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def after_import(targets: dict[str, Callable[[Any], None]]) -> None:
    """Call ``targets[name](module)`` right after each named module is first imported."""
    sys.meta_path.insert(0, _Hook(targets))
