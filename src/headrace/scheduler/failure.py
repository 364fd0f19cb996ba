"""A failed attempt's error as its user reads it: the user's own frames first, by file and line.

A traceback of a job shows Headrace's runner frames before the user's, and a pipeline's
crosses processes as text. ``describe`` puts in front the exception line and the frames
of the user's own code (not Headrace's, not the standard library's or installed
packages'), innermost first, each as ``file:line in function`` with its source line; the
whole traceback follows.
"""

from __future__ import annotations

import os
import re
import sysconfig
from pathlib import Path
from typing import NamedTuple

#: A frame line of a formatted traceback.
FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>.+)$')

#: Where code that is not the user's lives: Headrace, the standard library, packages.
NOT_USERS = tuple(
    os.path.abspath(p) + os.sep
    for p in {
        str(Path(__file__).resolve().parent.parent),
        *(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")),
    }
)


class Frame(NamedTuple):
    """One frame of the user's code in a traceback."""

    file: str
    line: int
    function: str
    source: str


def user_frames(text: str) -> list[Frame]:
    """The user's frames in a formatted traceback (chained ones too), innermost first."""
    lines = text.splitlines()
    found: list[Frame] = []
    for i, line in enumerate(lines):
        match = FRAME.match(line)
        if match is None or not is_users(match["file"]):
            continue
        after = lines[i + 1] if i + 1 < len(lines) else ""
        source = after.strip() if after.startswith("    ") and not FRAME.match(after) else ""
        frame = Frame(match["file"], int(match["line"]), match["func"], source)
        if frame not in found:
            found.append(frame)
    return found[::-1]


def is_users(file: str) -> bool:
    """Whether a traceback's file is the user's code (a real file outside libraries)."""
    if file.startswith("<"):
        return False
    return not os.path.abspath(file).startswith(NOT_USERS)


def headline(text: str) -> str:
    """The exception line of a formatted traceback (its last unindented line)."""
    for line in reversed(text.splitlines()):
        if line and not line.startswith((" ", "Traceback", "During handling", "The above")):
            return line
    return text.strip()[:200]


def describe(text: str, limit: int) -> str:
    """The error text kept for a failed attempt: headline, user frames, whole traceback.

    At most ``limit`` characters: the traceback's oldest part goes first.
    """
    head = [headline(text)]
    for frame in user_frames(text):
        head.append(f"  at {frame.file}:{frame.line} in {frame.function}")
        if frame.source:
            head.append(f"      {frame.source}")
    top = "\n".join(head) + "\n\n"
    return top + text[-max(0, limit - len(top)) :]


def summary(text: str) -> str:
    """One line for an event's reason: the exception and the innermost user frame."""
    frames = user_frames(text)
    where = f" (at {frames[0].file}:{frames[0].line})" if frames else ""
    return headline(text)[:300] + where
