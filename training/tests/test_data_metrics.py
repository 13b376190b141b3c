import json
import os
import tempfile
import unittest

import numpy as np

from _helpers import TRAINING_DIR  # noqa: F401
from ser_train import data as D
from ser_train.metrics import classification_metrics
from ser_train.synthetic import make_dataset
from ser_train.trainer import batches, stop_reason


class ScalerTest(unittest.TestCase):
    def test_population_std_and_constant_features(self):
        rng = np.random.default_rng(1)
        x = rng.normal(3, 2, size=(50, 4)).astype(np.float32)
        x[:, 2] = 7.0  # constant -> scale 1, as sklearn
        s = D.StandardScaler.fit(x)
        np.testing.assert_allclose(s.mean, x.astype(np.float64).mean(0))
        expected = x.astype(np.float64).std(0)
        expected[2] = 1.0
        np.testing.assert_allclose(s.scale, expected)
        y = s.transform(x)
        self.assertEqual(y.dtype, np.float32)
        np.testing.assert_allclose(y[:, 2], 0.0)
        np.testing.assert_allclose(y[:, [0, 1, 3]].mean(0), 0.0, atol=1e-5)


class ClassWeightTest(unittest.TestCase):
    def test_balanced_and_absent(self):
        w, counts = D.class_weights(np.array([0, 0, 0, 1, 2, 2]), 4)
        self.assertEqual(counts.tolist(), [3, 1, 2, 0])
        np.testing.assert_allclose(w, [6 / (3 * 3), 6 / (3 * 1), 6 / (3 * 2), 0.0])


class MetricsTest(unittest.TestCase):
    def test_against_hand_computation(self):
        names = [str(i) for i in range(8)]
        y = np.array([0, 0, 0, 0, 1, 1, 2, 2])
        p = np.array([0, 0, 0, 1, 1, 0, 2, 3])
        m = classification_metrics(y, p, names)
        self.assertAlmostEqual(m["accuracy"], 5 / 8)
        # Recalls over present classes 0, 1, 2: 3/4, 1/2, 1/2.
        self.assertAlmostEqual(m["ua"], (0.75 + 0.5 + 0.5) / 3)
        # F1 over classes seen in y or p (0..3): 0: p 3/4 r 3/4; 1: p 1/2 r 1/2; 2: p 1 r 1/2; 3: 0.
        f1 = [0.75, 0.5, 2 * 0.5 / 1.5, 0.0]
        self.assertAlmostEqual(m["macroF1"], sum(f1) / 4)
        self.assertEqual(m["confusionMatrix"][0][:2], [3, 1])
        self.assertEqual(len(m["confusionMatrix"]), 8)
        self.assertEqual(m["perClass"]["1"]["support"], 2)


class LoadingTest(unittest.TestCase):
    def test_round_trip_and_size_check(self):
        with tempfile.TemporaryDirectory() as d:
            rows = make_dataset(d, actors=[1, 2], clips_per_actor=8)
            ds = D.load_dataset(d)
            self.assertEqual(ds.features.shape, (16, 2376))
            self.assertEqual(ds.labels.tolist(), [r["label"] for r in rows])
            with open(os.path.join(d, "features.f32"), "ab") as f:
                f.write(b"\0\0\0\0")
            with self.assertRaises(D.DataError):
                D.load_dataset(d)

    def test_split_bounds(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "split.json")
            with open(path, "w") as f:
                json.dump({"train": [0, 1], "validation": [2], "test": [9]}, f)
            with self.assertRaises(D.DataError):
                D.load_split(path, 5)


class LoopHelpersTest(unittest.TestCase):
    def test_batches_never_end_with_a_single_row(self):
        self.assertEqual(batches(10, 4), [(0, 4), (4, 8), (8, 10)])
        self.assertEqual(batches(9, 4), [(0, 4), (4, 9)])
        self.assertEqual(batches(1, 4), [(0, 1)])

    def test_stop_reason(self):
        self.assertIsNone(stop_reason({"epoch": 3, "bad_epochs": 1}, 5, 2))
        self.assertEqual(stop_reason({"epoch": 5, "bad_epochs": 0}, 5, 2), "max-epochs")
        self.assertEqual(stop_reason({"epoch": 3, "bad_epochs": 2}, 5, 2), "early-stopping")
        # A resumed run with more patience goes on.
        self.assertIsNone(stop_reason({"epoch": 3, "bad_epochs": 2}, 5, 4))


if __name__ == "__main__":
    unittest.main()
