/**
 * Why an operation is not planned, as a metric label (few values): a field or argument form the
 * planner does not know; an argument the resolvers refuse (they answer with their own error);
 * variables that do not coerce (validation answers); a field or type the viewer may not read
 * (scope-auth answers).
 */
export type FallbackKind = 'unsupported' | 'argument' | 'variables' | 'forbidden';

/** Something the planner does not know how to answer: the operation runs on the Pothos path. */
export class Unplannable extends Error {
  constructor(
    reason: string,
    readonly kind: FallbackKind = 'unsupported',
  ) {
    super(reason);
    this.name = 'Unplannable';
  }
}
