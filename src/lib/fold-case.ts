/**
 * Text with its letters case-folded, as the database's `fold_case(text)` folds it (the `…_folded`
 * generated columns): each code point to its simple lower-case mapping, one code point for one.
 * PostgreSQL's lower() cannot serve: it maps by the server's C library, so two servers (and PGlite)
 * fold differently from each other and from JavaScript. The function's table was written from this
 * one (migration 20261207010000), and a test compares the two over every code point.
 */
export function foldCase(text: string): string {
  let out = '';
  for (const char of text) out += fold(char);
  return out;
}

function fold(char: string): string {
  if (char === '\u0130') return 'i'; // İ: its full mapping is "i̇", two code points; the simple one is "i"
  const lower = char.toLowerCase();
  return [...lower].length === 1 ? lower : char;
}
