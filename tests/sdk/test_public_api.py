"""The SDK's public surface: a true ``__all__``, small modules, and no engine needed to import it."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import npc_engine_sdk
import pytest

SDK = Path(npc_engine_sdk.__file__).resolve().parent
MODULES = sorted(
    "npc_engine_sdk" + ("." + ".".join(p.relative_to(SDK).with_suffix("").parts)).removesuffix(".__init__")
    for p in SDK.rglob("*.py")
)


def test_all_lists_exactly_the_public_names() -> None:
    exported = npc_engine_sdk.__all__
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    assert [n for n in exported if not hasattr(npc_engine_sdk, n)] == []
    public = {
        n
        for n, v in vars(npc_engine_sdk).items()
        if not n.startswith("_") and getattr(v, "__module__", "").startswith("npc_engine_sdk")
    }
    assert public <= set(exported), f"public but not in __all__: {public - set(exported)}"


@pytest.mark.parametrize("name", MODULES)
def test_every_modules_all_names_things_that_exist(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", [])
    assert [n for n in exported if not hasattr(module, n)] == []


@pytest.mark.parametrize("name", MODULES)
def test_every_module_is_small(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert len(Path(module.__file__).read_text().splitlines()) < 400


def test_the_package_is_typed() -> None:
    assert (SDK / "py.typed").is_file()


def test_the_sdk_imports_and_works_without_npc_engine() -> None:
    code = (
        "import sys; sys.modules['npc_engine'] = None\n"
        "import npc_engine_sdk\n"
        "from npc_engine_sdk import NpcClient\n"
        "client = NpcClient(api_key='npk_x'); client.close()\n"
        "try:\n"
        "    NpcClient.in_process(object())\n"
        "except npc_engine_sdk.NpcEngineError as exc:\n"
        "    print('pip install npc-engine' in str(exc))\n"
        "print(sorted(m for m in sys.modules if m.startswith('npc_engine.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == ["True", "[]"]


def test_the_version_is_the_distributions() -> None:
    from importlib.metadata import version

    assert npc_engine_sdk.__version__ == version("npc-engine-sdk")
