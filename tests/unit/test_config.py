from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from headrace import config, defaults, errors, logconfig


def test_job_logger_section_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    log_file = tmp_path / "logs" / "job.log"
    path.write_text(
        "job_logger:\n"
        '  console_level: "warning"\n'
        '  file_level: "debug"\n'
        f'  file: "{log_file}"\n'
        "  max_size_mb: 1\n"
        "  max_backups: 2\n"
        "  max_age_days: 7\n"
        "queues:\n  gpu: 2\n"
    )
    settings = config.load(path)
    seed_004 = {"compute": 1, "maintenance": 5, "download": 10}
    pipelines = {"pipelines": defaults.QUEUES["pipelines"], "streams": defaults.QUEUES["streams"]}
    assert settings.queues == {**seed_004, **pipelines, "gpu": 2}
    logger = logconfig.configure(settings.job_logger)
    try:
        logger.debug("a debug line")
        for handler in logger.handlers:
            handler.flush()
        assert "a debug line" in log_file.read_text()
        ours = [h for h in logger.handlers if getattr(h, "headrace", False)]
        file_handler = next(h for h in ours if isinstance(h, logconfig.AgingRotatingFileHandler))
        console = next(h for h in ours if not isinstance(h, logconfig.AgingRotatingFileHandler))
        assert file_handler.maxBytes == 1024 * 1024 and file_handler.backupCount == 2
        assert console.level == logging.WARNING and file_handler.level == logging.DEBUG
    finally:
        logconfig.configure(config.JobLoggerSettings())


def test_old_backups_are_pruned(tmp_path: Path) -> None:
    base = tmp_path / "job.log"
    old = tmp_path / "job.log.1"
    old.write_text("old")
    ancient = time.time() - 10 * 86400
    os.utime(old, (ancient, ancient))
    fresh = tmp_path / "job.log.2"
    fresh.write_text("fresh")
    handler = logconfig.AgingRotatingFileHandler(str(base), 1000, 3, 7)
    handler.close()
    assert not old.exists() and fresh.exists()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("job_logger:\n  console_level: loud\n", "job_logger.console_level"),
        ("job_logger:\n  max_size_mb: 0\n", "job_logger.max_size_mb"),
        ("queues:\n  compute: 0\n", "queues"),
        ("prefetch: -1\n", "prefetch"),
        ("prefetch: many\n", "prefetch"),
        ("prefetch: true\n", "prefetch"),
        ("prefetch: 1.5\n", "prefetch"),
        ("colour: blue\n", "colour"),
    ],
)
def test_bad_settings_name_the_setting(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(errors.InvalidInput) as info:
        config.load(path)
    assert where in info.value.field


def test_labels_are_read_and_must_be_a_list(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("labels: [gpu, eu]\n")
    assert config.load(path).labels == ["gpu", "eu"]  # checked where a worker takes them
    path.write_text("store: sqlite:///x.db\n")
    assert config.load(path).labels == []
    path.write_text("labels: gpu\n")
    with pytest.raises(errors.InvalidInput) as caught:
        config.load(path)
    assert caught.value.field == f"{path}: labels"


def test_prefetch_is_read_and_defaults_to_auto(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("store: sqlite:///x.db\n")
    assert config.load(path).prefetch == "auto"
    path.write_text("prefetch: 8\n")
    assert config.load(path).prefetch == 8
    path.write_text("prefetch: 0\n")
    assert config.load(path).prefetch == 0
    path.write_text("prefetch: auto\n")
    assert config.load(path).prefetch == "auto"


def test_the_settings_and_the_files_models_agree_field_for_field(tmp_path: Path) -> None:
    # Without a file the settings are dataclasses (no pydantic); a file is checked by
    # config_file's models: the same fields, and an empty file reads as the defaults.
    from dataclasses import fields

    from headrace import config_file

    pairs = [
        (config.Settings, config_file.SettingsFile),
        (config.JobLoggerSettings, config_file.JobLoggerSection),
        (config.ServerSettings, config_file.ServerSection),
    ]
    for settings, model in pairs:
        assert [f.name for f in fields(settings)] == list(model.model_fields)
    path = tmp_path / "config.yaml"
    path.write_text("")
    assert config.load(path) == config.Settings()
    path.write_text(
        "store: sqlite:///x.db\nlabels: [gpu]\nprefetch: 4\n"
        "server:\n  port: 9000\n  imports: [jobs]\njob_logger:\n  max_backups: 5\n"
    )
    assert config.load(path) == config.Settings(
        store="sqlite:///x.db",
        labels=["gpu"],
        prefetch=4,
        server=config.ServerSettings(port=9000, imports=["jobs"]),
        job_logger=config.JobLoggerSettings(max_backups=5),
    )
