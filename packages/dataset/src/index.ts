export { type BuildOptions, buildDataset } from './build.js';
export { DATASET_FORMAT, type Dataset, type DatasetMeta, type DatasetRow, readDataset, readDatasetMeta, writeDataset } from './format.js';
