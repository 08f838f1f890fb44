"""The source checkout these tests run from (opsproof itself may be installed from a wheel)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
