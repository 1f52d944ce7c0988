"""``npc-engine tenants create`` and ``npc-engine keys create|list|revoke``."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from npc_engine.auth import Principal, verify_key
from npc_engine.cli.main import app
from npc_engine.state.store import SqlStateStore


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--data-dir", str(data_dir)])
    return result.exit_code, result.stdout, result.stderr


def verified(data_dir: Path, secret: str) -> Principal | None:
    store = SqlStateStore(f"sqlite:///{(data_dir / 'state.db').resolve()}")
    try:
        return asyncio.run(verify_key(store, secret))
    finally:
        store.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    code, out, _ = run(tmp_path / "data", "tenants", "create", "emberfall")
    assert code == 0 and "created" in out
    return tmp_path / "data"


def test_creating_a_tenant_twice_says_it_exists(data_dir: Path) -> None:
    code, out, _ = run(data_dir, "tenants", "create", "emberfall", "--json")
    assert code == 0 and json.loads(out) == {"ok": True, "tenant": "emberfall", "created": False}


def test_a_tenant_name_must_be_a_valid_id(data_dir: Path) -> None:
    code, _, err = run(data_dir, "tenants", "create", "Ember Fall")
    assert code == 1 and "not a valid id" in err


def tenant_exists(state_url: str, tenant: str) -> bool:
    store = SqlStateStore(state_url)
    try:
        return asyncio.run(store.tenant_exists(tenant))
    finally:
        store.close()


def test_a_display_name_over_200_characters_is_refused_before_anything_is_stored(
    state_url_any: str, tmp_path: Path
) -> None:
    tenant = f"t{uuid.uuid4().hex[:10]}"
    result = CliRunner().invoke(
        app,
        ["tenants", "create", tenant, "--display-name", "N" * 201, "--data-dir", str(tmp_path)],
        env={"NPC_STATE_URL": state_url_any},
    )
    assert result.exit_code == 1
    assert result.stderr == "error: --display-name has 201 characters; keep it to 200\n"
    assert not tenant_exists(state_url_any, tenant)


def test_a_display_name_of_200_characters_is_stored_on_every_database(
    state_url_any: str, tmp_path: Path
) -> None:
    tenant = f"t{uuid.uuid4().hex[:10]}"
    result = CliRunner().invoke(
        app,
        ["tenants", "create", tenant, "--display-name", "Ñ" * 200, "--json", "--data-dir", str(tmp_path)],
        env={"NPC_STATE_URL": state_url_any},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"ok": True, "tenant": tenant, "created": True}
    assert tenant_exists(state_url_any, tenant)


def test_a_display_name_with_control_characters_is_refused(data_dir: Path) -> None:
    code, out, _ = run(data_dir, "tenants", "create", "moonfall", "--display-name", "Moon\x00fall", "--json")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "invalid_input" and "control characters" in out
    code, _, _ = run(data_dir, "keys", "list", "--tenant", "moonfall")
    assert code == 1  # no such tenant


def test_a_created_key_prints_its_secret_once_and_it_works(data_dir: Path) -> None:
    code, out, _ = run(
        data_dir, "keys", "create", "--tenant", "emberfall", "--role", "staff", "--name", "alice"
    )
    assert code == 0, out
    secret = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("secret: "))
    assert "only time it is shown" in out
    principal = verified(data_dir, secret)
    assert principal is not None
    assert (principal.tenant, principal.role, principal.name) == ("emberfall", "staff", "alice")


def test_keys_list_never_shows_secrets_or_hashes(data_dir: Path) -> None:
    code, out, _ = run(
        data_dir, "keys", "create", "--tenant", "emberfall", "--role", "game", "--name", "srv", "--json"
    )
    created = json.loads(out)
    code, listed, _ = run(data_dir, "keys", "list", "--tenant", "emberfall", "--json")
    assert code == 0
    keys = json.loads(listed)["keys"]
    assert [(k["key_id"], k["role"], k["name"], k["revoked_at"]) for k in keys] == [
        (created["key_id"], "game", "srv", None)
    ]
    _, human, _ = run(data_dir, "keys", "list", "--tenant", "emberfall")
    secret_part = created["secret"].split("_", 2)[2]
    assert created["key_id"] in human and "active" in human
    assert secret_part not in listed + human and "hash" not in listed + human


def test_a_revoked_key_stops_working(data_dir: Path) -> None:
    _, out, _ = run(
        data_dir, "keys", "create", "--tenant", "emberfall", "--role", "admin", "--name", "ops", "--json"
    )
    created = json.loads(out)
    code, out, _ = run(data_dir, "keys", "revoke", created["key_id"])
    assert code == 0 and "revoked" in out
    assert verified(data_dir, created["secret"]) is None
    _, listed, _ = run(data_dir, "keys", "list", "--tenant", "emberfall")
    assert "revoked" in listed


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["keys", "create", "--tenant", "nope", "--role", "game", "--name", "x"], "tenants create nope"),
        (["keys", "create", "--tenant", "emberfall", "--role", "root", "--name", "x"], "game, staff, admin"),
        (["keys", "list", "--tenant", "nope"], "tenants create nope"),
        (["keys", "revoke", "k-unknown"], "keys list"),
    ],
)
def test_bad_input_exits_1_and_says_what_to_fix(data_dir: Path, args: list[str], says: str) -> None:
    code, _, err = run(data_dir, *args)
    assert code == 1 and says in err and err.count("\n") == 1


def test_the_installed_command_creates_a_tenant_and_a_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPC_")}
    env["NPC_DATA_DIR"] = str(tmp_path)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "npc_engine.cli.main", *args],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip

    assert cli("tenants", "create", "moonfall").returncode == 0
    done = cli("keys", "create", "--tenant", "moonfall", "--role", "game", "--name", "server", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["secret"].startswith("npk_")
