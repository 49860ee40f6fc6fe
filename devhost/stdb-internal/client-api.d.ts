export * from '../../node_modules/spacetimedb/dist/sdk/client_api/types.js';
