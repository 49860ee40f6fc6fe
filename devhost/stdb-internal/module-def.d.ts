export * from '../../node_modules/spacetimedb/dist/lib/autogen/types.js';
