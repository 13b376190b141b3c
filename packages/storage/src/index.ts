export { type LocalS3, listLocalS3Keys, listLocalS3Uploads, startLocalS3 } from './local-s3.js';
export { ObjectStore, PART_SIZE, StorageError, type StoredObject } from './object-store.js';
export { type StorageConfig, storageSettings } from './settings.js';
