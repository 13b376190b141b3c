"""Command line, training loop, checkpoint/resume, final evaluation and export."""

import argparse
import copy
import hashlib
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import data as D
from . import export as E
from .metrics import classification_metrics
from .models import ARCHS, build_model, mean_logits, keras_param_count, trainable_param_count, N_CLASSES, VECTOR_LENGTH

REPORT_FORMAT = "ser-train-report/1"
CHECKPOINT_FORMAT = "ser-checkpoint/1"
EXIT_TIME_BUDGET = 3  # stopped by --max-minutes; rerun with --resume to go on

# Per-architecture defaults (an explicit flag always wins).
ARCH_DEFAULTS = {
    "seed-cnn": {"class_weights": False, "epochs": 50, "mixup": 0.0, "ema": 0.0},
    # mixup 0.2 gave +2.5 points of UA (each of 3 speaker-independent dev folds within actors 1-20).
    "ser-cnn": {"class_weights": True, "epochs": 80, "mixup": 0.2, "ema": 0.0},
    # At most 36 epochs: ~29 s each on the 2-core machine, so a run fits in 20 minutes
    # (the six actor-6fold runs stopped or peaked between epochs 8 and 30).
    # Weight averaging (half-life 1 epoch): test UA +2.7, -0.8, +2.0 points on the same dev folds.
    "ser-cnn-ensemble": {"class_weights": True, "epochs": 36, "mixup": 0.2, "ema": 1.0},
}

# Settings that define the training run: --resume refuses a checkpoint made with others.
# (--epochs, --patience, --max-minutes and --threads may change between sittings.)
FIXED_SETTINGS = (
    "arch", "seed", "batch_size", "lr", "optimizer", "weight_decay", "lr_patience", "lr_factor",
    "min_lr", "class_weights", "mixup", "augment", "ema",
)
# Settings added later, with the value that means what checkpoints written before them did.
LATER_SETTINGS = {"ema": 0.0}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="train.py",
        description="Train a speech-emotion classifier on a ser-dataset/1 feature set, evaluate it on the "
        "split's test rows and export it to ONNX (input 'features' [batch, 2376] scaled, output "
        "'probabilities' [batch, 8]).",
        epilog=f"Exit status: 0 done, 1 error, 2 bad usage, {EXIT_TIME_BUDGET} stopped by --max-minutes "
        "(checkpoint saved; run again with --resume).",
    )
    p.add_argument("--data", required=True, help="feature-set directory (features.f32 + meta.json)")
    p.add_argument("--split", required=True, help="split JSON with train/validation/test row indices")
    p.add_argument("--arch", required=True, choices=ARCHS)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--epochs", type=int, help="maximum epochs (default: seed-cnn 50, ser-cnn 80, ser-cnn-ensemble 36)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3, help="initial learning rate (default 1e-3)")
    p.add_argument("--optimizer", choices=("adam", "rmsprop"), default="adam",
                   help="Adam or RMSprop, with Keras' defaults (eps 1e-7; RMSprop rho 0.9)")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 penalty added to the gradient (default 0)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--patience", type=int, default=10,
                   help="early stopping: epochs without a lower validation loss (default 10)")
    p.add_argument("--lr-patience", type=int, default=3,
                   help="epochs without a lower validation loss before the learning rate is multiplied by "
                   "--lr-factor (default 3)")
    p.add_argument("--lr-factor", type=float, default=0.5)
    p.add_argument("--min-lr", type=float, default=1e-6)
    p.add_argument("--class-weights", dest="class_weights", action="store_true", default=None,
                   help="weighted cross-entropy, inverse class frequency of the train rows (default for ser-cnn)")
    p.add_argument("--no-class-weights", dest="class_weights", action="store_false",
                   help="plain cross-entropy (default for seed-cnn)")
    p.add_argument("--mixup", type=float, metavar="ALPHA",
                   help="mixup with Beta(ALPHA, ALPHA) mixing weights; 0 = off (default: ser-cnn 0.2, seed-cnn 0)")
    p.add_argument("--ema", type=float, metavar="HALF_LIFE",
                   help="validate, keep and export an exponential moving average of the weights, with a "
                   "half-life of HALF_LIFE epochs; 0 = off (default: ser-cnn-ensemble 1, the others 0)")
    p.add_argument("--no-augment", dest="augment", action="store_false",
                   help="ser-cnn: no training-time time/coefficient masking and noise")
    p.add_argument("--max-minutes", type=float,
                   help=f"stop after the epoch that crosses this many minutes of this sitting (exit {EXIT_TIME_BUDGET})")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoint.pt (starts fresh when there is none)")
    p.add_argument("--overwrite", action="store_true", help="start fresh even though OUT/checkpoint.pt exists")
    p.add_argument("--threads", type=int, default=2, help="PyTorch intra-op threads (default 2)")
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                   help="where to train: cpu (default), cuda, or auto (cuda when available). The final "
                   "evaluation runs there too; export, reference.json and the timing always run on the CPU")
    p.add_argument("--no-finalize", dest="finalize", action="store_false",
                   help="stop once training is over (checkpoint saved, exit 0) without evaluating or exporting; "
                   "run again with --resume, possibly elsewhere, to finish")
    p.add_argument("--no-bench", dest="bench", action="store_false",
                   help="skip the 1-thread inference timing at the end")
    args = p.parse_args(argv)
    defaults = ARCH_DEFAULTS[args.arch]
    if args.class_weights is None:
        args.class_weights = defaults["class_weights"]
    if args.epochs is None:
        args.epochs = defaults["epochs"]
    if args.mixup is None:
        args.mixup = defaults["mixup"]
    if args.ema is None:
        args.ema = defaults["ema"]
    if args.arch == "seed-cnn":
        args.augment = False  # the seed network is reproduced as it was: no augmentation layer
    if args.epochs < 1 or args.batch_size < 2 or args.patience < 1 or args.threads < 1 or args.mixup < 0 or args.ema < 0:
        p.error("--epochs, --patience and --threads must be >= 1, --batch-size >= 2, --mixup and --ema >= 0")
    if args.resume and args.overwrite:
        p.error("--resume and --overwrite exclude each other")
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: PyTorch sees no CUDA device")
    return args


