"""Compiles a fused chain of stateless stages into one Python loop over a micro-batch.

The generated function calls the user's functions directly (bound as locals): no
queue, no per-item object, no dispatch between stages. Per-stage counters are bumped only
where an item leaves the straight path (a filter drops it, a flat_map multiplies it, it
is late), and not even there for the last such stage, whose count follows from the
output's length; a failing stage is found from the traceback's line number, so success
costs nothing.

A :class:`Tail` fuses the keying step of the vertex's only output edge into the loop:
the chain then emits keys, ``(key, item)`` pairs or the keys of tumbling windows
instead of items and a parallel list of event times. Window keys come with the runs of
consecutive items that share a window start (event times mostly grow, so a batch holds
a few runs): the loop builds no ``(window_start, key)`` tuple per item, and the
receiver pairs starts and keys again at C speed (``FixedWindows.add_runs``). A
flat_map that ends a plain chain extends the output list with its result (one C call
per input item instead of a Python iteration per output item).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from headrace.engine.errors import UserFunctionError, short_repr
from headrace.pipeline import Node

__all__ = ["CompiledChain", "Tail", "compile_chain"]

#: Function type of a compiled chain: (items, timestamps or None, split time state)
#: -> (output, extra, per-stage counters); see :class:`Tail` for output and extra.
ChainFn = Callable[
    [Sequence[Any], Sequence[int] | None, list[int]], tuple[list[Any], Any, list[int]]
]


@dataclass(frozen=True)
class Tail:
    """What the fused loop emits per surviving item, and what ``extra`` then is.

    ``items``: the item (extra: event times, or None). ``keys``: ``key_fn(item)`` only,
    for a combine that counts (extra: None). ``pairs``: ``(key_fn(item), item)`` (extra:
    event times or None). ``slots``: ``key_fn(item)``, None without ``key_fn``, in the
    window starting at ``t - t % size`` (extra: ``(items or None, starts, positions)``:
    the output from ``positions[i]`` on, up to the next position, is in the window
    starting at ``starts[i]``; the items only with ``values``). ``stage`` names the key
    function in errors.
    """

    kind: Literal["items", "keys", "pairs", "slots"] = "items"
    key_fn: Callable[[Any], Any] | None = None
    stage: str = ""
    size: int = 0
    values: bool = False


ITEMS = Tail()
#: Stage kinds that change how many items go on (a filter, a flat_map, late items).
_COUNTING = ("filter", "flat_map", "timestamps")


class CompiledChain:
    """A fused chain: ``run(items, ts, time_state)`` and the stage names it covers."""

    def __init__(self, nodes: Sequence[Node], timed_input: bool, tail: Tail = ITEMS) -> None:
        self.nodes = tuple(nodes)
        self.timed_input = timed_input
        self.tail = tail if self.nodes else ITEMS
        self.run: ChainFn
        self._line_stage: dict[int, int] = {}
        self._code: Any = None
        if not self.nodes:
            self.run = _passthrough
            return
        source, env = self._generate()
        namespace: dict[str, Any] = dict(env)
        exec(compile(source, f"<headrace chain {self.nodes[0].name}>", "exec"), namespace)
        self.run = namespace["chain"]
        self._code = self.run.__code__

    def counts_to_emitted(self, received: int, counters: list[int]) -> list[int]:
        """Items emitted by each stage, from the chain's input size and its counters."""
        out: list[int] = []
        n = received
        for node, c in zip(self.nodes, counters, strict=True):
            if node.kind == "flat_map":
                n = c
            elif node.kind in ("filter", "timestamps"):
                n -= c
            out.append(n)
        return out

    def _generate(self) -> tuple[str, dict[str, Any]]:
        env: dict[str, Any] = {"_fail": self._fail}
        timed = self.timed_input or any(n.kind == "timestamps" for n in self.nodes)
        tail = self.tail
        if tail.kind == "slots" and not timed:  # pragma: no cover - the planner's promise
            msg = "window slots need event times"
            raise ValueError(msg)
        k = len(self.nodes)
        # A flat_map ending a plain chain extends the output with its whole result.
        extend = tail.kind == "items" and not timed and self.nodes[-1].kind == "flat_map"
        emit_ts = timed and tail.kind in ("items", "pairs")
        # Only map and peek follow the last stage that changes the count, and the tail
        # emits once per item: that stage's counter is derived from len(out) at the end.
        last = max((i for i, n in enumerate(self.nodes) if n.kind in _COUNTING), default=-1)
        bound = ", ".join([*(f"f{i}=f{i}" for i in range(k)), "KF=KF", "SIZE=SIZE"])
        lines = [
            f"def chain(items, ts, tstate, *, {bound}):",
            "    out = []; app = out.append; ext = out.extend",
            "    ots = [] if EMIT_TS else None",
            "    tapp = ots.append if ots is not None else None",
            "    vals = [] if VALUES else None",
            "    vapp = vals.append if vals is not None else None",
            *[f"    c{i} = 0" for i in range(k)],
            "    mx = tstate[0]; low = mx - LAG",
            "    starts = []; positions = []; cur = None",
            "    v = t = None",
            "    try:",
        ]
        env["EMIT_TS"] = emit_ts
        env["VALUES"] = tail.kind == "slots" and tail.values
        env["KF"] = tail.key_fn
        env["SIZE"] = tail.size
        lag = next((n.lag_ms for n in self.nodes if n.kind == "timestamps"), 0)
        env["LAG"] = lag
        if self.timed_input:
            lines.append("        for v, t in zip(items, ts):")
        else:
            lines.append("        for v in items:")
        ind = " " * 12
        for i, node in enumerate(self.nodes):
            env[f"f{i}"] = node.fn
            start = len(lines) + 1
            if extend and i == k - 1:
                lines.append(f"{ind}ext(f{i}(v))")
            else:
                ind = self._emit_stage(lines, node, i, ind, count=i != last)
            for ln in range(start, len(lines) + 1):
                self._line_stage[ln] = i
        start = len(lines) + 1
        if not extend:
            lines += [ind + ln for ln in _tail_lines(tail)]
        for ln in range(start, len(lines) + 1):
            self._line_stage[ln] = k  # the key function: named after the next stage
        if emit_ts:
            lines.append(f"{ind}tapp(t)")
        counters = [f"c{i}" for i in range(k)]
        if last >= 0:
            counters[last] = self._derived_count(last)
        extra = "(vals, starts, positions)" if tail.kind == "slots" else "ots"
        lines += [
            "    except Exception as exc:",
            "        _fail(exc, v)",
            "    tstate[0] = mx",
            f"    return out, {extra}, [{', '.join(counters)}]",
        ]
        return "\n".join(lines) + "\n", env

    def _derived_count(self, last: int) -> str:
        """The expression for stage ``last``'s counter, from the input and output sizes."""
        if self.nodes[last].kind == "flat_map":
            return "len(out)"
        received = "len(items)"  # what reaches stage ``last``: earlier counters say
        for j in range(last):
            kind = self.nodes[j].kind
            if kind == "flat_map":
                received = f"c{j}"
            elif kind in _COUNTING:
                received = f"({received} - c{j})"
        return f"{received} - len(out)"

    @staticmethod
    def _emit_stage(lines: list[str], node: Node, i: int, ind: str, count: bool = True) -> str:
        kind = node.kind
        bump = f"c{i} += 1; " if count else ""
        if kind == "map":
            lines.append(f"{ind}v = f{i}(v)")
        elif kind == "filter":
            lines.append(f"{ind}if not f{i}(v):")
            lines.append(f"{ind}    {bump}continue")
        elif kind == "peek":
            lines.append(f"{ind}f{i}(v)")
        elif kind == "flat_map":
            lines.append(f"{ind}for v in f{i}(v):")
            ind += "    "
            if count:
                lines.append(f"{ind}c{i} += 1")
        elif kind == "timestamps":
            lines.append(f"{ind}t = f{i}(v)")
            lines.append(f"{ind}if t < low:")
            lines.append(f"{ind}    {bump}continue")
            lines.append(f"{ind}if t > mx:")
            lines.append(f"{ind}    mx = t; low = t - LAG")
        else:  # pragma: no cover - the planner fuses only the kinds above
            msg = f"cannot fuse {kind}"
            raise ValueError(msg)
        return ind

    def _fail(self, exc: Exception, item: object) -> None:
        stage = 0
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code is self._code:
                stage = self._line_stage.get(tb.tb_lineno, stage)
            tb = tb.tb_next
        text = "".join(traceback.format_exception(exc))
        name = self.nodes[stage].name if stage < len(self.nodes) else self.tail.stage
        raise UserFunctionError(
            name, short_repr(item), text, f"{type(exc).__name__}: {exc}"
        ) from exc


