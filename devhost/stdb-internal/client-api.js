// Runtime bridge to spacetimedb's shipped-but-unexported source (sdk/client_api/types.ts). The package ships its
// wire and module-definition types as source under src/ but leaves them out of `exports`, so they
// are reached by file path; the paired .d.ts points the type-checker at the shipped declarations,
// which keeps the package's own sources out of our strict compile.
export * from '../../node_modules/spacetimedb/src/sdk/client_api/types.ts';
