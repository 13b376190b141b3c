"""Offline trainer of the speech-emotion models (see training/README.md)."""
