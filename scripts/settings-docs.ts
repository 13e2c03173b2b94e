// `.env.example` and the settings table of docs/settings.md, rendered from the declarations in src/env.ts
// (through zod's JSON Schema of the input side: what may be written in the environment).
import { z } from 'zod';
import { SETTING_GROUPS } from '../src/env.js';

export interface SettingDoc {
  name: string;
  description: string;
  /** As written in the environment; undefined: no default (unset has its own meaning, in the description). */
  default: string | undefined;
  type: string;
}

interface JsonSchema {
  type?: string;
  enum?: string[];
  anyOf?: JsonSchema[];
  const?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  default?: unknown;
  description?: string;
}

export const SETTINGS_BEGIN =
  '<!-- settings:begin (generated from src/env.ts by `npm run settings:print`; edit there) -->';
export const SETTINGS_END = '<!-- settings:end -->';

function typeOf(schema: JsonSchema): string {
  if (schema.anyOf) return typeOf(schema.anyOf.find((option) => option.const !== '') ?? {});
  if (schema.enum) {
    if (['true', 'false', '1', '0'].every((v) => schema.enum!.includes(v))) return 'boolean';
    return schema.enum.map((v) => `\`${v}\``).join(', ');
  }
  if (schema.type === 'integer' || schema.type === 'number') {
    // `.int()` bounds an integer by the safe range, which says nothing to a reader.
    const min = schema.minimum !== undefined && schema.minimum > Number.MIN_SAFE_INTEGER ? schema.minimum : undefined;
    const max = schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER ? schema.maximum : undefined;
    const range = max !== undefined ? ` ${min ?? '…'}–${max}` : min !== undefined ? ` ≥ ${min}` : '';
    return `${schema.type}${range}`;
  }
  if (schema.format === 'uri') return 'URL';
  return schema.minLength && schema.minLength > 1 ? `text, ${schema.minLength}+ characters` : 'text';
}

/** Every setting, by group, in declaration order. */
export function settingDocs(): { group: string; settings: SettingDoc[] }[] {
  return Object.entries(SETTING_GROUPS).map(([group, shape]) => {
    const { properties } = z.toJSONSchema(z.object(shape), { io: 'input', unrepresentable: 'any' }) as {
      properties: Record<string, JsonSchema>;
    };
    const settings = Object.entries(properties).map(([name, schema]) => {
      if (!schema.description) throw new Error(`src/env.ts: ${name} has no description (.describe(…))`);
      return {
        name,
        description: schema.description,
        default: schema.default === undefined ? undefined : String(schema.default),
        type: typeOf(schema),
      };
    });
    return { group, settings };
  });
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line];
}

/** `.env.example`: each setting's description as a comment, then the setting at its default (commented out if it has none). */
export function renderEnvExample(): string {
  const out = [
    '# Every setting the service reads, with its default. Copy to .env or export them; nothing is required.',
    '# Generated from src/env.ts by `npm run settings:print`: edit the declarations there, not this file.',
  ];
  for (const { group, settings } of settingDocs()) {
    out.push('', `# --- ${group}`);
    for (const setting of settings) {
      const values = setting.type.startsWith('`') ? ` One of ${setting.type}.` : '';
      out.push(...wrap(setting.description + values, 98).map((line) => `# ${line}`));
      out.push(setting.default === undefined ? `# ${setting.name}=` : `${setting.name}=${setting.default}`);
    }
  }
  return `${out.join('\n')}\n`;
}

const cell = (text: string) => text.replaceAll('|', '\\|');

/** The settings table of docs/settings.md, one row per setting. */
export function renderSettingsTable(): string {
  const rows = settingDocs().flatMap(({ settings }) =>
    settings.map((s) => {
      const shown = s.default === undefined ? 'unset' : s.default === '' ? 'empty' : `\`${s.default}\``;
      return `| \`${s.name}\` | ${cell(shown)} | ${cell(s.type)} | ${cell(s.description)} |`;
    }),
  );
  return ['| variable | default | type | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** `page` (docs/settings.md) with the text between the settings markers replaced by the table. */
export function pageWithSettings(page: string): string {
  const begin = page.indexOf(SETTINGS_BEGIN);
  const end = page.indexOf(SETTINGS_END);
  if (begin < 0 || end < begin)
    throw new Error(`docs/settings.md has no settings table between ${SETTINGS_BEGIN} and ${SETTINGS_END}`);
  return `${page.slice(0, begin + SETTINGS_BEGIN.length)}\n${renderSettingsTable()}\n${page.slice(end)}`;
}
