"""The admin routes: the tenant's personas, and uploading its world as a ``.tar.gz``.

Uploads go to a fresh tenant ("emberfall"): a tenant whose world was ingested from another
folder (as the fixture's are) holds the same knowledge ids under a different root.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from npc_engine.auth import create_key
from tests.api_world import DEMO_WORLD, ApiWorld

TENANT = "emberfall"
GZIP = {"Content-Type": "application/gzip"}


def pack(folder: Path = DEMO_WORLD, *, top: str = ".", extra: Iterable[tarfile.TarInfo] = ()) -> bytes:
    """``folder`` as a .tar.gz (``tar -czf - -C folder .``), plus ``extra`` members at the end."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(folder, arcname=top)
        for member in extra:
            data = b"stray\n" if member.isfile() else b""
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def member(name: str, *, link_to: str | None = None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    if link_to is not None:
        info.type, info.linkname = tarfile.SYMTYPE, link_to
    return info


def new_tenant(world: ApiWorld, tenant: str = TENANT) -> dict[str, dict[str, str]]:
    """A tenant with no world yet, and its admin and game keys (as auth headers)."""

    async def setup() -> dict[str, dict[str, str]]:
        await world.engine.state.ensure_tenant(tenant)
        headers = {}
        for role in ("admin", "game"):
            _, secret = await create_key(
                world.engine.state, tenant=tenant, role=role, name=f"{tenant} {role}"
            )
            headers[role] = {"Authorization": f"Bearer {secret}"}
        return headers

    return asyncio.run(setup())


def upload(client: TestClient, auth: dict[str, str], body: bytes, **params: Any) -> httpx.Response:
    return client.post("/v1/world", content=body, params=params, headers={**auth, **GZIP})


def npc_turn(client: TestClient, auth: dict[str, str], persona: str = "brannoc") -> httpx.Response:
    return client.post(
        f"/v1/npcs/{persona}/turns", json={"player": {"id": "p-admin"}, "text": "Hello smith"}, headers=auth
    )


def assert_error(answer: httpx.Response, status: int, *codes: str) -> str:
    """``answer`` is the error body with this status and one of ``codes``; returns its message."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"code", "message", "request_id"} and body["code"] in codes, body
    assert "Traceback" not in body["message"]
    return str(body["message"])


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")} if folder.exists() else set()


def demo_personas() -> dict[str, dict[str, Any]]:
    docs = (yaml.safe_load(p.read_text(encoding="utf-8")) for p in (DEMO_WORLD / "personas").glob("*.yaml"))
    return {doc["id"]: doc for doc in docs}


@pytest.fixture
def tenant(api_world: ApiWorld) -> dict[str, dict[str, str]]:
    """Auth headers of a new tenant's admin and game keys ("admin", "game")."""
    return new_tenant(api_world)


@pytest.fixture
def client(api_world: ApiWorld) -> Iterator[TestClient]:
    with TestClient(api_world.app()) as client:
        yield client


def broken_world(root: Path, how: str) -> Path:
    """A copy of the demo world whose brannoc.yaml is broken ``how``."""
    folder = root / f"broken-{how}"
    shutil.copytree(DEMO_WORLD, folder)
    persona = folder / "personas" / "brannoc.yaml"
    text = persona.read_text(encoding="utf-8")
    broken = {
        "schema": text.replace("kind: npc", "kind: dragon", 1),
        "yaml": text + "\n  bad: [unclosed\n",
    }[how]
    persona.write_text(broken, encoding="utf-8")
    return folder


# -- personas ------------------------------------------------------------------------------
def test_the_persona_list_holds_every_demo_persona_with_its_kind_and_name(
    client: TestClient, api_world: ApiWorld
) -> None:
    answer = client.get("/v1/personas", headers=api_world.auth("a-admin"))
    assert answer.status_code == 200
    expected = [{"id": d["id"], "kind": d["kind"], "name": d["name"]} for d in demo_personas().values()]
    assert sorted(answer.json()["personas"], key=lambda p: p["id"]) == sorted(expected, key=lambda p: p["id"])
    assert {p["kind"] for p in answer.json()["personas"]} == {"npc", "support"}


def test_a_persona_is_answered_with_its_stored_document(client: TestClient, api_world: ApiWorld) -> None:
    answer = client.get("/v1/personas/aria", headers=api_world.auth("a-admin"))
    assert answer.status_code == 200
    document, source = answer.json(), demo_personas()["aria"]
    assert document["id"] == "aria" and document["kind"] == "support"
    assert document["name"] == source["name"]
    assert set(source) <= set(document)  # the file's fields, with defaults filled in


def test_an_unknown_persona_is_not_found(client: TestClient, api_world: ApiWorld) -> None:
    answer = client.get("/v1/personas/nobody", headers=api_world.auth("a-admin"))
    assert "nobody" in assert_error(answer, 404, "not_found")


# -- uploading a world ---------------------------------------------------------------------
def test_an_uploaded_world_is_ingested_into_the_admins_tenant(
    client: TestClient, api_world: ApiWorld, tenant: dict[str, dict[str, str]]
) -> None:
    answer = upload(client, tenant["admin"], pack())
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["personas"] == len(demo_personas()) and result["world_changed"] is True
    assert result["files"] > 0 and result["chunks_embedded"] > 0
    listed = client.get("/v1/personas", headers=tenant["admin"]).json()["personas"]
    assert {p["id"] for p in listed} == set(demo_personas())
    assert (api_world.root / "worlds" / TENANT / "world.yaml").is_file()


def test_an_uploaded_world_serves_turns_at_once(
    client: TestClient, tenant: dict[str, dict[str, str]]
) -> None:
    assert_error(npc_turn(client, tenant["game"]), 404, "not_found")
    assert upload(client, tenant["admin"], pack()).status_code == 200
    answer = npc_turn(client, tenant["game"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["turn"] == 1 and answer.json()["text"]


def test_uploading_the_same_world_again_changes_and_embeds_nothing(
    client: TestClient, tenant: dict[str, dict[str, str]]
) -> None:
    first = upload(client, tenant["admin"], pack()).json()
    again = upload(client, tenant["admin"], pack())
    assert again.status_code == 200, again.text
    second = again.json()
    assert second["world_changed"] is False and second["personas"] == first["personas"]
    assert second["files"] == first["files"]
    for count in ("files_changed", "files_removed", "chunks_embedded", "chunks_deleted"):
        assert second[count] == 0, count


def test_force_re_embeds_an_unchanged_world(client: TestClient, tenant: dict[str, dict[str, str]]) -> None:
    first = upload(client, tenant["admin"], pack()).json()
    forced = upload(client, tenant["admin"], pack(), force="true")
    assert forced.status_code == 200, forced.text
    assert forced.json()["world_changed"] is True
    assert forced.json()["chunks_embedded"] == first["chunks_embedded"] > 0


def test_an_archive_of_the_world_folder_itself_is_accepted(
    client: TestClient, tenant: dict[str, dict[str, str]]
) -> None:
    answer = upload(client, tenant["admin"], pack(top="demo_world"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["personas"] == len(demo_personas())


def test_a_body_that_is_not_a_tar_gz_is_invalid_input(
    client: TestClient, tenant: dict[str, dict[str, str]]
) -> None:
    answer = upload(client, tenant["admin"], b"PK\x03\x04 this is a zip file, not a tarball")
    assert ".tar.gz" in assert_error(answer, 400, "invalid_input")


def test_an_empty_body_is_invalid_input(client: TestClient, tenant: dict[str, dict[str, str]]) -> None:
    assert ".tar.gz" in assert_error(upload(client, tenant["admin"], b""), 400, "invalid_input")


def test_an_archive_without_world_yaml_is_invalid_input(
    client: TestClient, tenant: dict[str, dict[str, str]]
) -> None:
    answer = upload(client, tenant["admin"], pack(DEMO_WORLD / "lore", top="lore"))
    assert "world.yaml" in assert_error(answer, 400, "invalid_input")
    assert_error(npc_turn(client, tenant["game"]), 404, "not_found")


def test_a_member_climbing_out_with_dotdot_is_refused_and_nothing_is_written(
    client: TestClient, api_world: ApiWorld, tenant: dict[str, dict[str, str]]
) -> None:
    data_dir = api_world.root
    before = files_under(data_dir)
    for name in ("../evil", "lore/../../evil", "../../../evil-outside-data-dir"):
        answer = upload(client, tenant["admin"], pack(extra=[member(name)]))
        assert_error(answer, 400, "invalid_input")
    assert files_under(data_dir) - before <= {data_dir / "worlds"}  # at most the uploads' folder
    assert not (data_dir.parent / "evil-outside-data-dir").exists()
    assert client.get("/v1/personas", headers=tenant["admin"]).json() == {"personas": []}


def test_an_absolute_member_is_never_written_outside_the_data_dir(
    client: TestClient, api_world: ApiWorld, tenant: dict[str, dict[str, str]]
) -> None:
    outside = api_world.root.parent / f"{api_world.root.name}-outside" / "absolute-evil"
    answer = upload(client, tenant["admin"], pack(extra=[member(str(outside))]))
    assert answer.status_code in (200, 400), answer.text  # refused, or stripped to a relative path
    assert not outside.exists()
    written = [p for p in files_under(api_world.root) if p.name == "absolute-evil"]
    assert all(p.is_relative_to(api_world.root / "worlds" / TENANT) for p in written)


def test_a_link_member_pointing_out_of_the_world_is_refused(
    client: TestClient, tenant: dict[str, dict[str, str]]
) -> None:
    for target in ("/etc/passwd", "../../../../../../etc/passwd"):
        answer = upload(client, tenant["admin"], pack(extra=[member("lore/passwd.md", link_to=target)]))
        assert_error(answer, 400, "invalid_input")
    assert client.get("/v1/personas", headers=tenant["admin"]).json() == {"personas": []}


@pytest.mark.parametrize("how", ["schema", "yaml"])
def test_a_world_with_an_invalid_persona_is_refused_and_the_stored_world_is_kept(
    how: str, client: TestClient, api_world: ApiWorld, tenant: dict[str, dict[str, str]]
) -> None:
    assert upload(client, tenant["admin"], pack()).status_code == 200
    listed = client.get("/v1/personas", headers=tenant["admin"]).json()
    document = client.get("/v1/personas/brannoc", headers=tenant["admin"]).json()

    answer = upload(client, tenant["admin"], pack(broken_world(api_world.root, how)))

    assert "brannoc.yaml" in assert_error(answer, 400, "invalid_persona", "invalid_file")
    assert client.get("/v1/personas", headers=tenant["admin"]).json() == listed
    assert client.get("/v1/personas/brannoc", headers=tenant["admin"]).json() == document
    assert npc_turn(client, tenant["game"]).status_code == 200
    assert upload(client, tenant["admin"], pack()).json()["world_changed"] is False


def test_an_upload_over_the_limit_is_request_too_large(api_world: ApiWorld) -> None:
    world = api_world.restart(max_upload_bytes=2048)
    headers = new_tenant(world)
    body = pack()
    assert len(body) > 2048
    with TestClient(world.app()) as client:
        answer = upload(client, headers["admin"], body)
        assert "2048" in assert_error(answer, 413, "request_too_large")
        assert client.get("/v1/personas", headers=headers["admin"]).json() == {"personas": []}


def test_a_chunked_upload_over_the_limit_is_request_too_large(api_world: ApiWorld) -> None:
    world = api_world.restart(max_upload_bytes=2048)
    headers = new_tenant(world)
    body = pack()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1024):
            yield body[start : start + 1024]

    with TestClient(world.app()) as client:
        answer = client.post("/v1/world", content=chunks(), headers={**headers["admin"], **GZIP})
        assert "2048" in assert_error(answer, 413, "request_too_large")
        assert client.get("/v1/personas", headers=headers["admin"]).json() == {"personas": []}


def test_an_upload_under_the_limit_is_not_refused_for_its_size(api_world: ApiWorld) -> None:
    world = api_world.restart(max_upload_bytes=2048)
    headers = new_tenant(world)
    small = pack(DEMO_WORLD / "lore", top="lore")[:2000]
    with TestClient(world.app()) as client:
        answer = upload(client, headers["admin"], small)
    assert_error(answer, 400, "invalid_input")  # read whole, then found not to be a world


def test_an_upload_to_an_app_served_under_a_root_path_gets_the_upload_limit(api_world: ApiWorld) -> None:
    world = api_world.restart(max_request_bytes=2048)  # uploads keep the default 50 MiB
    headers = new_tenant(world)
    outer = FastAPI()
    outer.mount("/npc", world.app())
    with TestClient(outer) as client:
        answer = client.post("/npc/v1/world", content=pack(), headers={**headers["admin"], **GZIP})
    assert answer.status_code == 200, answer.text