def _tail_lines(tail: Tail) -> list[str]:
    """The loop's last lines: how a surviving item ``v`` (at time ``t``) is emitted."""
    key = "KF(v)" if tail.key_fn is not None else "None"
    if tail.kind == "items":
        return ["app(v)"]
    if tail.kind == "keys":
        return [f"app({key})"]
    if tail.kind == "pairs":
        return [f"app(({key}, v))"]
    return [
        "s = t - t % SIZE",
        "if s != cur:",  # a new run: its window start and where it begins in ``out``
        "    cur = s; starts.append(s); positions.append(len(out))",
        f"app({key})",
        *(["vapp(v)"] if tail.values else []),
    ]


def _passthrough(
    items: Sequence[Any], ts: Sequence[int] | None, tstate: list[int]
) -> tuple[list[Any], Any, list[int]]:
    return items if isinstance(items, list) else list(items), ts, []


def compile_chain(nodes: Sequence[Node], timed_input: bool, tail: Tail = ITEMS) -> CompiledChain:
    r"""Compiles ``nodes`` (stateless, in order) into one loop.

    ``timed_input`` says whether items arrive with event times; ``tail`` what the loop
    emits (items by default).

    Example:
        >>> from headrace.pipeline import Pipeline
        >>> p = Pipeline.create()
        >>> p.read_from(Pipeline.items([1])).map(lambda x: x * 2).filter(lambda x: x > 2) \
        ...     .write_to(Pipeline.to_list("o"))
        >>> ch = compile_chain(p.nodes[1:3], timed_input=False)
        >>> ch.run([1, 2, 3], None, [0])[:2]
        ([4, 6], None)
    """
    return CompiledChain(nodes, timed_input, tail)
