#!/usr/bin/env bash
# mypy sees modules by folder, but our folders are mapped into one namespace by setuptools'
# package-dir (core/ → shoploop, hooks/ → shoploop.hooks, plugins/ → shoploop.plugins).
# Mirror that mapping with symlinks under build/typecheck and check the `shoploop` package there.
set -euo pipefail
cd "$(dirname "$0")/.."
# A folder per run: two runs at once (two engineers, or CI and a developer) must not collide.
mkdir -p build
root=$(mktemp -d "$PWD/build/typecheck.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/shoploop"
for entry in core/*; do
  case "$(basename "$entry")" in __pycache__|templates) continue ;; esac
  ln -s "$PWD/$entry" "$root/shoploop/"
done
ln -s "$PWD/hooks" "$root/shoploop/hooks"
ln -s "$PWD/plugins" "$root/shoploop/plugins"
top=$PWD
cd "$root"
"${MYPY:-$top/.venv/bin/mypy}" --config-file "$top/pyproject.toml" -p shoploop "$@"
