/** Object-storage settings, shared by every service that touches the bucket. */
import { env } from '@ser/config';

export const storageSettings = {
  /** e.g. http://minio:9000. Absent: `npm start` runs a local S3-compatible server. */
  s3Endpoint: env.optional('S3_ENDPOINT'),
  s3AccessKey: env.string('S3_ACCESS_KEY', 'LOCALS3'),
  s3SecretKey: env.string('S3_SECRET_KEY', 'LOCALS3SECRET'),
  s3Bucket: env.string('S3_BUCKET', 'ser-audio'),
  s3Region: env.string('S3_REGION', 'us-east-1'),
};

export interface StorageConfig {
  s3Endpoint: string | undefined;
  s3AccessKey: string;
  s3SecretKey: string;
  s3Bucket: string;
  s3Region: string;
}
