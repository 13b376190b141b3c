"""ONNX export, reading the exported graph's signature back, the reference
vectors for the TypeScript side, and the PyTorch model file."""

import io
import json

import numpy as np
import torch

from .models import ProbabilityModel, build_model, VECTOR_LENGTH, N_CLASSES

INPUT_NAME = "features"
OUTPUT_NAME = "probabilities"
OPSET = 13
BATCH_AXIS = "batch"


def export_onnx(model, path):
    """Exports softmax(model(features)) with a dynamic batch axis. The model is
    put in eval mode (no dropout, no training-time augmentation, BN running
    statistics)."""
    wrapped = ProbabilityModel(model).eval()
    dummy = torch.zeros(2, VECTOR_LENGTH)
    # Export to memory first so a failed export never leaves a half-written file.
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            wrapped,
            (dummy,),
            buf,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: BATCH_AXIS}, OUTPUT_NAME: {0: BATCH_AXIS}},
            opset_version=OPSET,
            do_constant_folding=True,
        )
    with open(path, "wb") as f:
        f.write(buf.getvalue())


# --- A minimal protobuf reader: the `onnx` Python package is not available, and
# the manifest should state what the file actually declares, not what we asked for.

def _varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf):
    """Yields (field number, wire type, value) of one message; value is an int
    for varints/fixed and a memoryview for length-delimited fields."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


_ELEM_TYPES = {1: "float32", 6: "int32", 7: "int64", 10: "float16", 11: "float64"}


def _value_info(buf):
    # ValueInfoProto: 1 name, 2 TypeProto{1 tensor_type{1 elem_type, 2 shape{1 dim{1 value | 2 param}}}}
    name, dtype, shape = None, None, []
    for f, _, v in _fields(buf):
        if f == 1:
            name = bytes(v).decode()
        elif f == 2:
            for f2, _, tensor in _fields(v):
                if f2 != 1:
                    continue
                for f3, _, v3 in _fields(tensor):
                    if f3 == 1:
                        dtype = _ELEM_TYPES.get(v3, str(v3))
                    elif f3 == 2:
                        for f4, _, dim in _fields(v3):
                            if f4 != 1:
                                continue
                            d = None
                            for f5, _, v5 in _fields(dim):
                                d = v5 if f5 == 1 else bytes(v5).decode() if f5 == 2 else d
                            shape.append(d)
    return {"name": name, "dtype": dtype, "shape": shape}


def onnx_signature(path):
    """{"opset", "inputs", "outputs", "opTypes"} read from an ONNX file;
    dims are ints, or the symbolic name (e.g. "batch") for dynamic ones."""
    with open(path, "rb") as f:
        buf = memoryview(f.read())
    opset, inputs, outputs, ops = None, [], [], set()
    for field, _, value in _fields(buf):
        if field == 8:  # opset_import
            domain, version = "", None
            for f, _, v in _fields(value):
                domain = bytes(v).decode() if f == 1 else domain
                version = v if f == 2 else version
            if domain in ("", "ai.onnx"):
                opset = version
        elif field == 7:  # graph
            for f, _, v in _fields(value):
                if f == 11:
                    inputs.append(_value_info(v))
                elif f == 12:
                    outputs.append(_value_info(v))
                elif f == 1:  # node: 4 op_type
                    ops.update(bytes(v4).decode() for f4, _, v4 in _fields(v) if f4 == 4)
    return {"opset": opset, "inputs": inputs, "outputs": outputs, "opTypes": sorted(ops)}


def predict_proba(model, x, batch_size=256):
    """Softmax outputs in eval mode, as float32 numpy."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            out.append(torch.softmax(model(torch.from_numpy(np.ascontiguousarray(x[i:i + batch_size]))), dim=1))
    return torch.cat(out).numpy()


def reference_rows(train_idx, labels, n=4):
    """Fixed choice of n training rows: the first training row (in split
    order) of each of the first n distinct labels met, topped up with the
    next rows in split order if fewer labels exist."""
    chosen, seen = [], set()
    for i in train_idx:
        if labels[i] not in seen:
            seen.add(labels[i])
            chosen.append(int(i))
            if len(chosen) == n:
                return chosen
    for i in train_idx:
        if len(chosen) == n:
            break
        if int(i) not in chosen:
            chosen.append(int(i))
    return chosen


def write_reference(path, model, x_scaled, x_raw, rows, clip_ids, labels, label_names):
    """reference.json: inputs (scaled, and raw for checking the scaler too) and
    the PyTorch probabilities for the scaled ones."""
    probs = predict_proba(model, x_scaled)
    doc = {
        "format": "ser-reference/1",
        "input": INPUT_NAME,
        "output": OUTPUT_NAME,
        "tolerance": 1e-4,
        "labels": list(label_names),
        "rows": [int(r) for r in rows],
        "clipIds": list(clip_ids),
        "trueLabels": [int(v) for v in labels],
        # float32 values written as the double they convert to: parsing the JSON
        # and rounding to float32 gives back exactly the tensor we fed.
        "inputs": [[float(v) for v in row] for row in x_scaled.astype(np.float32)],
        "probabilities": [[float(v) for v in row] for row in probs],
        "rawInputs": [[float(v) for v in row] for row in np.asarray(x_raw, dtype=np.float32)],
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    return doc


def save_model_file(path, arch, model, scaler, label_names):
    """model.pt: what is needed to rebuild the best model in PyTorch."""
    torch.save(
        {
            "format": "ser-model/1",
            "arch": arch,
            "state_dict": model.state_dict(),
            "scalerMean": scaler.mean,
            "scalerScale": scaler.scale,
            "labels": list(label_names),
        },
        path,
    )


def load_model_file(path):
    doc = torch.load(path, map_location="cpu", weights_only=False)  # holds numpy arrays (the scaler)
    model = build_model(doc["arch"])
    model.load_state_dict(doc["state_dict"])
    return model.eval(), doc


def io_manifest(signature):
    """Input/output name and shape as recorded in train-report.json."""
    (inp,), (out,) = signature["inputs"], signature["outputs"]
    return {
        "opset": signature["opset"],
        "input": {"name": inp["name"], "shape": inp["shape"], "dtype": inp["dtype"]},
        "output": {"name": out["name"], "shape": out["shape"], "dtype": out["dtype"]},
    }


EXPECTED_INPUT_SHAPE = [BATCH_AXIS, VECTOR_LENGTH]
EXPECTED_OUTPUT_SHAPE = [BATCH_AXIS, N_CLASSES]
