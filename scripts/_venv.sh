# Sourced by scripts/test.sh and scripts/demo.sh: make ./.venv and install this project into it.
# Usage: install_venv ".[test]"   (the pip requirement to install, editable)
install_venv() {
  local python=${PYTHON:-python3}
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$1"
}