def setup_determinism(seed, threads, device="cpu"):
    torch.set_num_threads(threads)
    if device == "cuda":
        # cuBLAS is deterministic only with a fixed workspace (must be set before its first use);
        # no TF32, so that GPU arithmetic stays float32 like the CPU's.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        # An op without a deterministic CUDA kernel warns instead of stopping the run.
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        torch.use_deterministic_algorithms(True)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def device_description(device):
    if device == "cuda":
        return f"cuda: {torch.cuda.get_device_name()}"
    return "cpu"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def batches(n, batch_size):
    """Batch boundaries; a final batch of one row joins the previous one
    (BatchNorm cannot normalise a single sample in training mode)."""
    bounds = list(range(0, n, batch_size)) + [n]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
        del bounds[-2]
    return list(zip(bounds[:-1], bounds[1:]))


def make_optimizer(args, model):
    if args.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=args.lr, eps=1e-7, weight_decay=args.weight_decay)
    return torch.optim.RMSprop(model.parameters(), lr=args.lr, alpha=0.9, eps=1e-7, weight_decay=args.weight_decay)


def weighted_ce_sum(logits, y, weight):
    """Sum of per-row (weighted) cross-entropy and sum of the weights, so that
    losses over several batches combine exactly as one batch would. Stacked
    ensemble logits [members, B, C] give each row its members' mean loss."""
    if logits.dim() == 3:
        k, b, c = logits.shape
        losses = F.cross_entropy(logits.reshape(k * b, c), y.repeat(k), reduction="none").reshape(k, b).mean(0)
    else:
        losses = F.cross_entropy(logits, y, reduction="none")
    w = weight[y] if weight is not None else torch.ones_like(losses)
    return (losses * w).sum(), w.sum()


