"""Synthetic `ser-dataset/1` feature sets for tests and smoke runs: RAVDESS-like
metadata (actors, speech/song, emotion codes) with features that carry a
learnable, class-dependent pattern."""

import json
import os

import numpy as np

LABELS = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
FRAMES = 108


def make_dataset(directory, actors=range(1, 25), clips_per_actor=16, seed=0, signal=1.0):
    """Writes features.f32 + meta.json; returns the row list. Each actor gets
    clips cycling through the 8 labels; every 4th clip is 'song'. A class adds
    a label-specific temporal bump to a few MFCC coefficients, plus an actor
    offset (so that speaker-independence is not trivial) and noise."""
    rng = np.random.default_rng(seed)
    rows, vecs = [], []
    for actor in actors:
        actor_offset = rng.normal(0, 0.5, size=(20,))
        for j in range(clips_per_actor):
            label = j % 8
            t = np.linspace(0, 1, FRAMES)
            zcr = 0.1 + 0.02 * rng.standard_normal(FRAMES) + 0.01 * label * signal
            rms = 0.05 + 0.01 * rng.standard_normal(FRAMES) + 0.004 * label * t * signal
            mfcc = rng.standard_normal((FRAMES, 20)) * 3.0 + actor_offset * 5.0
            mfcc[:, 0] -= 300.0  # c0 is large and negative in real data: exercises the scaler
            centre = (label + 0.5) / 8
            bump = np.exp(-((t - centre) ** 2) / 0.005)
            mfcc[:, 1 + label % 5] += 6.0 * signal * bump
            mfcc[:, 6 + label // 2] += 4.0 * signal
            vecs.append(np.concatenate([zcr, rms, mfcc.reshape(-1)]).astype(np.float32))
            code = f"03-{'01' if j % 4 else '02'}-{label + 1:02d}-{1 + j % 2:02d}-{1 + (j // 8) % 2:02d}-01-{actor:02d}"
            rows.append({"clipId": code, "label": label, "actor": int(actor),
                         "channel": "song" if j % 4 == 0 else "speech", "augmentation": "none"})
    os.makedirs(directory, exist_ok=True)
    np.stack(vecs).astype("<f4").tofile(os.path.join(directory, "features.f32"))
    meta = {"format": "ser-dataset/1", "vectorLength": 22 * FRAMES, "frames": FRAMES, "labels": LABELS,
            "featureSpec": {"synthetic": True, "seed": seed}, "rows": rows}
    with open(os.path.join(directory, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f)
    return rows


def make_actor_split(path, rows, test_actors=(21, 22, 23, 24), validation_actors=(1, 2)):
    """A holdout-style split by actor, as the real `holdout-21-24` protocol."""
    split = {"protocol": "holdout-21-24", "fold": 6, "train": [], "validation": [], "test": []}
    for i, r in enumerate(rows):
        part = "test" if r["actor"] in test_actors else "validation" if r["actor"] in validation_actors else "train"
        split[part].append(i)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(split, f)
    return split
