"""Reading a `ser-dataset/1` feature set and a split file; the standard scaler."""

import json
import os

import numpy as np

DATASET_FORMAT = "ser-dataset/1"


class DataError(ValueError):
    """The feature set or split is malformed or inconsistent."""


class Dataset:
    def __init__(self, features, meta):
        self.features = features  # float32 [rows, vectorLength]
        self.meta = meta
        self.rows = meta["rows"]
        self.labels = np.asarray([r["label"] for r in self.rows], dtype=np.int64)
        self.label_names = list(meta["labels"])
        self.vector_length = int(meta["vectorLength"])

    def __len__(self):
        return len(self.rows)


def load_dataset(directory):
    try:
        return _load_dataset(directory)
    except (KeyError, TypeError) as e:
        raise DataError(f"{directory}/meta.json: missing or malformed field ({e})") from e


def _load_dataset(directory):
    meta_path = os.path.join(directory, "meta.json")
    feat_path = os.path.join(directory, "features.f32")
    with open(meta_path, encoding="utf-8") as f:
        meta = json.load(f)
    if meta.get("format") != DATASET_FORMAT:
        raise DataError(f"{meta_path}: format {meta.get('format')!r}, expected {DATASET_FORMAT!r}")
    length = int(meta["vectorLength"])
    if length != 22 * int(meta["frames"]):
        raise DataError(f"{meta_path}: vectorLength {length} is not 22 x frames ({meta['frames']})")
    n_rows = len(meta["rows"])
    size = os.path.getsize(feat_path)
    if size != n_rows * length * 4:
        raise DataError(f"{feat_path}: {size} bytes, expected {n_rows} rows x {length} x 4 = {n_rows * length * 4}")
    features = np.fromfile(feat_path, dtype="<f4").reshape(n_rows, length)
    if not np.isfinite(features).all():
        bad = np.unique(np.nonzero(~np.isfinite(features))[0])
        raise DataError(f"{feat_path}: non-finite values in {len(bad)} rows (first: {bad[:5].tolist()})")
    n_labels = len(meta["labels"])
    labels = [r["label"] for r in meta["rows"]]
    if labels and (min(labels) < 0 or max(labels) >= n_labels):
        raise DataError(f"{meta_path}: labels outside 0..{n_labels - 1}")
    return Dataset(np.ascontiguousarray(features, dtype=np.float32), meta)


def load_split(path, n_rows):
    with open(path, encoding="utf-8") as f:
        split = json.load(f)
    out = {}
    for part in ("train", "validation", "test"):
        if not isinstance(split, dict) or part not in split:
            raise DataError(f"{path}: no {part!r} list")
        idx = np.asarray(split[part], dtype=np.int64)
        if idx.size == 0:
            raise DataError(f"{path}: {part!r} is empty")
        if idx.min() < 0 or idx.max() >= n_rows:
            raise DataError(f"{path}: {part!r} has row indices outside 0..{n_rows - 1}")
        out[part] = idx
    # Validation == test is allowed (the leaky `seed` protocol); train overlapping them is not expected.
    overlap = np.intersect1d(out["train"], np.union1d(out["validation"], out["test"]))
    return split, out, int(overlap.size)


class StandardScaler:
    """sklearn's StandardScaler: population std (ddof 0), std 0 -> 1. Fitted in
    float64 like sklearn, applied in float32."""

    def __init__(self, mean, scale):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)

    @classmethod
    def fit(cls, x):
        x = np.asarray(x, dtype=np.float64)
        n = x.shape[0]
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        std = np.sqrt(var)
        # As sklearn >= 1.0: a variance within rounding error of zero marks a
        # constant feature, and so does a scale below 10 eps; both get scale 1.
        eps = np.finfo(np.float64).eps
        constant = (var <= n * eps * var + (n * mean * eps) ** 2) | (std < 10 * eps)
        std[constant] = 1.0
        return cls(mean, std)

    def transform(self, x):
        return ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale).astype(np.float32)


def class_weights(labels, n_classes):
    """Inverse class frequency, normalised as sklearn's 'balanced' (n / (k * n_c)),
    over the classes present; absent classes get 0 (they cannot be predicted
    from this training set anyway)."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(n_classes)
    w[present] = counts.sum() / (present.sum() * counts[present])
    return w, counts.astype(np.int64)
