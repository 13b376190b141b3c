"""The actor-6fold summary of six trained bundles, one per fold.

`ser train --protocol actor-6fold --fold all` writes such a summary itself; this assembles
one from bundles trained separately (for example folds 1-5 with `--fold K`, and fold 6 the
shipped `holdout-21-24` bundle, which is exactly that fold), and can put it in a bundle's
manifest as `metrics.actor6fold`. Figures are those of the serving path on CORPUS.

    /usr/bin/python3 training/six_fold_summary.py --fold 1=DIR1 ... --fold 6=DIR6 --out FILE.json \\
        [--schedule TEXT] [--corpus ../shared/ravdess] [--manifest BUNDLE/manifest.json]
"""

import argparse
import json
import math


def _read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _stat(xs):
    mean = sum(xs) / len(xs)
    return {"mean": mean, "std": math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs)), "folds": xs}


def summarize(fold_dirs, corpus, schedule):
    folds = []
    arch = None
    for fold in sorted(fold_dirs):
        manifest = _read(f"{fold_dirs[fold]}/manifest.json")
        report = _read(f"{fold_dirs[fold]}/train-report.json")
        if manifest["training"]["fold"] != fold:
            raise ValueError(f"{fold_dirs[fold]} was trained on fold {manifest['training']['fold']}, not {fold}")
        if arch not in (None, manifest["architecture"]):
            raise ValueError(f"{fold_dirs[fold]} is a {manifest['architecture']}, the others {arch}")
        arch = manifest["architecture"]
        serving = manifest["metrics"]["servingPath"][corpus]
        folds.append({"fold": fold, "minutes": round(report["wallSeconds"] / 60, 1), "epochsRun": report["epochsRun"],
                      "bestEpoch": report["bestEpoch"], "speech": serving["speech"], "song": serving["song"]})
    pick = lambda channel, metric: [f[channel][metric] for f in folds]  # noqa: E731
    return {
        "protocol": "actor-6fold", "arch": arch, "schedule": schedule, "evaluatedOn": f"{corpus} (serving path)",
        **{ch: {"ua": _stat(pick(ch, "ua")), "wa": _stat(pick(ch, "wa"))} for ch in ("speech", "song")},
        "folds": folds,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fold", action="append", required=True, metavar="K=DIR", help="the bundle trained on fold K")
    p.add_argument("--out", required=True)
    p.add_argument("--corpus", default="../shared/ravdess")
    p.add_argument("--schedule", default="", help="how the folds were trained, in words")
    p.add_argument("--manifest", help="also store the summary in this manifest as metrics.actor6fold")
    args = p.parse_args()
    fold_dirs = {int(k): d for k, d in (f.split("=", 1) for f in args.fold)}
    if sorted(fold_dirs) != [1, 2, 3, 4, 5, 6]:
        p.error("give --fold K=DIR for each of the folds 1..6")
    summary = summarize(fold_dirs, args.corpus, args.schedule)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    if args.manifest:
        manifest = _read(args.manifest)
        manifest["metrics"]["actor6fold"] = summary
        with open(args.manifest, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")
    s = summary["speech"]
    print(f"{args.out}: speech UA {s['ua']['mean']:.4f} ± {s['ua']['std']:.4f}, WA {s['wa']['mean']:.4f} ± {s['wa']['std']:.4f}")


if __name__ == "__main__":
    main()
