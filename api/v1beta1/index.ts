export * from './mcpserver.js';
export * from './core.js';
export * from './authentication.js';
export * from './catalog.js';
export * from './mcpgateway.js';
export { cel, StringEnum, Quantity, Opaque, type CelRule } from './schema.js';
export * from './exposure.js';
