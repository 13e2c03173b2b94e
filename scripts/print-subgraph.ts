// Prints this service's Apollo Federation subgraph SDL (with @link and @key) for a schema registry or composition.
import { printSubgraphSdl } from '../src/schema/federation.js';
import { schema } from '../src/schema/index.js';

process.stdout.write(printSubgraphSdl(schema));
