#!/usr/bin/env bash
# Build the BuildTrace Desktop package for IT on Linux or macOS: a one-folder PyInstaller build in
# dist/buildtrace/, smoke-tested, then packed as dist/BuildTrace-<version>-<os>-<arch>.tar.gz.
#
#   bash build_scripts/build_installer.sh            # build, smoke-test, pack
#   SKIP_SMOKE=1 bash build_scripts/build_installer.sh   # build and pack only (not recommended)
#
# Needs: Python 3.11+ (PYTHON, default python3), Tesseract for the smoke test's `doctor` line (the build
# itself does not need it; the package does not bundle it). Run build_scripts/setup.sh first on a fresh
# Debian/Ubuntu machine for Qt's system libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
VENV_PY=.venv/bin/python

echo "build: installing the app and PyInstaller into .venv"
"$VENV_PY" -m pip install -q --upgrade pip >/dev/null
# Editable, like setup.sh, so a developer's .venv keeps using the source tree.
"$VENV_PY" -m pip install -q -e ".[build]"

VERSION=$("$VENV_PY" -c "import buildtrace_desktop; print(buildtrace_desktop.__version__)")
case "$(uname -s)" in
  Linux) OS=linux ;;
  Darwin) OS=macos ;;
  *) OS=$(uname -s | tr '[:upper:]' '[:lower:]') ;;
esac
ARCH=$(uname -m)
APP_DIR=dist/buildtrace
APP="$APP_DIR/buildtrace"
ARCHIVE="dist/BuildTrace-${VERSION}-${OS}-${ARCH}.tar.gz"

echo "build: pyinstaller buildtrace.spec (takes a few minutes)"
started=$(date +%s)
"$VENV_PY" -m PyInstaller buildtrace.spec --noconfirm --log-level WARN
echo "build: built $APP_DIR in $(( $(date +%s) - started )) s, $(du -sh "$APP_DIR" | cut -f1)"

smoke_test() {
  local tmp
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/buildtrace-smoke.XXXXXX")
  # A throw-away data folder and Qt settings, so the smoke test touches nothing of the builder's.
  export BUILDTRACE_HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" QT_QPA_PLATFORM=offscreen
  # Run from elsewhere: the frozen app must not lean on the source tree.
  cd "$tmp"

  echo "smoke: buildtrace --version"
  "$ROOT/$APP" --version

  echo "smoke: buildtrace doctor"
  local code=0
  "$ROOT/$APP" doctor || code=$?
  # 1 = Tesseract missing (a warning: the package does not bundle it); anything else is a failure.
  if [ "$code" -ne 0 ] && [ "$code" -ne 1 ]; then
    echo "smoke: FAILED: doctor exited $code" >&2; return 1
  fi
  [ "$code" -eq 1 ] && echo "smoke: note: Tesseract not found on this machine (scans need it)"

  echo "smoke: buildtrace compare (the bundled sample, 2 worker processes)"
  code=0
  "$ROOT/$APP" compare "$ROOT/resources/sample/old.pdf" "$ROOT/resources/sample/new.pdf" \
      --out "$tmp/out" --summary offline --jobs 2 || code=$?
  if [ "$code" -gt 1 ]; then
    echo "smoke: FAILED: compare exited $code" >&2; return 1
  fi
  for f in report.json changes.csv report.pdf; do
    [ -s "$tmp/out/$f" ] || { echo "smoke: FAILED: $f not written" >&2; return 1; }
  done
  "$ROOT/$VENV_PY" - "$tmp/out/report.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1], encoding="utf-8"))
sheets = report.get("sheets", [])
changes = sum(len(s.get("changes", [])) for s in sheets)
print(f"smoke: report.json: {len(sheets)} sheets, {changes} changes")
numbers = sorted(s.get("sheet_number") or "" for s in sheets)
if numbers != ["AF101", "AF600"] or changes == 0:
    sys.exit(f"smoke: FAILED: expected the sample's sheets AF101 and AF600 with changes, got {numbers}")
EOF

  # The app has no "quit after the window shows" switch, so the GUI check is: `gui --sample` opens the
  # sample comparison offscreen and runs its job (worker processes spawned from the frozen executable);
  # we wait until the database says the job is done, check the GUI is still up, then stop it (SIGTERM).
  # A missing Qt plugin or import ends the GUI at once; a broken worker start leaves the job unfinished.
  echo "smoke: GUI (offscreen; gui --sample, waits up to ${GUI_SECONDS:-90} s for the sample job)"
  BUILDTRACE_HOME="$tmp/gui-home" "$ROOT/$APP" gui --sample >"$tmp/gui.log" 2>&1 &
  local gui_pid=$! state="" waited=0
  local job_states='import sqlite3, sys
print(",".join(r[0] for r in sqlite3.connect(sys.argv[1]).execute("select state from jobs")))'
  while [ "$waited" -lt "${GUI_SECONDS:-90}" ] && kill -0 "$gui_pid" 2>/dev/null; do
    sleep 2; waited=$((waited + 2))
    state=$("$ROOT/$VENV_PY" -c "$job_states" "$tmp/gui-home/buildtrace.db" 2>/dev/null || true)
    [ "$state" = "done" ] && break
  done
  if ! kill -0 "$gui_pid" 2>/dev/null; then
    code=0; wait "$gui_pid" || code=$?
    echo "smoke: FAILED: the GUI exited ($code) after ${waited} s:" >&2; tail -20 "$tmp/gui.log" >&2; return 1
  fi
  kill -TERM "$gui_pid" 2>/dev/null || true; wait "$gui_pid" 2>/dev/null || true
  if [ "$state" != "done" ]; then
    echo "smoke: FAILED: the GUI's sample job is '${state:-not started}' after ${waited} s" >&2
    tail -20 "$tmp/gui.log" >&2; return 1
  fi
  if grep -q "Traceback" "$tmp/gui.log"; then
    echo "smoke: FAILED: the GUI logged a traceback:" >&2; tail -30 "$tmp/gui.log" >&2; return 1
  fi
  echo "smoke: GUI ran the sample comparison in about ${waited} s and stayed up"
  cd "$ROOT"
  rm -rf "$tmp"
}

if [ "${SKIP_SMOKE:-0}" != "1" ]; then
  (smoke_test)
  echo "smoke: passed"
fi

echo "build: packing $ARCHIVE"
tar -C dist -czf "$ARCHIVE" buildtrace
echo "build: done: $ARCHIVE ($(du -h "$ARCHIVE" | cut -f1)); unpacked $(du -sh "$APP_DIR" | cut -f1)"
