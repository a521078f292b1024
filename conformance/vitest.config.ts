// The runner's own unit tests (no cloud, no Tempest run needed):
//   npx vitest run --config conformance/vitest.config.ts
// Kept apart from the server's test config, which only looks under test/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['conformance/tests/**/*.test.ts'],
  },
});
