"""``python -m apps.desktop [--store DIR]``: the app, as ``mmagent app``."""

from __future__ import annotations

import argparse
from pathlib import Path

from apps.desktop.window import main

if __name__ == "__main__":
    from apps.cli import _quiet_third_parties

    _quiet_third_parties()  # offline models, quiet libraries: as ``mmagent app``
    parser = argparse.ArgumentParser(description="the mmagent desktop app")
    parser.add_argument("--store", type=Path)
    raise SystemExit(main(parser.parse_args().store))
