import unittest

import torch
import torch.nn.functional as F

from _helpers import TRAINING_DIR  # noqa: F401  (puts ser_train on sys.path)
from ser_train.models import (
    ENSEMBLE_MEMBERS, KerasSameMaxPool1d, SeedCnn, SerCnn, SerCnnEnsemble, ProbabilityModel,
    _keras_same_pool_pads, build_model, keras_param_count, to_channels,
)
from ser_train.trainer import WeightAverage


class SeedCnnTest(unittest.TestCase):
    def test_parameter_count_matches_keras(self):
        # The Keras summary of the seed network: 7,193,736 (BN moving mean/var included).
        self.assertEqual(keras_param_count(SeedCnn()), 7_193_736)

    def test_lengths_and_flatten(self):
        m = SeedCnn()
        pools = [l for l in m.features if isinstance(l, KerasSameMaxPool1d)]
        self.assertEqual([p.out_length for p in pools], [1188, 594, 297, 149, 75])
        self.assertEqual(m.dense.in_features, 128 * 75)
        with torch.no_grad():
            self.assertEqual(tuple(m.features(torch.zeros(2, 1, 2376)).shape), (2, 128, 75))

    def test_keras_defaults(self):
        bn = SeedCnn().features[2]
        self.assertAlmostEqual(bn.momentum, 0.01)
        self.assertAlmostEqual(bn.eps, 1e-3)

    def test_same_pooling_equals_explicit_minus_inf_padding(self):
        torch.manual_seed(0)
        for length, k in [(2376, 5), (1188, 5), (594, 5), (297, 5), (149, 3), (10, 3), (8, 5), (9, 4)]:
            x = torch.randn(2, 3, length)
            left, right, out = _keras_same_pool_pads(length, k, 2)
            expected = F.max_pool1d(F.pad(x, (left, right), value=float("-inf")), k, 2)
            got = KerasSameMaxPool1d(length, k)(x)
            self.assertEqual(got.shape[-1], out)
            self.assertTrue(torch.equal(got, expected), f"L={length} k={k}")

    def test_tensorflow_padding_rule(self):
        self.assertEqual(_keras_same_pool_pads(2376, 5, 2), (1, 2, 1188))  # odd total: extra on the right
        self.assertEqual(_keras_same_pool_pads(297, 5, 2), (2, 2, 149))
        self.assertEqual(_keras_same_pool_pads(149, 3, 2), (1, 1, 75))


class SerCnnTest(unittest.TestCase):
    def test_channel_gather(self):
        x = torch.arange(2376, dtype=torch.float32).unsqueeze(0)
        c = to_channels(x)
        self.assertEqual(tuple(c.shape), (1, 22, 108))
        self.assertTrue(torch.equal(c[0, 0], x[0, :108]))  # zcr
        self.assertTrue(torch.equal(c[0, 1], x[0, 108:216]))  # rms
        for coef in (0, 7, 19):
            for t in (0, 50, 107):  # MFCC stored frame-major: frame t, coefficient k at 216 + 20 t + k
                self.assertEqual(float(c[0, 2 + coef, t]), float(216 + 20 * t + coef))

    def test_size(self):
        n = keras_param_count(SerCnn())
        self.assertTrue(150_000 <= n <= 500_000, n)

    def test_augmentation_only_in_training(self):
        torch.manual_seed(0)
        m = SerCnn()
        x = torch.randn(4, 2376)
        m.eval()
        with torch.no_grad():
            a, b = m(x), m(x)
        self.assertTrue(torch.equal(a, b))
        m.train()
        with torch.no_grad():
            c, d = m(x), m(x)
        self.assertFalse(torch.equal(c, d))


class SerCnnEnsembleTest(unittest.TestCase):
    def test_members_are_independent_ser_cnns(self):
        torch.manual_seed(0)
        m = SerCnnEnsemble()
        self.assertEqual(len(m.members), ENSEMBLE_MEMBERS)
        self.assertEqual(keras_param_count(m), ENSEMBLE_MEMBERS * keras_param_count(SerCnn()))
        w = [member.classifier.weight for member in m.members]
        self.assertFalse(torch.equal(w[0], w[1]))  # initialised independently

    def test_training_stacks_logits_and_serving_averages_probabilities(self):
        torch.manual_seed(0)
        m = SerCnnEnsemble()
        x = torch.randn(5, 2376)
        m.train()
        self.assertEqual(tuple(m(x).shape), (ENSEMBLE_MEMBERS, 5, 8))
        m.eval()
        with torch.no_grad():
            served = ProbabilityModel(m)(x)
            mean = torch.stack([torch.softmax(member(x), dim=1) for member in m.members]).mean(0)
        self.assertTrue(torch.allclose(served, mean, atol=1e-6), (served - mean).abs().max())


class ProbabilityModelTest(unittest.TestCase):
    def test_shapes_and_softmax(self):
        for arch in ("seed-cnn", "ser-cnn", "ser-cnn-ensemble"):
            m = ProbabilityModel(build_model(arch)).eval()
            with torch.no_grad():
                p = m(torch.randn(3, 2376))
            self.assertEqual(tuple(p.shape), (3, 8))
            self.assertTrue(torch.allclose(p.sum(1), torch.ones(3), atol=1e-5))


class WeightAverageTest(unittest.TestCase):
    def test_follows_weights_and_batchnorm_statistics_with_warm_up(self):
        torch.manual_seed(0)
        model = SerCnn()
        average = WeightAverage(model, decay=0.99)
        w0 = model.classifier.weight.detach().clone()
        mean0 = model.body[1].running_mean.clone()
        with torch.no_grad():
            model.classifier.weight.add_(1.0)
            model.body[1].running_mean.add_(2.0)
        average.update(model)  # first update: decay min(0.99, 2/11)
        d = 2 / 11
        self.assertTrue(torch.allclose(average.model.classifier.weight, d * w0 + (1 - d) * (w0 + 1.0)))
        self.assertTrue(torch.allclose(average.model.body[1].running_mean, d * mean0 + (1 - d) * (mean0 + 2.0)))
        self.assertFalse(any(p.requires_grad for p in average.model.parameters()))
        for _ in range(1000):
            average.update(model)  # the decay is 0.99 once (1 + n) / (10 + n) exceeds it
        self.assertTrue(torch.allclose(average.model.classifier.weight, model.classifier.weight, atol=1e-4))


if __name__ == "__main__":
    unittest.main()
