export * from './secret-box.js';
export * from './subscription-registry.js';
export * from './subscription.codec.js';
export * from './subscription.store.js';
export * from './subscriptions.module.js';
