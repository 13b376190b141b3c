"""Carry a training run between machines (e.g. train on a GPU, finish here).

    python3 training/portable_checkpoint.py pack OUT/checkpoint.pt DIR [--part-mib 15]
    /usr/bin/python3 training/portable_checkpoint.py unpack DIR OUT/checkpoint.pt
    /usr/bin/python3 training/train.py ... --out OUT --resume [--epochs N]

See ser_train/portable.py. The rebuilt checkpoint holds the kept weights only:
`--resume` evaluates and exports it; a run stopped by --max-minutes is finished
by passing --epochs equal to the epochs it ran.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ser_train import portable  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(prog="portable_checkpoint.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("pack", help="checkpoint.pt -> DIR/portable.json + DIR/weights.partNN")
    a.add_argument("checkpoint")
    a.add_argument("dir")
    a.add_argument("--part-mib", type=float, default=15.0, help="largest part, MiB (default 15)")
    b = sub.add_parser("unpack", help="DIR -> a weights-only checkpoint.pt for this torch")
    b.add_argument("dir")
    b.add_argument("checkpoint")
    args = p.parse_args(argv)
    if args.command == "pack":
        doc = portable.pack(args.checkpoint, args.dir, int(args.part_mib * (1 << 20)))
        st = doc["state"]
        print(f"packed epoch {st['epoch']} (best {st['best_epoch']}, val loss {st['best_val_loss']:.4f}): "
              f"{doc['weightsBytes']} bytes in {len(doc['parts'])} parts, sha256 {doc['weightsSha256']}")
    else:
        ckpt = portable.unpack(args.dir, args.checkpoint)
        st = ckpt["state"]
        print(f"wrote {args.checkpoint}: epochs run {st['epoch']}, best epoch {st['best_epoch']}, "
              f"bad epochs {st['bad_epochs']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
