#!/usr/bin/python3
"""Offline trainer of the speech-emotion models: see `python3 training/train.py --help`
and training/README.md."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ser_train.trainer import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
