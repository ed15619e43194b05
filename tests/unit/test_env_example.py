""".env.example tells the truth about the settings config.py reads.

Owners copy it and read it as the list of what can be set. Its two kinds of line:

    NAME=value     the default, written out: setting it changes nothing
    # NAME=value   off or derived unless set (empty = default); the value is an example

Every variable `load_settings` reads is listed, and nothing else is.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from dotenv import dotenv_values

from kiosk.config import PROJECT_ROOT, load_settings

ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
_COMMENTED = re.compile(r"^#\s?([A-Z][A-Z0-9_]*)=(.*)$")


def _active() -> dict[str, str]:
    return {name: value or "" for name, value in dotenv_values(ENV_EXAMPLE).items()}


def _commented() -> dict[str, str]:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    return {m[1]: m[2] for m in map(_COMMENTED.match, lines) if m}


class RecordingEnvironment(dict[str, str]):
    """Stands in for os.environ: holds the given values and notes every name asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


class Settings:
    """load_settings with nothing in the environment but the given values."""

    def __init__(self, instance: Path) -> None:
        self.instance = instance
        self.asked: set[str] = set()

    def __call__(self, **values: str) -> dict[str, Any]:
        environment = RecordingEnvironment(values)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(os, "environ", environment)
            try:
                return load_settings(self.instance)
            finally:
                self.asked |= environment.asked


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(tmp_path)


def test_every_variable_config_reads_is_listed_and_nothing_else(settings: Settings) -> None:
    listed = _active() | _commented()
    settings()
    settings(**{name: value for name, value in listed.items() if value})

    assert sorted(settings.asked - listed.keys()) == [], "read by config.py, not in .env.example"
    assert sorted(listed.keys() - settings.asked) == [], "in .env.example, not read by config.py"


def test_every_value_written_out_is_the_real_default(settings: Settings) -> None:
    default = settings()

    active = _active().items()
    wrong = [f"{name}={value}" for name, value in active if settings(**{name: value}) != default]

    assert wrong == []


def test_every_setting_left_commented_out_defaults_to_empty(settings: Settings) -> None:
    default = settings()

    written_out_elsewhere = [name for name in _commented() if settings(**{name: ""}) != default]

    assert written_out_elsewhere == [], "its default is a value: write it out, uncommented"


def test_every_example_value_is_accepted(settings: Settings) -> None:
    for name, example in _commented().items():
        settings(**{name: example})