def evaluate(model, x, y, weight, batch_size=256, device="cpu"):
    """Loss (same weighting as training), predictions, probabilities (numpy
    arrays in; the model and `weight` live on `device`)."""
    model.eval()
    loss_sum, w_sum, probs = 0.0, 0.0, []
    with torch.no_grad():
        for a, b in batches(len(x), batch_size):
            logits = model(torch.from_numpy(x[a:b]).to(device))
            ls, ws = weighted_ce_sum(logits, torch.from_numpy(y[a:b]).to(device), weight)
            loss_sum += float(ls)
            w_sum += float(ws)
            probs.append(torch.softmax(logits, dim=1).cpu())
    probs = torch.cat(probs).numpy()
    return loss_sum / max(w_sum, 1e-12), probs.argmax(axis=1), probs


class WeightAverage:
    """Exponential moving average of a model's weights and BatchNorm statistics, as timm's
    ModelEmaV2, with its warm-up: the decay is at most (1 + n) / (10 + n) after n updates,
    so the random initial weights are soon forgotten."""

    def __init__(self, model, decay):
        self.model = copy.deepcopy(model)
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.decay, self.updates = decay, 0

    @torch.no_grad()
    def update(self, model):
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for avg, now in zip(self.model.state_dict().values(), model.state_dict().values()):
            if avg.dtype.is_floating_point:
                avg.mul_(d).add_(now.detach(), alpha=1 - d)
            else:
                avg.copy_(now)  # BatchNorm's num_batches_tracked

    def state_dict(self):
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state):
        self.model.load_state_dict(state["model"])
        self.updates = state["updates"]


def train_epoch(model, optimizer, x, y, weight, args, epoch, average=None):
    """One pass over the training rows; x, y are tensors on the training device.
    `average`, a WeightAverage, follows the weights after every step."""
    model.train()
    # The order of rows depends only on (seed, epoch), so a resumed run shuffles identically.
    order = np.random.default_rng([args.seed, epoch]).permutation(len(x))
    loss_sum = w_sum = 0.0
    correct = 0
    beta = torch.distributions.Beta(args.mixup, args.mixup) if args.mixup > 0 else None
    for a, b in batches(len(x), args.batch_size):
        idx = torch.from_numpy(order[a:b]).to(x.device)
        xb, yb = x[idx], y[idx]
        if beta is not None:
            lam = float(beta.sample())
            perm = torch.randperm(len(idx)).to(x.device)
            logits = model(lam * xb + (1 - lam) * xb[perm])
            l1, w1 = weighted_ce_sum(logits, yb, weight)
            l2, w2 = weighted_ce_sum(logits, yb[perm], weight)
            loss, wsum = lam * l1 + (1 - lam) * l2, lam * w1 + (1 - lam) * w2
        else:
            logits = model(xb)
            loss, wsum = weighted_ce_sum(logits, yb, weight)
        optimizer.zero_grad(set_to_none=True)
        (loss / wsum).backward()
        optimizer.step()
        if average is not None:
            average.update(model)
        loss_sum += float(loss.detach())
        w_sum += float(wsum)
        correct += int((mean_logits(logits).argmax(1) == yb).sum())  # against the primary labels under mixup
    return loss_sum / w_sum, correct / len(x)


def stop_reason(state, max_epochs, patience):
    """Why training is over, or None. Computed from the saved state rather than
    stored, so a resumed run with more --epochs or --patience goes on."""
    if state["epoch"] >= max_epochs:
        return "max-epochs"
    if state["bad_epochs"] >= patience:
        return "early-stopping"
    return None


def record_validation(state, epoch, val_loss, model):
    """Early-stopping bookkeeping; keeps a copy of the best-by-validation weights."""
    improved = val_loss < state["best_val_loss"]
    if improved:
        state["best_val_loss"], state["best_epoch"], state["bad_epochs"] = val_loss, epoch, 0
        state["best_state"] = copy.deepcopy(model.state_dict())
    else:
        state["bad_epochs"] += 1
    return improved


def save_checkpoint(path, state):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)  # never leave a truncated checkpoint behind


