"""Split files for design checks that never touch actors 21-24.

Three speaker-independent dev folds inside actors 1-20 (test 1-4 / validation 5-6,
test 9-12 / validation 13-14, test 17-20 / validation 1-2), training on the other
actors of 1-20. Validation and test rows are original recordings only; training rows
are originals, plus augmented copies with --augmented.

    /usr/bin/python3 training/dev_split.py --data DATA --fold 1|2|3 [--augmented] --out SPLIT.json
"""

import argparse
import json
import os

DEV_FOLDS = {1: ((1, 2, 3, 4), (5, 6)), 2: ((9, 10, 11, 12), (13, 14)), 3: ((17, 18, 19, 20), (1, 2))}
DEV_ACTORS = range(1, 21)


def dev_split(rows, fold, augmented=False):
    test_actors, val_actors = DEV_FOLDS[fold]
    split = {"protocol": "dev-inside-1-20", "fold": fold, "train": [], "validation": [], "test": []}
    for i, row in enumerate(rows):
        actor, original = row["actor"], row["augmentation"] == "none"
        if actor in test_actors:
            part = "test" if original else None
        elif actor in val_actors:
            part = "validation" if original else None
        elif actor in DEV_ACTORS:
            part = "train" if original or augmented else None
        else:
            part = None  # actors 21-24: never part of a design check
        if part:
            split[part].append(i)
    return split


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="feature-set directory (meta.json)")
    p.add_argument("--fold", type=int, required=True, choices=sorted(DEV_FOLDS))
    p.add_argument("--augmented", action="store_true", help="also train on the augmented copies")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    with open(os.path.join(args.data, "meta.json"), encoding="utf-8") as f:
        rows = json.load(f)["rows"]
    split = dev_split(rows, args.fold, args.augmented)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(split, f)
    print(f"{args.out}: train {len(split['train'])}, validation {len(split['validation'])}, test {len(split['test'])}")


if __name__ == "__main__":
    main()
