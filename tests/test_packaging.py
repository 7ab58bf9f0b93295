"""The wheel, which the Docker image installs, carries every file the code reads beside it.

A learned part left out of the wheel does not fail loudly: without the encoder's adapter the
image would build the untuned encoder and run a tagger trained on the tuned one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Read by people, not by the code.
NOT_PACKAGED = {"workers/pipeline/data/MODEL_CARD.md"}


def test_the_wheel_carries_every_data_file_of_the_packages(tmp_path: Path) -> None:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True, capture_output=True,
                             text=True).stdout.strip("\0").split("\0")
    data_files = {name for name in tracked if name.startswith(("service/", "workers/")) and not name.endswith(".py")}
    data_files -= NOT_PACKAGED
    assert "workers/pipeline/data/encoder_adapter.safetensors" in data_files
    source = tmp_path / "source"  # built from a copy: the build writes its own build/ and egg-info
    for name in tracked:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name, follow_symlinks=False)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "--wheel-dir", str(tmp_path), str(source)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = tmp_path.glob("claimwire-*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    assert data_files <= packaged, sorted(data_files - packaged)
