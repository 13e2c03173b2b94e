/** Something the planner does not know how to answer: the operation runs on the Pothos path. */
export class Unplannable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Unplannable';
  }
}
