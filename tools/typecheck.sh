#!/usr/bin/env bash
# mypy sees modules by folder, but our folders are mapped into one namespace by setuptools'
# package-dir (core/ → shoploop, hooks/ → shoploop.hooks, plugins/ → shoploop.plugins).
# Mirror that mapping with symlinks under build/typecheck and check the `shoploop` package there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=build/typecheck
rm -rf "$root" && mkdir -p "$root/shoploop"
for entry in core/*; do
  case "$(basename "$entry")" in __pycache__|templates) continue ;; esac
  ln -s "../../../$entry" "$root/shoploop/"
done
ln -s ../../../hooks "$root/shoploop/hooks"
ln -s ../../../plugins "$root/shoploop/plugins"
cd "$root"
exec "${MYPY:-../../.venv/bin/mypy}" --config-file ../../pyproject.toml -p shoploop "$@"
