"""The watsonx facade's Response: what scripts test of a ``requests.Response``."""

from __future__ import annotations

from headrace.platform import Response


def test_response_has_status_code_json_and_repr() -> None:
    ok = Response(200, {"metadata": {"name": "New name"}})
    assert repr(ok) == "<Response [200]>" and ok.status_code == 200 and ok.ok
    assert ok.json()["metadata"]["name"] == "New name"
    ok.raise_for_status()  # nothing to raise: a failed call raised already
    gone = Response(204, {"job_id": "j"})
    assert repr(gone) == "<Response [204]>" and gone.json() == {"job_id": "j"}
    assert not Response(409).ok
