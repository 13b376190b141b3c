"""Portable checkpoints: a finished (or paused) training run's kept weights and
bookkeeping in a form that does not depend on the torch or numpy version, cut
into parts of bounded size. Used to train on one machine (a GPU) and finish
(evaluate, export, reference.json) on another with `train.py --resume`.

`pack` writes DIR/portable.json (settings, data fingerprint, the training state
without the weights, a tensor index, part hashes) and DIR/weights.partNN (the
best-by-validation weights, raw little-endian). `unpack` rebuilds a
`checkpoint.pt` for the local torch holding those weights and that state, marked
`weightsOnly`: the optimiser moments and RNG states are not carried, so the
trainer finishes such a run but refuses to train it further.
"""

import hashlib
import json
import os

import numpy as np
import torch

PORTABLE_FORMAT = "ser-portable-checkpoint/1"
_DTYPES = {"float32": "<f4", "float64": "<f8", "int64": "<i8", "int32": "<i4"}


def _plain(value):
    """JSON-safe copy: numpy scalars/arrays and tuples become Python values and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.Tensor):
        raise TypeError("tensors go into the weights parts, not the JSON")
    return value


def pack(checkpoint_path, out_dir, part_bytes=15 << 20):
    """Writes portable.json and weights.partNN under out_dir; returns the JSON document."""
    ckpt = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
    state = dict(ckpt["state"])
    weights = state.pop("best_state")
    if weights is None:
        raise ValueError(f"{checkpoint_path}: no epoch has been kept yet")
    tensors, blobs, offset = [], [], 0
    for name, t in weights.items():
        dtype = str(t.dtype).replace("torch.", "")
        if dtype not in _DTYPES:
            raise ValueError(f"{name}: dtype {dtype} is not supported")
        raw = np.ascontiguousarray(t.detach().cpu().numpy()).astype(_DTYPES[dtype], copy=False).tobytes()
        tensors.append({"name": name, "dtype": dtype, "shape": list(t.shape), "offset": offset, "bytes": len(raw)})
        blobs.append(raw)
        offset += len(raw)
    data = b"".join(blobs)
    os.makedirs(out_dir, exist_ok=True)
    parts = []
    for i, start in enumerate(range(0, len(data), part_bytes)):
        chunk = data[start:start + part_bytes]
        name = f"weights.part{i:02d}"
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(chunk)
        parts.append({"file": name, "bytes": len(chunk), "sha256": hashlib.sha256(chunk).hexdigest()})
    doc = {
        "format": PORTABLE_FORMAT,
        "checkpointFormat": ckpt.get("format"),
        "settings": _plain(ckpt["settings"]),
        "fingerprint": _plain(ckpt["fingerprint"]),
        "state": _plain(state),
        "tensors": tensors,
        "weightsBytes": len(data),
        "weightsSha256": hashlib.sha256(data).hexdigest(),
        "parts": parts,
        "packedWith": {"torch": torch.__version__, "numpy": np.__version__},
    }
    with open(os.path.join(out_dir, "portable.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    return doc


def read_weights(in_dir):
    """(document, state dict of tensors) from a packed directory, every hash checked."""
    with open(os.path.join(in_dir, "portable.json"), encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("format") != PORTABLE_FORMAT:
        raise ValueError(f"{in_dir}/portable.json: format {doc.get('format')!r}, expected {PORTABLE_FORMAT!r}")
    chunks = []
    for part in doc["parts"]:
        with open(os.path.join(in_dir, part["file"]), "rb") as f:
            chunk = f.read()
        if len(chunk) != part["bytes"] or hashlib.sha256(chunk).hexdigest() != part["sha256"]:
            raise ValueError(f"{in_dir}/{part['file']}: size or SHA-256 differs from portable.json")
        chunks.append(chunk)
    data = b"".join(chunks)
    if len(data) != doc["weightsBytes"] or hashlib.sha256(data).hexdigest() != doc["weightsSha256"]:
        raise ValueError(f"{in_dir}: reassembled weights differ from portable.json")
    weights = {}
    for t in doc["tensors"]:
        arr = np.frombuffer(data, dtype=_DTYPES[t["dtype"]], count=int(np.prod(t["shape"], dtype=np.int64)),
                            offset=t["offset"])
        weights[t["name"]] = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("="), copy=True)).reshape(t["shape"])
    return doc, weights


def unpack(in_dir, checkpoint_path):
    """Rebuilds a weights-only checkpoint.pt that `train.py --resume` can finish."""
    doc, weights = read_weights(in_dir)
    state = dict(doc["state"])
    state["best_state"] = weights
    ckpt = {
        "format": doc["checkpointFormat"],
        "settings": doc["settings"],
        "fingerprint": doc["fingerprint"],
        "model": weights,
        "state": state,
        "weightsOnly": True,
        "portable": {k: doc[k] for k in ("weightsSha256", "packedWith")},
    }
    os.makedirs(os.path.dirname(os.path.abspath(checkpoint_path)), exist_ok=True)
    tmp = checkpoint_path + ".tmp"
    torch.save(ckpt, tmp)
    os.replace(tmp, checkpoint_path)
    return ckpt
