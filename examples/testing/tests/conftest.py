"""Lets the tests import `hosts` (this project's host code) without packaging it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
