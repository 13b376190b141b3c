"""Classification metrics as EVALUATION.md defines them (sklearn conventions)."""

import numpy as np


def confusion_matrix(y_true, y_pred, n_classes):
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm  # rows = true label, columns = predicted


def classification_metrics(y_true, y_pred, label_names):
    """WA, UA, macro/weighted/micro F1, per-class precision/recall/F1/support
    and the confusion matrix.

    UA averages recall over the classes present in y_true (as sklearn's
    balanced_accuracy_score; a song-only set has no disgust/surprised).
    Macro-F1 averages over the classes present in y_true or y_pred (sklearn's
    default label set), an undefined precision or recall counting as 0."""
    k = len(label_names)
    cm = confusion_matrix(y_true, y_pred, k)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    tp = np.diag(cm).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(support > 0, tp / support, 0.0)
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    n = int(support.sum())
    present = support > 0
    seen = present | (predicted > 0)
    return {
        "count": n,
        "accuracy": float(tp.sum() / n) if n else 0.0,  # WA
        "ua": float(recall[present].mean()) if present.any() else 0.0,
        "macroF1": float(f1[seen].mean()) if seen.any() else 0.0,
        "weightedF1": float((f1 * support).sum() / n) if n else 0.0,
        "microF1": float(tp.sum() / n) if n else 0.0,
        "uaClasses": [label_names[i] for i in range(k) if present[i]],
        "perClass": {
            label_names[i]: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i in range(k)
        },
        "confusionMatrix": cm.tolist(),
    }
