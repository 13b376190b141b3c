"""Shared helpers for the trainer tests (not a test module itself)."""

import contextlib
import io
import os
import sys

TRAINING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TRAINING_DIR not in sys.path:
    sys.path.insert(0, TRAINING_DIR)

from ser_train import trainer  # noqa: E402


def run_trainer(argv):
    """Runs the CLI in-process (saves the interpreter + torch start-up per run);
    returns (exit code, captured stderr log)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = trainer.main(argv)
    return code, err.getvalue()
