"""The two architectures. Both map the scaled flat 2376-vector to 8 logits;
`ProbabilityModel` adds the softmax for export and inference."""

import math

import torch
from torch import nn
import torch.nn.functional as F

VECTOR_LENGTH = 2376
FRAMES = 108
N_MFCC = 20
N_CLASSES = 8

ARCHS = ("seed-cnn", "ser-cnn", "ser-cnn-ensemble")
ENSEMBLE_MEMBERS = 3


def _keras_same_pool_pads(length, kernel, stride):
    """Keras/TensorFlow 'same' pooling: output ceil(L/s), the extra padding
    going to the right when the total is odd."""
    out = math.ceil(length / stride)
    total = max((out - 1) * stride + kernel - length, 0)
    return total // 2, total - total // 2, out


class KerasSameMaxPool1d(nn.Module):
    """MaxPool1D(pool_size=k, strides=2, padding='same') for a fixed input length.

    Keras pads (left, right) = (t//2, t - t//2). With stride 2 that is either
    symmetric (PyTorch padding=t//2), or one more on the right, which is what
    ceil_mode adds to symmetric padding t//2. Either way the export is a single
    ONNX MaxPool whose implicit padding never wins the max (as Keras' -inf)."""

    def __init__(self, length, kernel, stride=2):
        super().__init__()
        if stride != 2:
            raise ValueError("only stride 2 is needed (and verified)")
        self.kernel, self.stride = kernel, stride
        pad_left, pad_right, self.out_length = _keras_same_pool_pads(length, kernel, stride)
        self.padding, self.ceil_mode = pad_left, pad_right > pad_left
        # PyTorch's own output-length rule must agree with Keras'.
        n = (length + 2 * pad_left - kernel) / stride
        assert (math.ceil(n) if self.ceil_mode else math.floor(n)) + 1 == self.out_length

    def forward(self, x):
        return F.max_pool1d(x, self.kernel, self.stride, padding=self.padding, ceil_mode=self.ceil_mode)


def _keras_bn(channels):
    # Keras BatchNormalization defaults: momentum 0.99 (PyTorch counts the other way), epsilon 1e-3.
    return nn.BatchNorm1d(channels, eps=1e-3, momentum=0.01)


