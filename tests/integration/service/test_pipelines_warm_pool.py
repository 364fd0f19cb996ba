"""An embedded client starts the engine's worker processes ahead, and its runs use them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from child_path import child_pythonpath
from headrace import Client, defaults
from headrace.engine.executors import pool as pools
from headrace.jet.pipeline import Pipeline, counting

LINES = ["a b", "b c c", "d"] * 30


def _word_count(name: str) -> Pipeline:
    p = Pipeline.create()
    p.read_from(Pipeline.items(LINES)).flat_map(str.split).group_by(lambda w: w).aggregate(
        counting()
    ).write_to(Pipeline.to_map(name))
    return p


def test_a_client_starts_engine_workers_that_its_first_parallel_run_uses(
    store_url: str,
) -> None:
    pools.shutdown()
    client = Client(store_url, run_workers=False)
    try:
        warmed = pools.idle()
        assert warmed is not None
        assert len(warmed.procs) == defaults.WARM_POOL_WORKERS
        pids = [p.pid for p in warmed.procs]
        client.run(_word_count("counts"), 2)
        after = pools.idle()
        assert after is not None and [p.pid for p in after.procs] == pids
        counts = Counter(w for line in LINES for w in line.split())
        assert client.get_map("counts").to_dict() == dict(counts)
    finally:
        client.close()
        pools.shutdown()


def test_warm_pool_false_starts_no_workers(store_url: str) -> None:
    pools.shutdown()
    client = Client(store_url, run_workers=False, warm_pool=False)
    try:
        assert pools.idle() is None
        client.run(_word_count("counts"), 2)  # the run starts its pool itself
        assert pools.idle() is not None
        assert client.get_map("counts").get("c") == 60
    finally:
        client.close()
        pools.shutdown()


def test_a_store_provider_travels_as_a_light_reference_that_opens_on_use(
    store_url: str,
) -> None:
    import pickle
    import subprocess
    import sys

    from headrace.service.data import StoreProvider
    from headrace.service.provider_ref import StoreProviderRef

    client = Client(store_url, run_workers=False, warm_pool=False)
    try:
        client.get_list("kept").extend([1, 2])
        ref = pickle.loads(pickle.dumps(StoreProvider(client.store, client.scope.tenant_id)))
        assert isinstance(ref, StoreProviderRef)
        assert ref.has_list("kept") and not ref.has_map("kept")
        assert ref.get_list("kept").to_list() == [1, 2]
        assert isinstance(pickle.loads(pickle.dumps(ref)), StoreProviderRef)
        ref.provider().store.close()  # the reference's own connections
    finally:
        client.close()
    # What the engine's fork server imports for it leaves the store out.
    probe = (
        "import sys, headrace.service.provider_ref; "
        "sys.exit('sqlalchemy' in sys.modules or 'headrace.service.data' in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)


def test_a_script_that_ends_while_the_pool_starts_leaves_no_error_behind(tmp_path: Path) -> None:
    # The fork server imports the preloaded module for a second, so the script ends while
    # its pool's children still start. Multiprocessing's exit handler used to remove the
    # queues' semaphores under them, and each printed a FileNotFoundError traceback after
    # the script had already exited 0.
    (tmp_path / "slow_import.py").write_text("import time\ntime.sleep(1.0)\n")
    script = (
        "from headrace.engine.executors import pool\n"
        "pool.warm(2, ['slow_import'])\n"
        "import time; time.sleep(0.2)\n"
    )
    err = tmp_path / "stderr.txt"
    with err.open("w") as sink:
        child = subprocess.Popen(
            [sys.executable, "-c", script],
            stderr=sink,
            env={**os.environ, "PYTHONPATH": child_pythonpath(tmp_path)},
            start_new_session=True,
        )
        assert child.wait(60) == 0
    deadline = time.monotonic() + 30
    while _group_alive(child.pid):  # the script's children write after it has gone
        assert time.monotonic() < deadline, "the script's children outlived it"
        time.sleep(0.05)
    assert "Traceback" not in err.read_text(), err.read_text()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
