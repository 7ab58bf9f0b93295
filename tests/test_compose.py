"""docker-compose.yml wires Redis, the API and scalable workers together (Docker cannot run here)."""

from __future__ import annotations

import re
import shlex
from typing import Any

import click
import pytest
import yaml

from service.cli import main
from service.config import DEFAULTS, SETTINGS
from support.fixtures_api import REPO


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def as_list(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def parse_cli(command: list[str]) -> click.Context:
    """Parse a ``claimwire`` command line as the CLI would, without running it."""
    assert command[0] == "claimwire"
    name, *args = command[1:]
    assert name in main.commands, f"no command {name!r} in the CLI"
    return main.commands[name].make_context(name, args)


def test_redis_persists_with_aof_never_evicts_and_reports_health(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    assert redis["image"].startswith("redis:")
    command = " ".join(as_list(redis["command"]))
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command
    assert f"--maxmemory ${{CLAIMWIRE_REDIS_MAXMEMORY:-{DEFAULTS.redis_maxmemory}}}" in command
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    assert as_list(redis["healthcheck"]["test"])[1:] == ["redis-cli", "ping"]


@pytest.mark.parametrize("name", ["api", "worker"])
def test_api_and_worker_share_the_configuration_and_wait_for_a_healthy_redis(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    assert set(service["environment"]) == {declared.env for declared in SETTINGS if declared.compose}
    assert re.fullmatch(r"redis://redis:6379/\d+", service["environment"]["REDIS_URL"])
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "build" in service and service["image"] == compose["services"]["api"]["image"]


def test_the_api_listens_where_its_port_is_published_and_checks_healthz(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    options = parse_cli(as_list(api["command"])).params
    assert options["host"] == "0.0.0.0"
    assert any(str(port).endswith(f":{options['port']}") for port in api["ports"])
    assert f"127.0.0.1:{options['port']}/healthz" in " ".join(as_list(api["healthcheck"]["test"]))


def test_workers_can_be_scaled(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert parse_cli(as_list(worker["command"])).info_name == "worker"
    assert "container_name" not in worker and "ports" not in worker


def test_the_image_installs_the_project_and_runs_the_cli() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    assert re.search(r"^RUN pip install \.", dockerfile, re.M)
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert cmd and parse_cli(yaml.safe_load(cmd.group(1))).info_name == "api"
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".git", "data"} <= set(ignored)


def test_the_image_has_the_files_the_packages_link_to() -> None:
    """A symlinked package file (service/openapi.yaml) needs its target copied into the image too."""
    copied = {
        source
        for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if line.startswith("COPY ")
        for source in line.split()[1:-1]
    }
    targets = {
        path.resolve().relative_to(REPO).parts[0]
        for package in ("service", "workers")
        for path in (REPO / package).rglob("*")
        if path.is_symlink()
    }
    assert targets and targets <= copied
