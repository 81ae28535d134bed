"""python -m bench SUITE ...: the evaluation harness (bench/harness.py)."""

from bench.harness import main

raise SystemExit(main())
