"""The ``npc-engine`` command line, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO_WORLD


def cli(*args: str, data_dir: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPC_")}
    if data_dir is not None:
        env["NPC_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "npc_engine.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def test_validate_accepts_the_demo_world() -> None:
    result = cli("validate", str(DEMO_WORLD), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    kinds = {p["id"]: p["kind"] for p in payload["personas"]}
    assert list(kinds.values()).count("npc") >= 4 and "support" in kinds.values()
    docs = payload["documents"]
    assert docs["lore"] >= 40 and docs["secrets"] >= 8 and docs["faq"] >= 40 and docs["ticket"] >= 150


def test_validate_names_file_line_and_field_of_a_wrong_field(world_copy: Path) -> None:
    persona = next((world_copy / "personas").glob("*.yaml"))
    lines = persona.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("name:"))
    lines.insert(index + 1, "moood: cheerful")
    persona.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli("validate", str(world_copy))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, "one-line reason"
    assert f"{persona}:{index + 2}:" in result.stderr
    assert "moood" in result.stderr


def test_validate_json_reports_the_error_as_json(world_copy: Path) -> None:
    (world_copy / "faq" / "broken.yaml").write_text("- id: x\n  question: [\n", encoding="utf-8")
    result = cli("validate", str(world_copy), "--json")
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "invalid_file" and error["path"].endswith("broken.yaml") and error["line"]


def test_schema_prints_a_json_schema_for_both_kinds() -> None:
    result = cli("schema")
    assert result.returncode == 0
    text = json.dumps(json.loads(result.stdout))
    assert '"npc"' in text and '"support"' in text


def test_an_unknown_persona_in_search_is_a_clear_error(tmp_path: Path) -> None:
    result = cli("search", "hello", "--persona", "nobody", data_dir=tmp_path)
    assert result.returncode == 1
    assert "no persona 'nobody'" in result.stderr and "ingest a world first" in result.stderr


@pytest.mark.slow
def test_ingest_twice_the_second_run_embeds_nothing_and_is_50x_faster(tmp_path: Path) -> None:
    first = cli("ingest", str(DEMO_WORLD), "--json", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    second = cli("ingest", str(DEMO_WORLD), "--json", data_dir=tmp_path)
    assert second.returncode == 0, second.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["chunks_embedded"] > 200
    assert b["chunks_embedded"] == 0 and b["files_changed"] == 0
    assert a["seconds"] / b["seconds"] >= 50, (a["seconds"], b["seconds"])

    # search works on what was ingested, and a bad file later changes nothing
    hits = cli("search", "who are you", "--persona", "aria", "--json", data_dir=tmp_path)
    assert hits.returncode == 0, hits.stderr
    assert json.loads(hits.stdout)["results"]
    broken = tmp_path / "world"
    import shutil

    shutil.copytree(DEMO_WORLD, broken)
    (broken / "tickets" / "zz-binary.jsonl").write_bytes(b"\x00\x9f\x92\x96" * 100)
    failed = cli("ingest", str(broken), data_dir=tmp_path)
    assert failed.returncode == 1 and "zz-binary.jsonl" in failed.stderr
    again = cli("search", "who are you", "--persona", "aria", "--json", data_dir=tmp_path)
    assert json.loads(again.stdout)["results"] == json.loads(hits.stdout)["results"]


def test_import_card_writes_a_persona_and_lore_that_validate(world_copy: Path, tmp_path: Path) -> None:
    card = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": "Wren Tallow",
            "description": "A candle-maker in the lower wards who hears every rumour.",
            "personality": "curious, warm, nosy",
            "scenario": "Her shop smells of beeswax.",
            "first_mes": "Mind the wax, dear.",
            "mes_example": "",
            "character_book": {
                "entries": [
                    {
                        "keys": ["beeswax"],
                        "content": "Wren buys her beeswax from the Silverwood hives.",
                        "enabled": True,
                        "insertion_order": 1,
                        "name": "Beeswax",
                    }
                ]
            },
        },
    }
    path = tmp_path / "wren.json"
    path.write_text(json.dumps(card), encoding="utf-8")
    result = cli("import-card", str(path), "--world", str(world_copy), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["persona"] == "wren-tallow" and payload["lore"] == 1
    assert all(Path(f).is_file() for f in payload["files"])
    assert cli("validate", str(world_copy)).returncode == 0


def test_import_card_names_the_file_of_a_broken_card(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"spec": "chara_card_v2",\n "data": {"name": }', encoding="utf-8")
    result = cli("import-card", str(path), "--world", str(tmp_path / "w"))
    assert result.returncode == 1
    assert f"{path}:2" in result.stderr
