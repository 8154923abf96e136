"""The container files stay true to the code: no Docker engine runs where the tests run, so
what can be checked without one is checked here: every file the Dockerfile copies exists,
every setting compose.yaml passes is one the bot reads, and every command it runs is one the
command line accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.cli import build_parser
from bot.settings import Settings
from tests.helpers import unavailable

ROOT = Path(__file__).resolve().parent.parent
OURS = re.compile(r"^(MATURITY|SLACK|TELEGRAM)_")


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))


def test_every_file_the_dockerfile_copies_is_in_the_project():
    sources = []
    for line in (ROOT / "Dockerfile").read_text("utf-8").splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += line.split()[1:-1]
    assert sources, "the Dockerfile copies the package"
    for source in sources:
        assert (ROOT / source).exists(), source


def test_the_image_installs_what_the_package_declares():
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    assert "pip wheel" in dockerfile and "pip install" in dockerfile
    assert re.search(r"^USER (?!root)", dockerfile, flags=re.M), "runs as an unprivileged user"
    assert 'ENTRYPOINT ["maturity-bot"]' in dockerfile


@pytest.mark.parametrize("name", list(compose()["services"]))
def test_every_setting_compose_passes_is_one_the_bot_reads(name):
    service = compose()["services"][name]
    known = {field.upper() for field in Settings.model_fields}
    for variable in service.get("environment") or {}:
        if OURS.match(variable):
            assert variable in known, f"{name}: {variable} is not a setting"


@pytest.mark.parametrize("name", ["migrate", "slack"])
def test_every_command_compose_runs_is_one_the_command_line_accepts(name):
    command = compose()["services"][name]["command"]
    args = build_parser().parse_args(command)
    assert args.command == command[0]


def test_the_workers_share_one_postgresql_database():
    services = compose()["services"]
    urls = {services[name]["environment"]["MATURITY_DB"] for name in ("migrate", "slack")}
    assert len(urls) == 1 and next(iter(urls)).startswith("postgresql://")
    assert "--workers" in services["slack"]["command"]


def test_a_missing_server_or_browser_fails_in_ci_and_only_skips_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI needs it: no server"):
        unavailable("no server")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no server"):
        unavailable("no server")
