/**
 * `npm run lint`'s OpenAPI step: writes both services' documents (built from their zod
 * schemas) to a temporary folder and lints them with Redocly's recommended-strict rules (the
 * recommended rules, warnings counted as errors). Exits with Redocly's status.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openApiDocument as commandApi } from '../command-api/http/openapi';
import { REPO_ROOT } from '../lib/repo-root';
import { openApiDocument as queryApi } from '../query-api/http/openapi';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orderstream-openapi-'));
try {
  const files = Object.entries({ 'command-api': commandApi, 'query-api': queryApi }).map(
    ([name, document]) => {
      const file = path.join(dir, `${name}.openapi.json`);
      fs.writeFileSync(file, JSON.stringify(document, null, 2));
      return file;
    },
  );
  const redocly = path.join(REPO_ROOT, 'node_modules', '.bin', 'redocly');
  const result = spawnSync(redocly, ['lint', '--extends', 'recommended-strict', ...files], {
    stdio: 'inherit',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  process.exitCode = result.status ?? 1;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
