"""The README's Python examples, run exactly as printed, each in a fresh folder.

A block that goes on from the one before it (it uses that block's ``client`` without
making one) runs after it, in the same script, as a reader would paste them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```$", README.read_text(), flags=re.M | re.S)


def scripts() -> list[str]:
    """Each block, or a block with the ones it continues before it."""
    found: list[str] = []
    for block in BLOCKS:
        continues = "client" in block and not re.search(r"^client = ", block, flags=re.M)
        found.append(found[-1] + "\n" + block if continues and found else block)
    return found


def test_the_readme_has_its_examples() -> None:
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("script", scripts(), ids=lambda s: s.split("\n", 1)[0][:40])
def test_a_readme_example_runs_as_printed(script: str, tmp_path: Path) -> None:
    (tmp_path / "example.py").write_text(script)
    done = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
