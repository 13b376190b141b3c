// The parts of s3rver (a Koa app) the local server uses; the package ships no types.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  interface Context {
    method: string;
    path: string;
    query: Record<string, unknown>;
    type: string;
    body: unknown;
  }
  type Middleware = (ctx: Context, next: () => Promise<void>) => Promise<void>;
  export default class S3rver {
    constructor(options: Record<string, unknown>);
    middleware: Middleware[];
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}
