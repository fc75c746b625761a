# Sourced by ./ionos-emulator and ./run-tests: makes .venv from pyproject.toml on first use, and again
# whenever pyproject.toml changes (its hash is kept in .venv/.installed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${IONOS_EMULATOR_VENV:-$ROOT/.venv}"
EXTRAS="${1:-}"
want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)${EXTRAS}"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.installed" 2>/dev/null)" != "$want" ]; then
  echo "setting up $VENV (first use or pyproject.toml changed) ..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip >&2
  "$VENV/bin/python" -m pip install -q -e "$ROOT${EXTRAS:+[$EXTRAS]}" >&2
  echo "$want" > "$VENV/.installed"
fi
