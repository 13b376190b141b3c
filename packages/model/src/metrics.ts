/** Classification metrics as EVALUATION.md defines them (labels in EMOTIONS order). */

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Metrics {
  count: number;
  /** Accuracy over clips. */
  wa: number;
  /** Unweighted average recall over the classes present in the test set. */
  ua: number;
  macroF1: number;
  weightedF1: number;
  microF1: number;
  perClass: Record<string, ClassMetrics>;
  /** rows = true label, columns = predicted. */
  confusion: number[][];
}

const div = (a: number, b: number) => (b > 0 ? a / b : 0);

export function computeMetrics(labels: readonly string[], truth: number[], predicted: number[]): Metrics {
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  truth.forEach((t, i) => {
    confusion[t][predicted[i]]++;
  });
  const perClass: Record<string, ClassMetrics> = {};
  let correct = 0;
  let recallSum = 0;
  let present = 0;
  let f1Sum = 0;
  let weightedF1 = 0;
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, row) => a + row[c], 0);
    const precision = div(tp, predictedAs);
    const recall = div(tp, support);
    const f1 = div(2 * precision * recall, precision + recall);
    perClass[labels[c]] = { precision, recall, f1, support };
    correct += tp;
    // Song has no disgust or surprised: a class with no test clips has no recall to average.
    if (support > 0) {
      recallSum += recall;
      f1Sum += f1;
      present++;
    }
    weightedF1 += f1 * support;
  }
  const count = truth.length;
  const wa = div(correct, count);
  return {
    count,
    wa,
    ua: div(recallSum, present),
    macroF1: div(f1Sum, present),
    weightedF1: div(weightedF1, count),
    microF1: wa,
    perClass,
    confusion,
  };
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
