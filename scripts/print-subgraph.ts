// Prints this service's Apollo Federation subgraph SDL (with @link and @key) for a schema registry or composition.
// FEDERATION_TYPE_PREFIX, FEDERATION_NODE_QUERY and FEDERATION_AUTH_DIRECTIVES apply, as they do to the running service.
import { loadEnv } from '../src/env.js';
import { printSubgraphSdl, subgraphSchema } from '../src/schema/federation.js';
import { schema } from '../src/schema/index.js';
import { settingsFromEnv, subgraphOptionsOf } from '../src/yoga.js';

const settings = settingsFromEnv(loadEnv());
process.stdout.write(printSubgraphSdl(subgraphSchema(schema, subgraphOptionsOf(settings))));
