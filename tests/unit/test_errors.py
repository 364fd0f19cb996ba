"""Headrace's errors pickle whole: what a worker process raises reaches the caller as itself."""

from __future__ import annotations

import pickle

from headrace import errors


def test_errors_with_their_own_arguments_survive_pickle() -> None:
    raised = [
        errors.InvalidInput("value", "Lock cannot be pickled"),
        errors.PipelineDefinitionError("map#1", "no source"),
        errors.NotFound("job", "j-1"),
        errors.IllegalTransition("j-1", "COMPLETED", "suspend", "finished"),
        errors.JobStopped("restart", "auto-scaling"),
        errors.NotSupported("split brain", 7, "later"),
        errors.Conflict("taken"),
        errors.StoreClosed("sqlite:///x.db"),
    ]
    for error in raised:
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error)
        assert str(back) == str(error) and back.args == error.args
        assert vars(back) == vars(error)
    assert pickle.loads(pickle.dumps(raised[0])).field == "value"
