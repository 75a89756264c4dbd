import { createRequire } from "node:module";
import { runInThisContext } from "node:vm";

/**
 * Loads the text of `pulumi.runtime.serializeFunction(() => value)` the way Pulumi's dynamic-provider host
 * does (a CommonJS module exporting `handler`) and returns the value.
 */
export function loadSerialized<T>(text: string): T {
  const module = { exports: {} as { handler: () => T } };
  const wrapper = runInThisContext(`(function (exports, require, module) {\n${text}\n})`) as (
    exports: object,
    require: NodeJS.Require,
    module: object,
  ) => void;
  wrapper(module.exports, createRequire(__filename), module);
  return module.exports.handler();
}
