export { type BuildOptions, buildDataset } from './build.js';
export { DATASET_FORMAT, type Dataset, type DatasetMeta, type DatasetRow, readDataset, writeDataset } from './format.js';
