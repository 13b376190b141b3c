import json
import os
import tempfile
import unittest

from _helpers import TRAINING_DIR  # noqa: F401  (puts training/ on sys.path)
from six_fold_summary import summarize

CORPUS = "../shared/ravdess"


def _bundle(root, fold, speech_ua, arch="ser-cnn-ensemble"):
    d = os.path.join(root, f"fold-{fold}")
    os.makedirs(d)
    figures = lambda ua: {"count": 10, "wa": ua + 0.01, "ua": ua}  # noqa: E731
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump({"architecture": arch, "training": {"fold": fold},
                   "metrics": {"servingPath": {CORPUS: {"speech": figures(speech_ua), "song": figures(0.5)}}}}, f)
    with open(os.path.join(d, "train-report.json"), "w") as f:
        json.dump({"wallSeconds": 600 + fold, "epochsRun": 20, "bestEpoch": 10}, f)
    return d


class SixFoldSummaryTest(unittest.TestCase):
    def test_mean_and_population_std_over_the_folds(self):
        with tempfile.TemporaryDirectory() as tmp:
            dirs = {k: _bundle(tmp, k, ua) for k, ua in zip(range(1, 7), (0.6, 0.7, 0.6, 0.7, 0.6, 0.7))}
            s = summarize(dirs, CORPUS, "test")
            self.assertAlmostEqual(s["speech"]["ua"]["mean"], 0.65)
            self.assertAlmostEqual(s["speech"]["ua"]["std"], 0.05)
            self.assertAlmostEqual(s["speech"]["wa"]["mean"], 0.66)
            self.assertEqual(s["song"]["ua"]["folds"], [0.5] * 6)
            self.assertEqual([f["fold"] for f in s["folds"]], [1, 2, 3, 4, 5, 6])
            self.assertEqual(s["folds"][0]["minutes"], 10.0)
            self.assertEqual(s["arch"], "ser-cnn-ensemble")

    def test_refuses_a_bundle_of_another_fold_or_architecture(self):
        with tempfile.TemporaryDirectory() as tmp:
            dirs = {k: _bundle(tmp, k, 0.6) for k in range(1, 7)}
            with self.assertRaisesRegex(ValueError, "fold 2, not 1"):
                summarize({**dirs, 1: dirs[2]}, CORPUS, "")
            other = _bundle(os.path.join(tmp, "x"), 3, 0.6, arch="ser-cnn")
            with self.assertRaisesRegex(ValueError, "ser-cnn"):
                summarize({**dirs, 3: other}, CORPUS, "")
