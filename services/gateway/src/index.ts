export { buildGateway, gatewayApp, serverOptions } from './app.js';
export { DEFAULT_PUBLIC_DIR, type GatewayConfig, gatewaySettings, loadGatewayConfig } from './config.js';
export type { GatewayDeps } from './deps.js';
export { type RunningGateway, startGateway } from './server.js';
