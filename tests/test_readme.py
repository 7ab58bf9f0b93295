"""The README's promises: its curl examples work against `claimwire serve`, its tables are complete."""

from __future__ import annotations

import re
import shutil
import subprocess

from service.config import readme_table
from support.fixtures_api import REPO
from support.live_service import Served

README = (REPO / "README.md").read_text(encoding="utf-8")
EXAMPLES_TIMEOUT = 120.0
DOCUMENTED_PORT = "8000"


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def test_every_curl_example_works_against_serve(served: Served) -> None:
    examples = re.findall(r"```sh\n(.*?)```", section("Using the API"), re.S)[0]
    port = served.url.rsplit(":", 1)[1]
    script = "set -euo pipefail\n" + examples.replace(f"127.0.0.1:{DOCUMENTED_PORT}", f"127.0.0.1:{port}")
    assert shutil.which("curl"), "the README's examples need curl"
    result = subprocess.run(
        ["bash", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=EXAMPLES_TIMEOUT
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert script.count("curl ") >= 12
    assert out.count('"status":"done"') >= 2  # /v1/extract twice (short text, sample article), GET
    assert "HTTP/1.1 202 ACCEPTED" in out and "Location: /v1/articles/" in out
    assert '"total":' in out and '"next_cursor":' in out
    assert "HTTP/1.1 204 NO CONTENT" in out
    assert '{"status":"ok"}' in out and '"status":"ready"' in out
    assert out.count("openapi: 3.1.0") == 1 and "HTTP/1.1 200 OK" in out
    assert '"status": 422' in out and "/problems/validation-error" in out


def test_the_configuration_table_lists_every_variable() -> None:
    """The table is the declarations' (``service.config.readme_table()`` prints it)."""
    assert readme_table() in section("Configuration")


def test_every_dependency_is_explained() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    names = {re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower() for requirement in declared}
    explained = {name.lower() for name in re.findall(r"^\| `([A-Za-z0-9._-]+)` \|", section("Dependencies"), re.M)}
    assert names == explained
