// `npm run openapi:types`: regenerates test/support/api-types.ts, the TypeScript types of the API's
// OpenAPI document (openapi-typescript), from the app itself (test configuration, embedded stores).
// The HTTP tests call the API through a client typed by it (openapi-fetch, test/support/api-client.ts),
// and test/http/openapi-types.test.ts fails when the checked-in file differs from what the app's
// document generates: a contract change that breaks clients breaks the tests.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import * as prettier from 'prettier';

export const API_TYPES_FILE = join(new URL('..', import.meta.url).pathname, 'test/support/api-types.ts');

const HEADER = `// Generated from the API's OpenAPI document (/openapi.json) by openapi-typescript: do not edit.
// Regenerate with \`npm run openapi:types\`; test/http/openapi-types.test.ts checks it is current.
`;

/** The types file for an OpenAPI document, formatted as the repository formats TypeScript. */
export async function apiTypes(document: unknown): Promise<string> {
  // A field with a default may be left out of a request: not required (openapi-typescript makes it so by default).
  const ast = await openapiTS(document as OpenAPI3, { alphabetize: true, defaultNonNullable: false });
  const options = (await prettier.resolveConfig(API_TYPES_FILE)) ?? {};
  return prettier.format(`${HEADER}\n${astToString(ast)}`, { ...options, filepath: API_TYPES_FILE });
}

/** The document the app serves, built as the tests build it. */
export async function appDocument(): Promise<unknown> {
  const { buildTestApp } = await import('../test/support/app.ts');
  const t = await buildTestApp();
  try {
    return (await t.app.inject('/openapi.json')).json();
  } finally {
    await t.close();
  }
}

if (import.meta.main) {
  writeFileSync(API_TYPES_FILE, await apiTypes(await appDocument()));
  process.stderr.write(`openapi:types: wrote ${API_TYPES_FILE}\n`);
  process.exit(0);
}
