/** lib-version: version awareness for every component, release tags, and model releases. */
export * from './errors.js';
export * from './version.js';
export * from './tags.js';
export * from './resolve.js';
export * from './github.js';
export * from './registry.js';
