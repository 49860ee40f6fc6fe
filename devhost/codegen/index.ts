export { describeBundle, describeModule } from './describe-module.js';
export { type GenerateOptions, generateBindings } from './generate-bindings.js';
