export { EXIT_PAUSED, PYTHON, runTrainer, TRAINER } from './python.js';
export { makeSplit, type TrainOptions, type TrainResult, train } from './train.js';
