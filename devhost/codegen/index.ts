export { describeBundle, describeModule } from './describe-module.js';
export {
  type BindingsFile,
  type GenerateOptions,
  generateBindings,
  type Visibility,
} from './generate-bindings.js';
export { installedSdkVersion, renderBindings, syncBindingsDir } from './write-bindings.js';
