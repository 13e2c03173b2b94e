import { FOLDS } from './fold-case-table.js';

/**
 * Text with its letters case-folded, as the database's `fold_case(text)` folds it (the `…_folded`
 * generated columns): ASCII A-Z to a-z, and every other letter by one fixed table, each code point
 * to its simple lower-case form (one code point for one). PostgreSQL's lower() cannot serve: it
 * maps by the server's C library, so two servers (and PGlite) fold differently from each other and
 * from JavaScript, and JavaScript's toLowerCase() changes with the Unicode version of Node.js.
 */
export function foldCase(text: string): string {
  let out = '';
  for (const char of text) {
    if (char >= 'A' && char <= 'Z') out += char.toLowerCase();
    else out += FOLDS.get(char) ?? char;
  }
  return out;
}
