# Sourced by check_export_venv.sh and check_runtime_venv.sh, not run: the fresh venv both build.
#
#   source "$ROOT/scripts/_venv.sh"
#   fresh_venv EXTRA   # needs ROOT, PYTHON and KEEP; sets WORK (removed on exit) and VENV (KEEP or $WORK/venv)
#
# asmnet-edge[EXTRA] is installed from a copy of the package, so pip's in-tree build never writes into
# the shared working tree.
fresh_venv() {
  local extra="$1"
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
  VENV="${KEEP:-$WORK/venv}"
  mkdir -p "$WORK/src"
  cp -r "$ROOT/asmnet_edge" "$ROOT/pyproject.toml" "$WORK/src/"
  [[ -f "$ROOT/README.md" ]] && cp "$ROOT/README.md" "$WORK/src/"
  find "$WORK/src" -name __pycache__ -prune -exec rm -rf {} +
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$WORK/src[$extra]" >&2
}
