import { defineConfig } from 'prisma/config';

// The CLI is used only to generate the client and to print migration SQL; the service applies
// migrations itself (src/db/migrate.ts) so that the embedded database needs no native engine.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
