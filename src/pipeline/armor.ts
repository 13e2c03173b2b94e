import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLError, ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { HardeningCode, refusal } from './codes.js';

/** Document-shape limits, checked while parsing (tokens) and validating (depth, aliases, directives). */
export interface ArmorLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
}

// graphql-armor's checks, reported with a code of their own instead of its generic "Syntax Error".
function armorReporter(code: string) {
  return (context: ValidationContext | null, error: GraphQLError) => {
    const coded = refusal(error.message.replace(/^Syntax Error: /, ''), code);
    // MAX_TOKENS runs inside the parser, which has no validation context: throwing aborts the parse.
    if (!context) throw coded;
    context.reportError(coded);
  };
}

export function useArmor(o: ArmorLimits): Plugin {
  const checks = { propagateOnRejection: false, exposeLimits: true };
  return EnvelopArmorPlugin({
    maxDepth: {
      ...checks,
      n: o.maxDepth,
      ignoreIntrospection: true,
      flattenFragments: true,
      onReject: [armorReporter(HardeningCode.MAX_DEPTH)],
    },
    maxAliases: { ...checks, n: o.maxAliases, onReject: [armorReporter(HardeningCode.MAX_ALIASES)] },
    maxDirectives: { ...checks, n: o.maxDirectives, onReject: [armorReporter(HardeningCode.MAX_DIRECTIVES)] },
    maxTokens: { ...checks, n: o.maxTokens, onReject: [armorReporter(HardeningCode.MAX_TOKENS)] },
    // Armor's cost limit ignores variables and default page sizes; ours below does not.
    costLimit: { enabled: false },
    // Armor's regex misses "Did you mean the enum value ...?"; useHideSuggestions catches all.
    blockFieldSuggestion: { enabled: false },
  }) as Plugin;
}