def bench_inference(model, reps_seconds=2.0):
    """ms per clip at batch 1 and 32, eval mode, 1 thread (restored after)."""
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    model.eval()
    out = {}
    try:
        with torch.no_grad():
            for bs in (1, 32):
                x = torch.zeros(bs, VECTOR_LENGTH)
                model(x)  # warm-up
                n, t0 = 0, time.perf_counter()
                while n < 3 or (time.perf_counter() - t0 < reps_seconds and n < 200):
                    torch.softmax(model(x), dim=1)
                    n += 1
                out[f"batch{bs}"] = (time.perf_counter() - t0) / n / bs * 1000
    finally:
        torch.set_num_threads(prev)
    return out


def _fmt_hms(seconds):
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def run(argv=None):
    sitting_start = time.time()
    args = parse_args(argv)
    setup_determinism(args.seed, args.threads, args.device)
    device = torch.device(args.device)
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    if os.path.exists(ckpt_path) and not (args.resume or args.overwrite):
        log(f"error: {ckpt_path} exists; pass --resume to continue it or --overwrite to start again")
        return 1

    # --- data
    t0 = time.time()
    ds = D.load_dataset(args.data)
    if ds.vector_length != VECTOR_LENGTH or len(ds.label_names) != N_CLASSES:
        raise D.DataError(f"expected {VECTOR_LENGTH}-value vectors and {N_CLASSES} labels, "
                          f"got {ds.vector_length} and {len(ds.label_names)}")
    split_doc, split, overlap = D.load_split(args.split, len(ds))
    if overlap:
        log(f"warning: {overlap} train rows also appear in validation/test")
    tr, va, te = split["train"], split["validation"], split["test"]
    data_hash = sha256_file(os.path.join(args.data, "features.f32"))
    split_hash = hashlib.sha256(json.dumps({k: v.tolist() for k, v in split.items()}).encode()).hexdigest()

    scaler = D.StandardScaler.fit(ds.features[tr])  # train rows only
    x_all = scaler.transform(ds.features)
    y_all = ds.labels
    x_tr, y_tr = torch.from_numpy(x_all[tr]).to(device), torch.from_numpy(y_all[tr]).to(device)
    x_va, y_va = x_all[va], y_all[va]
    weights_np, train_counts = D.class_weights(y_all[tr], N_CLASSES)
    weight = torch.tensor(weights_np, dtype=torch.float32, device=device) if args.class_weights else None
    log(f"data: {len(ds)} rows, train {len(tr)} / validation {len(va)} / test {len(te)}"
        f"{' (validation = test)' if np.array_equal(np.sort(va), np.sort(te)) else ''}; "
        f"train class counts {train_counts.tolist()}; loaded in {time.time() - t0:.1f}s")
    if args.class_weights:
        log("class weights: " + ", ".join(f"{n} {w:.3f}" for n, w in zip(ds.label_names, weights_np)))

    os.makedirs(args.out, exist_ok=True)

    # --- model, optimiser, schedule
    model = build_model(args.arch, augment=args.augment).to(device)
    optimizer = make_optimizer(args, model)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=args.lr_factor, patience=args.lr_patience, min_lr=args.min_lr)
    # With --ema the average is what is validated, kept and exported; the model trains on.
    average = None
    if args.ema > 0:
        steps_per_epoch = len(batches(len(tr), args.batch_size))
        average = WeightAverage(model, 0.5 ** (1 / (args.ema * steps_per_epoch)))
    validated = average.model if average is not None else model
    settings = {k: getattr(args, k) for k in FIXED_SETTINGS}
    fingerprint = {"features": data_hash, "split": split_hash}
    state = {
        "epoch": 0, "history": [], "best_val_loss": math.inf, "best_epoch": 0, "best_state": None,
        "bad_epochs": 0, "wall_seconds": 0.0, "sittings": 0, "trained_on": [],
    }
    weights_only = False

    if args.resume and os.path.exists(ckpt_path):
        # Our own file, with numpy RNG states in it (torch >= 2.6 would refuse it by default).
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        diffs = [f"{k}: checkpoint {ckpt['settings'].get(k)!r}, now {settings[k]!r}"
                 for k in FIXED_SETTINGS if ckpt["settings"].get(k, LATER_SETTINGS.get(k)) != settings[k]]
        diffs += [f"{k} differs from the checkpoint's" for k in fingerprint if ckpt["fingerprint"][k] != fingerprint[k]]
        if diffs:
            log("error: cannot resume, the run's settings changed:\n  " + "\n  ".join(diffs))
            return 1
        model.load_state_dict(ckpt["model"])
        state = ckpt["state"]
        state.setdefault("trained_on", [])
        # A checkpoint rebuilt by portable_checkpoint.py carries the kept weights and the
        # bookkeeping only (no optimiser state, no RNG states): it can be finished, not continued.
        weights_only = bool(ckpt.get("weightsOnly"))
        if not weights_only:
            optimizer.load_state_dict(ckpt["optimizer"])
            scheduler.load_state_dict(ckpt["scheduler"])
            if average is not None:
                average.load_state_dict(ckpt["average"])
            torch.set_rng_state(ckpt["rng"]["torch"])
            np.random.set_state(ckpt["rng"]["numpy"])
            random.setstate(ckpt["rng"]["python"])
            if device.type == "cuda" and "cuda" in ckpt["rng"]:
                torch.cuda.set_rng_state(ckpt["rng"]["cuda"])
        log(f"resumed from {ckpt_path} after epoch {state['epoch']} "
            f"(best epoch {state['best_epoch']}, val loss {state['best_val_loss']:.4f})")
    elif args.resume:
        log(f"note: no {ckpt_path} yet; starting fresh")

    n_keras = keras_param_count(model)
    log(f"model: {args.arch}, {n_keras:,} parameters (Keras count; {trainable_param_count(model):,} trainable); "
        f"optimizer {args.optimizer} lr {args.lr:g}; batch {args.batch_size}; threads {args.threads}; "
        f"device {device_description(args.device)}")

    def finished():
        return stop_reason(state, args.epochs, args.patience)

    if weights_only and finished() is None:
        log(f"error: {ckpt_path} holds the kept weights only (rebuilt from a portable checkpoint), so it can be "
            f"finished but not trained further; it stopped after epoch {state['epoch']}: pass --epochs {state['epoch']}")
        return 1

    if finished() is None:
        # Outputs of an earlier, shorter run in OUT would be stale from here on.
        for name in ("model.onnx", "model.pt", "reference.json", "train-report.json"):
            if os.path.exists(os.path.join(args.out, name)):
                os.remove(os.path.join(args.out, name))

    # --- training
    stopped = finished()
    if stopped is None:
        state["sittings"] += 1  # a sitting counts when it trains
        state["trained_on"].append({"device": device_description(args.device), "torch": torch.__version__,
                                    "threads": args.threads, "fromEpoch": state["epoch"] + 1})
    while stopped is None:
        epoch = state["epoch"] + 1
        t_epoch = time.time()
        train_loss, train_acc = train_epoch(model, optimizer, x_tr, y_tr, weight, args, epoch, average)
        t_train = time.time() - t_epoch
        val_loss, val_pred, _ = evaluate(validated, x_va, y_va, weight, device=device)
        val_m = classification_metrics(y_va, val_pred, ds.label_names)
        lr = optimizer.param_groups[0]["lr"]  # the rate this epoch trained with
        scheduler.step(val_loss)
        improved = record_validation(state, epoch, val_loss, validated)
        seconds = time.time() - t_epoch
        state["wall_seconds"] += seconds
        state["epoch"] = epoch
        state["history"].append({
            "epoch": epoch, "trainLoss": train_loss, "trainAccuracy": train_acc,
            "valLoss": val_loss, "valAccuracy": val_m["accuracy"], "valUa": val_m["ua"],
            "lr": lr, "seconds": seconds, "trainSamplesPerSecond": len(tr) / t_train,
        })
        rng = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
        if device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state()
        save_checkpoint(ckpt_path, {
            "format": CHECKPOINT_FORMAT, "settings": settings, "fingerprint": fingerprint,
            "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "state": state, "rng": rng, **({"average": average.state_dict()} if average is not None else {}),
        })
        log(f"epoch {epoch}/{args.epochs}  train loss {train_loss:.4f} acc {train_acc:.4f}  |  "
            f"val loss {val_loss:.4f} acc {val_m['accuracy']:.4f} UA {val_m['ua']:.4f}{' *' if improved else '  '}  |  "
            f"lr {lr:.2e}  {seconds:.1f}s  {len(tr) / t_train:.0f} samples/s")
        stopped = finished()
        if stopped is None and args.max_minutes is not None and time.time() - sitting_start >= args.max_minutes * 60:
            log(f"stopped: time budget of {args.max_minutes:g} min reached after epoch {epoch} "
                f"({_fmt_hms(time.time() - sitting_start)} this sitting, {_fmt_hms(state['wall_seconds'])} training "
                f"in all); checkpoint saved, run again with --resume to continue")
            return EXIT_TIME_BUDGET

    if state["best_state"] is None:
        raise RuntimeError("no epoch was trained")
    sittings = f" over {state['sittings']} sittings" if state["sittings"] > 1 else ""
    log(f"training done: {stopped} after {state['epoch']} epochs; best epoch {state['best_epoch']} "
        f"(val loss {state['best_val_loss']:.4f}); {_fmt_hms(state['wall_seconds'])} of training{sittings}")
    if not args.finalize:
        log(f"--no-finalize: {ckpt_path} saved; run again with --resume to evaluate and export")
        return 0
    return finalize(args, ds, split_doc, split, scaler, x_all, y_all, weight, weights_np, train_counts,
                    model, state, stopped, n_keras, data_hash, sitting_start, device)


