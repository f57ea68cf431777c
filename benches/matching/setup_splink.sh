#!/bin/sh
# Installs Splink from PyPI into a virtual environment for the scale benchmark's anchor.
# Usage: benches/matching/setup_splink.sh [VENV]   (default: $HOME/.cache/splink-venv)
set -eu
venv="${1:-$HOME/.cache/splink-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet splink
"$venv/bin/python" -c "import splink; print('splink', splink.__version__, 'in', '$venv')"
