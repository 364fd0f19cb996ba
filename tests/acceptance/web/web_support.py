"""What the dashboard tests share with their fixtures: the running server's handle."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).parent


@dataclass
class Served:
    """The running server, its store and the tokens of two tenants."""

    url: str
    store_url: str
    proc: subprocess.Popen[bytes]
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)
    tenant_ids: dict[str, str] = field(default_factory=dict)
    store_name: str = ""

    def http(self, role: str = "operator") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def output(self) -> str:
        return self.log.read_text(errors="replace")
