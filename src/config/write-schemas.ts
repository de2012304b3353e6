// Writes the JSON Schemas for editors into config/schemas/ (`npm run schemas`). A test checks that
// the committed files equal what this produces, so they never go stale.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildJsonSchemas, jsonSchemaText } from './schemas.js';

export const SCHEMA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/schemas');

export async function writeSchemas(dir = SCHEMA_DIR): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, schema] of Object.entries(buildJsonSchemas())) {
    const file = path.join(dir, name);
    await writeFile(file, jsonSchemaText(schema));
    written.push(file);
  }
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of await writeSchemas()) console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
