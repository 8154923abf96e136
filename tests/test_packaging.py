"""A plain (non-editable) install must carry the model files and the message catalogue."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_model_files_and_messages(tmp_path):
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("maturity_bot-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.name for p in (ROOT / "model_data").glob("*.yaml")}
    assert shipped and {f"model_data/{name}" for name in shipped} <= names
    assert "flows/messages.yaml" in names
    assert any(name.endswith("entry_points.txt") for name in names)
