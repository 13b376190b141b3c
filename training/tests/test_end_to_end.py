"""Tiny trainings on synthetic feature sets, through ONNX export, reload and resume."""

import json
import os
import shutil
import tempfile
import unittest

import numpy as np
import torch

from _helpers import run_trainer
from ser_train import export as E
from ser_train import portable
from ser_train.models import build_model
from ser_train.synthetic import make_actor_split, make_dataset
from ser_train.trainer import EXIT_TIME_BUDGET


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _tiny_feature_set(tmp):
    """A synthetic feature set of 24 actors and its actor split, in tmp: (data dir, split file)."""
    data, split = os.path.join(tmp, "data"), os.path.join(tmp, "split.json")
    make_actor_split(split, make_dataset(data, clips_per_actor=8))
    return data, split


def _without_timing(history):
    return [{k: v for k, v in h.items() if k not in ("seconds", "trainSamplesPerSecond")} for h in history]


class SerCnnEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ser-train-test-")
        cls.data = os.path.join(cls.tmp, "data")
        rows = make_dataset(cls.data, clips_per_actor=8)  # 24 actors: 144 train, 16 validation, 32 test rows
        cls.split = os.path.join(cls.tmp, "split.json")
        cls.split_doc = make_actor_split(cls.split, rows)
        cls.out = os.path.join(cls.tmp, "straight")
        cls.common = ["--data", cls.data, "--split", cls.split, "--arch", "ser-cnn", "--epochs", "3",
                      "--batch-size", "32", "--no-bench", "--threads", "1"]
        cls.code, cls.log = run_trainer(cls.common + ["--out", cls.out])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.code, 0, self.log)

    def test_outputs_and_manifest(self):
        for name in ("model.onnx", "model.pt", "reference.json", "train-report.json", "checkpoint.pt"):
            self.assertTrue(os.path.isfile(os.path.join(self.out, name)), name)
        report = _read_json(os.path.join(self.out, "train-report.json"))
        self.assertEqual(report["onnx"]["input"], {"name": "features", "shape": ["batch", 2376], "dtype": "float32"})
        self.assertEqual(report["onnx"]["output"], {"name": "probabilities", "shape": ["batch", 8], "dtype": "float32"})
        self.assertEqual(report["onnx"]["opset"], 13)
        # The manifest states what the file declares.
        sig = E.onnx_signature(os.path.join(self.out, "model.onnx"))
        self.assertEqual(sig["inputs"][0]["shape"], report["onnx"]["input"]["shape"])
        self.assertEqual(sig["outputs"][0]["shape"], report["onnx"]["output"]["shape"])
        # The 22 x 108 gather is part of the exported graph.
        self.assertTrue({"Reshape", "Transpose", "Concat", "Softmax"} <= set(sig["opTypes"]), sig["opTypes"])

        self.assertEqual(report["arch"], "ser-cnn")
        self.assertEqual(report["epochsRun"], 3)
        self.assertEqual(len(report["history"]), 3)
        self.assertEqual(report["stoppedReason"], "max-epochs")
        self.assertTrue(report["hyperParameters"]["classWeights"])
        self.assertEqual(len(report["scaler"]["mean"]), 2376)
        self.assertEqual(len(report["scaler"]["scale"]), 2376)
        cm = np.array(report["test"]["confusionMatrix"])
        self.assertEqual(cm.shape, (8, 8))
        self.assertEqual(int(cm.sum()), len(self.split_doc["test"]))
        for key in ("accuracy", "ua", "macroF1"):
            self.assertTrue(0.0 <= report["test"][key] <= 1.0)
        self.assertEqual(set(report["testByChannel"]), {"speech", "song"})

    def test_reference_and_reload(self):
        ref = _read_json(os.path.join(self.out, "reference.json"))
        report = _read_json(os.path.join(self.out, "train-report.json"))
        self.assertEqual(len(ref["inputs"]), 4)
        self.assertTrue(all(len(v) == 2376 for v in ref["inputs"]))
        self.assertTrue(set(ref["rows"]) <= set(self.split_doc["train"]))
        probs = np.array(ref["probabilities"], dtype=np.float32)
        self.assertEqual(probs.shape, (4, 8))
        np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
        # The inputs are the raw rows put through the reported scaler.
        raw = np.array(ref["rawInputs"], dtype=np.float64)
        scaled = (raw - np.array(report["scaler"]["mean"])) / np.array(report["scaler"]["scale"])
        np.testing.assert_allclose(np.array(ref["inputs"]), scaled, rtol=1e-5, atol=1e-5)

        x = np.array(ref["inputs"], dtype=np.float32)
        model, _ = E.load_model_file(os.path.join(self.out, "model.pt"))
        self.assertTrue(np.array_equal(E.predict_proba(model, x), probs))
        # The checkpoint's best weights are the same model.
        ckpt = torch.load(os.path.join(self.out, "checkpoint.pt"), map_location="cpu")
        model2 = build_model("ser-cnn")
        model2.load_state_dict(ckpt["state"]["best_state"])
        self.assertTrue(np.array_equal(E.predict_proba(model2, x), probs))

    def test_deterministic_and_resumable_across_sittings(self):
        out = os.path.join(self.tmp, "sittings")
        codes = []
        # --max-minutes 0: every sitting stops after one epoch; the third finishes the run.
        for extra in (["--max-minutes", "0"], ["--resume", "--max-minutes", "0"], ["--resume"]):
            code, log = run_trainer(self.common + ["--out", out] + extra)
            codes.append(code)
        self.assertEqual(codes, [EXIT_TIME_BUDGET, EXIT_TIME_BUDGET, 0], log)
        self.assertIn("training done", log)
        a = _read_json(os.path.join(self.out, "train-report.json"))
        b = _read_json(os.path.join(out, "train-report.json"))
        self.assertEqual(_without_timing(a["history"]), _without_timing(b["history"]))
        self.assertEqual(a["test"], b["test"])
        self.assertEqual(b["sittings"], 3)
        ra = _read_json(os.path.join(self.out, "reference.json"))
        rb = _read_json(os.path.join(out, "reference.json"))
        self.assertEqual(ra["probabilities"], rb["probabilities"])

    def test_resume_refuses_changed_settings_and_existing_checkpoint(self):
        out = os.path.join(self.tmp, "guard")
        shutil.copytree(self.out, out)
        code, log = run_trainer(self.common + ["--out", out, "--resume", "--lr", "0.01"])
        self.assertEqual(code, 1)
        self.assertIn("lr", log)
        code, log = run_trainer(self.common + ["--out", out])
        self.assertEqual(code, 1)
        self.assertIn("--resume", log)
        # Resuming a finished run just redoes the evaluation and export.
        code, log = run_trainer(self.common + ["--out", out, "--resume"])
        self.assertEqual(code, 0, log)
        self.assertNotIn("epoch 4", log)

    def test_no_finalize_then_resume(self):
        out = os.path.join(self.tmp, "no-finalize")
        code, log = run_trainer(self.common + ["--out", out, "--no-finalize", "--device", "auto"])
        self.assertEqual(code, 0, log)
        self.assertTrue(os.path.isfile(os.path.join(out, "checkpoint.pt")))
        self.assertFalse(os.path.exists(os.path.join(out, "model.onnx")))
        code, log = run_trainer(self.common + ["--out", out, "--resume"])
        self.assertEqual(code, 0, log)
        a = _read_json(os.path.join(self.out, "reference.json"))
        b = _read_json(os.path.join(out, "reference.json"))
        self.assertEqual(a["probabilities"], b["probabilities"])
        report = _read_json(os.path.join(out, "train-report.json"))
        self.assertEqual([t["device"] for t in report["trainedOn"]], ["cpu"])  # no GPU in the tests

    def test_portable_checkpoint_finishes_elsewhere(self):
        packed = os.path.join(self.tmp, "packed")
        doc = portable.pack(os.path.join(self.out, "checkpoint.pt"), packed, part_bytes=100_000)
        self.assertGreater(len(doc["parts"]), 1)
        self.assertTrue(all(p["bytes"] <= 100_000 for p in doc["parts"]))
        out = os.path.join(self.tmp, "unpacked")
        portable.unpack(packed, os.path.join(out, "checkpoint.pt"))
        code, log = run_trainer(self.common + ["--out", out, "--resume"])
        self.assertEqual(code, 0, log)
        a = _read_json(os.path.join(self.out, "train-report.json"))
        b = _read_json(os.path.join(out, "train-report.json"))
        self.assertEqual(_without_timing(a["history"]), _without_timing(b["history"]))
        self.assertEqual(a["test"], b["test"])
        ra = _read_json(os.path.join(self.out, "reference.json"))
        rb = _read_json(os.path.join(out, "reference.json"))
        self.assertEqual(ra["probabilities"], rb["probabilities"])
        # The weights-only checkpoint cannot be trained further ...
        code, log = run_trainer(self.common + ["--out", out, "--resume", "--epochs", "4"])
        self.assertEqual(code, 1)
        self.assertIn("--epochs 3", log)
        # ... and a damaged part is caught.
        with open(os.path.join(packed, doc["parts"][0]["file"]), "r+b") as f:
            f.write(b"\x00\x01")
        with self.assertRaises(ValueError):
            portable.read_weights(packed)


