export { type Platform, type PlatformOptions, startPlatform } from './platform.js';
export { freePort, waitForPort } from './ports.js';
export { REPO_ROOT, type ServiceName, ServiceProcess } from './service-process.js';