def finalize(args, ds, split_doc, split, scaler, x_all, y_all, weight, weights_np, train_counts,
             model, state, stopped, n_keras, data_hash, sitting_start, device):
    tr, va, te = split["train"], split["validation"], split["test"]
    model.load_state_dict(state["best_state"])
    model.eval()

    val_loss, val_pred, _ = evaluate(model, x_all[va], y_all[va], weight, device=device)
    if np.array_equal(va, te):  # the leaky `seed` protocol: the same rows, evaluated once
        test_loss, test_pred = val_loss, val_pred
    else:
        test_loss, test_pred, _ = evaluate(model, x_all[te], y_all[te], weight, device=device)
    test_m = classification_metrics(y_all[te], test_pred, ds.label_names)
    test_m["loss"] = test_loss
    val_m = classification_metrics(y_all[va], val_pred, ds.label_names)
    val_m["loss"] = val_loss
    channels = np.asarray([ds.rows[i].get("channel") for i in te])

    def by_channel_of(pred):
        """Test metrics of `pred` for the speech and the song rows (those present)."""
        return {ch: classification_metrics(y_all[te][channels == ch], pred[channels == ch], ds.label_names)
                for ch in ("speech", "song") if (channels == ch).any()}

    by_channel = by_channel_of(test_pred)
    log(f"test: WA {test_m['accuracy']:.4f}  UA {test_m['ua']:.4f}  macro-F1 {test_m['macroF1']:.4f}  "
        f"({test_m['count']} rows)" + "".join(
            f"; {ch} WA {m['accuracy']:.4f} UA {m['ua']:.4f}" for ch, m in by_channel.items()))
    # An ensemble's members on their own: what the ensemble adds over any one of them.
    members = []
    for k, member in enumerate(getattr(model, "members", [])):
        _, pred, _ = evaluate(member, x_all[te], y_all[te], weight, device=device)
        m = {"test": classification_metrics(y_all[te], pred, ds.label_names), **by_channel_of(pred)}
        members.append({k2: {"accuracy": v["accuracy"], "ua": v["ua"]} for k2, v in m.items()})
        log(f"  member {k + 1}: " + "; ".join(f"{k2} WA {v['accuracy']:.4f} UA {v['ua']:.4f}" for k2, v in m.items()))

    # --- artefacts (on the CPU, whatever trained the model)
    model.cpu()
    onnx_path = os.path.join(args.out, "model.onnx")
    E.export_onnx(model, onnx_path)
    sig = E.onnx_signature(onnx_path)
    io_sig = E.io_manifest(sig)
    if io_sig["input"]["shape"] != E.EXPECTED_INPUT_SHAPE or io_sig["output"]["shape"] != E.EXPECTED_OUTPUT_SHAPE:
        raise RuntimeError(f"exported ONNX has unexpected shapes: {io_sig}")
    E.save_model_file(os.path.join(args.out, "model.pt"), args.arch, model, scaler, ds.label_names)
    ref_rows = E.reference_rows(tr, y_all)
    E.write_reference(os.path.join(args.out, "reference.json"), model, x_all[ref_rows], ds.features[ref_rows], ref_rows,
                      [ds.rows[i].get("clipId") for i in ref_rows], y_all[ref_rows], ds.label_names)
    speed = {"trainSamplesPerSecond": float(np.median([h["trainSamplesPerSecond"] for h in state["history"]])),
             "trainThreads": args.threads,
             "trainDevices": sorted({t["device"] for t in state.get("trained_on", [])})}
    if args.bench:
        speed["inferenceMsPerClip1Thread"] = bench_inference(model)
        log("inference, 1 thread: " + ", ".join(f"{k} {v:.3f} ms/clip"
                                                 for k, v in speed["inferenceMsPerClip1Thread"].items()))

    report = {
        "format": REPORT_FORMAT,
        "arch": args.arch,
        "labels": ds.label_names,
        "data": {"path": os.path.abspath(args.data), "rowCount": len(ds), "vectorLength": ds.vector_length,
                 "featuresSha256": data_hash, "featureSpec": ds.meta.get("featureSpec")},
        "split": {"path": os.path.abspath(args.split), "protocol": split_doc.get("protocol"),
                  "fold": split_doc.get("fold"), "train": len(tr), "validation": len(va), "test": len(te),
                  "validationIsTest": bool(np.array_equal(np.sort(va), np.sort(te)))},
        "hyperParameters": {
            "epochs": args.epochs, "batchSize": args.batch_size, "optimizer": args.optimizer, "lr": args.lr,
            "weightDecay": args.weight_decay, "seed": args.seed, "patience": args.patience,
            "lrPatience": args.lr_patience, "lrFactor": args.lr_factor, "minLr": args.min_lr,
            "classWeights": args.class_weights, "mixup": args.mixup, "augment": args.augment, "emaHalfLifeEpochs": args.ema,
            "threads": args.threads, "maxMinutes": args.max_minutes,
        },
        "classWeightValues": weights_np.tolist() if args.class_weights else None,
        "trainClassCounts": train_counts.tolist(),
        "parameterCount": n_keras,
        "trainableParameterCount": trainable_param_count(model),
        "epochsRun": state["epoch"],
        "bestEpoch": state["best_epoch"],
        "bestValidationLoss": state["best_val_loss"],
        "stoppedReason": stopped,
        "wallSeconds": state["wall_seconds"],
        "sittings": state["sittings"],
        "trainedOn": state.get("trained_on", []),
        "speed": speed,
        "history": state["history"],
        "validation": val_m,
        "test": test_m,
        "testByChannel": by_channel,
        "members": members or None,
        "scaler": {"mean": scaler.mean.tolist(), "scale": scaler.scale.tolist()},
        "onnx": {"file": "model.onnx", "bytes": os.path.getsize(onnx_path), "sha256": sha256_file(onnx_path),
                 "opset": io_sig["opset"], "input": io_sig["input"], "output": io_sig["output"], "opTypes": sig["opTypes"]},
        "reference": "reference.json",
        "pytorchModel": "model.pt",
        "versions": {"torch": torch.__version__, "numpy": np.__version__, "python": sys.version.split()[0]},
    }
    tmp = os.path.join(args.out, "train-report.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    os.replace(tmp, os.path.join(args.out, "train-report.json"))
    log(f"wrote {args.out}/model.onnx, model.pt, reference.json, train-report.json "
        f"({_fmt_hms(time.time() - sitting_start)} this sitting)")
    return 0


def main(argv=None):
    try:
        return run(argv)
    except (D.DataError, FileNotFoundError, json.JSONDecodeError) as e:
        log(f"error: {e}")
        return 1
