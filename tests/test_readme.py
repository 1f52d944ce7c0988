"""The README's Python example runs as written (with fast fakes chosen through the environment)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_the_readme_python_example_runs(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "the README has a Python example"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPC_")}
    env.update(NPC_DATA_DIR=str(tmp_path), NPC_EMBEDDER="hash", NPC_VECTOR_STORE="memory")
    result = subprocess.run(
        [sys.executable, "-c", blocks[0]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "chunks embedded" in result.stdout
    assert "lore:" in result.stdout
    assert "stage=stranger" in result.stdout  # the NPC turn ran
