// Prints this service's Apollo Federation subgraph SDL (with @link and @key) for a schema registry or composition.
// FEDERATION_TYPE_PREFIX and FEDERATION_NODE_QUERY apply, as they do to the running service.
import { loadEnv } from '../src/env.js';
import { printSubgraphSdl, subgraphSchema } from '../src/schema/federation.js';
import { schema } from '../src/schema/index.js';
import { settingsFromEnv } from '../src/yoga.js';

const settings = settingsFromEnv(loadEnv());
process.stdout.write(printSubgraphSdl(subgraphSchema(schema, { typePrefix: settings.federationTypePrefix, nodeQuery: settings.federationNodeQuery })));
