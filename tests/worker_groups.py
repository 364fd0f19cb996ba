"""Which tests must share one xdist worker, and the scheduler that keeps them together.

``./dev test`` runs the suite on several xdist workers with ``--dist loadgroup``: every
test is a unit of its own, handed to whichever worker is free, except the tests of a
group here, which go to one worker as one unit and run there one after another.

A group is kept for tests that use something of the whole machine or of a session:

- ``web+netns``: the dashboard's tests share one Chromium and one server per store, and
  empty and fill one artefacts folder; the network fault tests make namespaces, veth pairs
  and nftables tables whose names and subnets come from the pid, and they time their
  links. The two run one after the other in one worker: a veth pair made or removed while
  a page loads is a network change to Chromium, which aborts the page's requests
  (``net::ERR_NETWORK_CHANGED``) and leaves the dashboard at "Loading the dashboard…"
  (three web tests were stuck at that text in two CI runs on 2026-12-06; the one whose
  tab recorded its errors showed ``ERR_NETWORK_CHANGED`` for the dashboard's modules);
- ``ray``: the tests of the session's Ray cluster (one cluster of two CPUs, started
  once, rather than one per worker);
- a module with a module- or class-scoped fixture (a server started once for the
  module): spread over workers, each worker would start it again, and again after each
  test of another module in between.

xdist's own ``xdist_group`` mark is not used: it travels as a suffix of the test's node
id, which pytest 9.2 no longer lets a plugin change (pytest-xdist issue 1386), so the
mark is silently ignored. The groups are named here by path instead, and
``check_grouped`` fails the collection of a test that needs a group and has none.
"""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadGroupScheduling

#: Path prefixes (a module or a folder, from the rootdir) and their group.
GROUPS = {
    "tests/acceptance/test_network_faults.py": "web+netns",
    "tests/acceptance/web/": "web+netns",
    "tests/unit/engine/test_engine_ray.py": "ray",
    "tests/integration/service/test_pipelines_ray.py": "ray",
    "tests/acceptance/test_cli_server.py": "tests/acceptance/test_cli_server.py",
    "tests/integration/api/test_api_poison.py": "tests/integration/api/test_api_poison.py",
}


def group_of(nodeid: str) -> str | None:
    """The group of the test ``nodeid``, if it has one."""
    path = nodeid.split("::", 1)[0]
    return next((g for prefix, g in GROUPS.items() if path.startswith(prefix)), None)


def needs_group(item: pytest.Item) -> str | None:
    """Why ``item`` must run in a group, if it must: the fixture that makes it."""
    if "ray_cluster" in item.fixturenames:
        return "it uses the session's Ray cluster (ray_cluster)"
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    for name, defs in info.name2fixturedefs.items():
        if any(d.scope in ("module", "class") for d in defs):
            return f"its fixture {name} is module- or class-scoped"
    return None


def check_grouped(items: list[pytest.Item]) -> None:
    """Fail the collection if a test that needs a group (``needs_group``) has none."""
    missing = [
        f"{item.nodeid}: {why}"
        for item in items
        if group_of(item.nodeid) is None and (why := needs_group(item)) is not None
    ]
    if missing:
        raise pytest.UsageError(
            "tests/worker_groups.py: these tests must share a worker; add their module to "
            "GROUPS:\n  " + "\n  ".join(missing)
        )


class GroupScheduling(LoadGroupScheduling):
    """``loadgroup`` with the groups of ``GROUPS``; any other test is a unit of its own."""

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid) or super()._split_scope(nodeid)
