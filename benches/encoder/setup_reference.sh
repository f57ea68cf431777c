#!/usr/bin/env bash
# Creates the Python environment of the encoder's numpy reference (benches/encoder/reference.py)
# under $HOME/.cache/encoder-venv, or ENCODER_VENV when set. numpy runs the model, scipy gives
# the exact erf of GELU, and `tokenizers` reads the same tokenizer.json as the Rust encoder.
# Does nothing when the environment already imports all three.
set -euo pipefail

venv="${ENCODER_VENV:-$HOME/.cache/encoder-venv}"

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import numpy, scipy.special, tokenizers' 2>/dev/null; then
    echo "encoder reference environment ready in $venv"
    exit 0
fi

python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check numpy scipy tokenizers
"$venv/bin/python" -c 'import numpy, scipy.special, tokenizers' 
echo "encoder reference environment ready in $venv"