class SeedCnn(nn.Module):
    """The seed project's Keras network, layer for layer, on the vector seen as
    a (2376, 1) sequence: one input channel, length 2376."""

    # (out_channels, conv kernel, pool kernel, dropout after the pool)
    BLOCKS = ((512, 5, 5, 0.0), (512, 5, 5, 0.2), (256, 5, 5, 0.0), (256, 3, 5, 0.2), (128, 3, 3, 0.2))

    def __init__(self, length=VECTOR_LENGTH, n_classes=N_CLASSES):
        super().__init__()
        layers = []
        in_ch = 1
        for out_ch, k, pool_k, drop in self.BLOCKS:
            # Odd kernels with stride 1: Keras 'same' is symmetric padding k//2.
            layers += [nn.Conv1d(in_ch, out_ch, k, padding=k // 2), nn.ReLU(), _keras_bn(out_ch)]
            pool = KerasSameMaxPool1d(length, pool_k, 2)
            layers.append(pool)
            length = pool.out_length
            if drop:
                layers.append(nn.Dropout(drop))
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.flat_length = length  # 75
        self.dense = nn.Linear(in_ch * length, 512)
        self.dense_bn = _keras_bn(512)
        self.classifier = nn.Linear(512, n_classes)
        self._keras_init()

    def _keras_init(self):
        # Keras defaults: glorot_uniform kernels, zero biases.
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.features(x.unsqueeze(1))  # [B, 1, 2376] -> [B, 128, 75]
        # Keras flattens channels-last (time-major); doing the same keeps the
        # Dense weight layout interchangeable with a Keras checkpoint.
        x = x.transpose(1, 2).flatten(1)
        x = self.dense_bn(F.relu(self.dense(x)))
        return self.classifier(x)


def to_channels(x):
    """Flat [B, 2376] vector -> [B, 22, 108]: zcr, rms, then MFCC c0..c19 as
    channels over time. The MFCC block is stored frame-major (frame 0 c0..c19,
    frame 1 ...), hence the transpose."""
    zr = x[:, : 2 * FRAMES].reshape(-1, 2, FRAMES)
    mfcc = x[:, 2 * FRAMES:].reshape(-1, FRAMES, N_MFCC).transpose(1, 2)
    return torch.cat([zr, mfcc], dim=1)


class TrainingAugment(nn.Module):
    """SpecAugment-style masking and Gaussian noise on the scaled [B, C, T]
    input, active only in training mode (so never part of the exported graph).
    Masked values are set to 0, the training mean after scaling."""

    def __init__(self, time_masks=2, max_time_width=12, channel_masks=1, max_channel_width=3, noise_std=0.05):
        super().__init__()
        self.time_masks, self.max_time_width = time_masks, max_time_width
        self.channel_masks, self.max_channel_width = channel_masks, max_channel_width
        self.noise_std = noise_std

    @staticmethod
    def _band_mask(batch, size, n_masks, max_width):
        # [batch, size] boolean mask made of n_masks random bands of width 0..max_width.
        mask = torch.zeros(batch, size, dtype=torch.bool)
        pos = torch.arange(size).unsqueeze(0)
        for _ in range(n_masks):
            width = torch.randint(0, max_width + 1, (batch, 1))
            start = (torch.rand(batch, 1) * (size - width + 1)).floor().long()
            mask |= (pos >= start) & (pos < start + width)
        return mask

    def forward(self, x):
        if not self.training:
            return x
        b, c, t = x.shape
        if self.time_masks and self.max_time_width:
            x = x.masked_fill(self._band_mask(b, t, self.time_masks, self.max_time_width).unsqueeze(1), 0.0)
        if self.channel_masks and self.max_channel_width:
            x = x.masked_fill(self._band_mask(b, c, self.channel_masks, self.max_channel_width).unsqueeze(2), 0.0)
        if self.noise_std:
            x = x + self.noise_std * torch.randn_like(x)
        return x


def _conv_bn_relu(cin, cout, k, dilation=1):
    return [
        nn.Conv1d(cin, cout, k, padding=dilation * (k - 1) // 2, dilation=dilation, bias=False),
        nn.BatchNorm1d(cout),
        nn.ReLU(inplace=True),
    ]


class SerCnn(nn.Module):
    """Small temporal CNN over 22 feature channels x 108 frames.

    Global average + max pooling over time makes it insensitive to where in the
    2.5 s window the emotional cue sits; the small size and the training-time
    masking/noise are aimed at generalising across speakers rather than
    memorising them."""

    def __init__(self, n_classes=N_CLASSES, widths=(64, 128, 128, 192), dropout=0.4, augment=True):
        super().__init__()
        w1, w2, w3, w4 = widths
        self.augment = TrainingAugment() if augment else nn.Identity()
        self.body = nn.Sequential(
            *_conv_bn_relu(2 + N_MFCC, w1, 5),
            *_conv_bn_relu(w1, w2, 5),
            nn.MaxPool1d(2),  # 108 -> 54
            *_conv_bn_relu(w2, w3, 3, dilation=2),
            nn.MaxPool1d(2),  # 54 -> 27
            *_conv_bn_relu(w3, w4, 3),
        )
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * w4, n_classes)

    def forward(self, x):
        x = self.augment(to_channels(x))
        x = self.body(x)
        x = torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1)
        return self.classifier(self.dropout(x))


class SerCnnEnsemble(nn.Module):
    """Several independently initialised SerCnn members trained side by side.

    In training mode the members' logits come back stacked, [members, B, 8], so each
    member is trained on its own loss (they share batches, not gradients). In eval
    mode the output is the log of the members' mean probability: its softmax is
    exactly that mean, which is what is exported and served."""

    def __init__(self, members=ENSEMBLE_MEMBERS, augment=True):
        super().__init__()
        self.members = nn.ModuleList(SerCnn(augment=augment) for _ in range(members))

    def forward(self, x):
        logits = torch.stack([m(x) for m in self.members])
        if self.training:
            return logits
        return torch.logsumexp(F.log_softmax(logits, dim=2), dim=0) - math.log(len(self.members))


def mean_logits(logits):
    """Training output of any architecture as one [B, 8] score per row (for accuracy)."""
    return logits.mean(dim=0) if logits.dim() == 3 else logits


class ProbabilityModel(nn.Module):
    """Wraps a logits model with the softmax: what is exported and served."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, features):
        return torch.softmax(self.model(features), dim=1)


def build_model(arch, augment=True):
    if arch == "seed-cnn":
        return SeedCnn()
    if arch == "ser-cnn":
        return SerCnn(augment=augment)
    if arch == "ser-cnn-ensemble":
        return SerCnnEnsemble(augment=augment)
    raise ValueError(f"unknown arch {arch!r} (expected one of {', '.join(ARCHS)})")


def keras_param_count(model):
    """Parameters as Keras counts them: trainable ones plus BatchNorm moving
    mean and variance (4 per BN channel in all)."""
    n = sum(p.numel() for p in model.parameters())
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            n += m.running_mean.numel() + m.running_var.numel()
    return n


def trainable_param_count(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