class WeightAverageEndToEnd(unittest.TestCase):
    def test_averaged_weights_are_kept_and_resume_across_sittings(self):
        with tempfile.TemporaryDirectory(prefix="ser-train-test-") as tmp:
            data, split = _tiny_feature_set(tmp)
            common = ["--data", data, "--split", split, "--arch", "ser-cnn", "--epochs", "3", "--batch-size", "32",
                      "--no-bench", "--threads", "1"]
            plain, averaged, sittings = (os.path.join(tmp, n) for n in ("plain", "averaged", "sittings"))
            self.assertEqual(run_trainer(common + ["--out", plain])[0], 0)
            code, log = run_trainer(common + ["--out", averaged, "--ema", "0.5"])
            self.assertEqual(code, 0, log)
            for extra in (["--max-minutes", "0"], ["--resume", "--max-minutes", "0"], ["--resume"]):
                code, log = run_trainer(common + ["--ema", "0.5", "--out", sittings] + extra)
            self.assertEqual(code, 0, log)
            a = _read_json(os.path.join(averaged, "train-report.json"))
            b = _read_json(os.path.join(sittings, "train-report.json"))
            self.assertEqual(a["hyperParameters"]["emaHalfLifeEpochs"], 0.5)
            self.assertEqual(_without_timing(a["history"]), _without_timing(b["history"]))
            # The same training steps: identical training figures, other validated (averaged) weights.
            p = _read_json(os.path.join(plain, "train-report.json"))
            self.assertEqual([h["trainLoss"] for h in p["history"]], [h["trainLoss"] for h in a["history"]])
            self.assertNotEqual([h["valLoss"] for h in p["history"]], [h["valLoss"] for h in a["history"]])
            ra = _read_json(os.path.join(averaged, "reference.json"))
            rb = _read_json(os.path.join(sittings, "reference.json"))
            self.assertEqual(ra["probabilities"], rb["probabilities"])
            # Resuming with another half-life is another run.
            code, log = run_trainer(common + ["--ema", "1", "--out", sittings, "--resume"])
            self.assertEqual(code, 1)
            self.assertIn("ema", log)


