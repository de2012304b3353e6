// The YAML reader and position helpers live in src/config-core/yaml.ts, below every stage that
// validates its own configuration; the loader's callers keep importing them from here.
export * from '../config-core/yaml.js';
