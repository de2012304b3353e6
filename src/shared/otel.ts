// The OpenTelemetry API, from its CommonJS build. prom-client's default metrics require that build,
// and an ES `import` would load the package's ES build beside it: two copies of the same API
// (about 0.45 MB of heap, 100 files). Both copies keep the tracer provider in the same global
// (Symbol.for('opentelemetry.js.api.1')), so a provider an SDK registers is seen either way.
import { createRequire } from 'node:module';
import type * as Otel from '@opentelemetry/api';

export type { Span } from '@opentelemetry/api';

const otel = createRequire(import.meta.url)('@opentelemetry/api') as typeof Otel;

export const { ProxyTracerProvider, SpanKind, SpanStatusCode, trace } = otel;