class SerCnnEnsembleEndToEnd(unittest.TestCase):
    def test_tiny_training_export_and_member_figures(self):
        with tempfile.TemporaryDirectory(prefix="ser-train-test-") as tmp:
            data, split = _tiny_feature_set(tmp)
            out = os.path.join(tmp, "out")
            code, log = run_trainer(["--data", data, "--split", split, "--arch", "ser-cnn-ensemble", "--out", out,
                                     "--epochs", "2", "--batch-size", "32", "--no-bench", "--threads", "1"])
            self.assertEqual(code, 0, log)
            report = _read_json(os.path.join(out, "train-report.json"))
            self.assertEqual(report["arch"], "ser-cnn-ensemble")
            self.assertEqual(report["onnx"]["output"]["shape"], ["batch", 8])
            self.assertEqual(len(report["members"]), 3)
            for member in report["members"]:
                self.assertTrue(0.0 <= member["test"]["ua"] <= 1.0)
                self.assertEqual(set(member), {"test", "speech", "song"})
            # Train loss is the members' mean loss, validation loss the ensemble's: both finite.
            self.assertTrue(all(np.isfinite(h["trainLoss"]) and np.isfinite(h["valLoss"]) for h in report["history"]))
            ref = _read_json(os.path.join(out, "reference.json"))
            model, _ = E.load_model_file(os.path.join(out, "model.pt"))
            x = np.array(ref["inputs"], dtype=np.float32)
            self.assertTrue(np.array_equal(E.predict_proba(model, x), np.array(ref["probabilities"], dtype=np.float32)))


class SeedCnnEndToEnd(unittest.TestCase):
    def test_tiny_training_and_export(self):
        with tempfile.TemporaryDirectory(prefix="ser-train-test-") as tmp:
            data = os.path.join(tmp, "data")
            rows = make_dataset(data, actors=range(1, 7), clips_per_actor=8)
            split = os.path.join(tmp, "split.json")
            make_actor_split(split, rows, test_actors=(5, 6), validation_actors=(1, 2))
            out = os.path.join(tmp, "out")
            # A handful of rows: the seed network costs ~2 GMAC per row and pass.
            with open(split) as f:
                doc = json.load(f)
            doc["train"], doc["validation"], doc["test"] = doc["train"][:8], doc["validation"][:4], doc["test"][:4]
            with open(split, "w") as f:
                json.dump(doc, f)
            code, log = run_trainer(["--data", data, "--split", split, "--arch", "seed-cnn", "--out", out,
                                     "--epochs", "1", "--batch-size", "8", "--no-bench", "--threads", "1"])
            self.assertEqual(code, 0, log)
            report = _read_json(os.path.join(out, "train-report.json"))
            self.assertEqual(report["parameterCount"], 7_193_736)
            self.assertFalse(report["hyperParameters"]["classWeights"])
            self.assertEqual(report["onnx"]["input"]["shape"], ["batch", 2376])
            self.assertEqual(report["onnx"]["output"]["shape"], ["batch", 8])
            ref = _read_json(os.path.join(out, "reference.json"))
            model, _ = E.load_model_file(os.path.join(out, "model.pt"))
            x = np.array(ref["inputs"], dtype=np.float32)
            self.assertTrue(np.array_equal(E.predict_proba(model, x), np.array(ref["probabilities"], dtype=np.float32)))


if __name__ == "__main__":
    unittest.main()
