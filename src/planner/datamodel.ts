import { type SQL, sql } from 'pg-sql2';
import { datamodel } from '../generated/datamodel.js';
import { getDatamodel } from '../generated/pothos-types.js';
import { Unplannable } from './unplannable.js';

/**
 * Tables, columns and relations as the Prisma data model has them: Pothos' copy of the DMMF
 * (types, nullability, relations) joined with the generated data model (src/generated/datamodel.ts,
 * database names, from our own Prisma generator, scripts/datamodel-generator.mjs). The
 * planner writes no identifier that does not come from here.
 */

export interface Column {
  name: string;
  /** The column's SQL identifier. */
  sql: SQL;
  type: string;
  kind: 'scalar' | 'enum';
  isRequired: boolean;
  /** An array column (`String[]`). */
  isList: boolean;
}

export interface Relation {
  name: string;
  model: string;
  isList: boolean;
  /** `(child, parent) => condition` joining a row of `model` to the row that holds the relation. */
  link: (child: SQL, parent: SQL) => SQL;
}

export interface Model {
  name: string;
  table: SQL;
  columns: Map<string, Column>;
  relations: Map<string, Relation>;
}

interface DmmfField {
  name: string;
  kind: string;
  type: string;
  isRequired: boolean;
  isList: boolean;
  isId: boolean;
  relationName?: string;
  relationFromFields?: string[];
}

// Columns no read may ever select or compare, whatever the schema says.
const SECRET = new Set(['passwordHash', 'tokenHash']);

export class DataModel {
  private readonly models = new Map<string, Model>();

  constructor() {
    const dmmf = getDatamodel().datamodel.models as unknown as Record<string, { fields: DmmfField[] }>;
    const runtime: Record<string, { dbName: string; fields: readonly { name: string; dbName: string }[] }> =
      datamodel.models;
    const dbName = (model: string, field: string) =>
      runtime[model]?.fields.find((f) => f.name === field)?.dbName ?? field;
    const idOf = (model: string) => dmmf[model]!.fields.find((f) => f.isId)!.name;
    for (const [name, { fields }] of Object.entries(dmmf)) {
      const columns = new Map<string, Column>();
      const relations = new Map<string, Relation>();
      for (const field of fields) {
        if (field.kind === 'scalar' || field.kind === 'enum') {
          if (SECRET.has(field.name)) continue;
          columns.set(field.name, {
            name: field.name,
            sql: sql.identifier(dbName(name, field.name)),
            type: field.type,
            kind: field.kind,
            isRequired: field.isRequired,
            isList: field.isList,
          });
        } else if (field.kind === 'object' && field.relationName) {
          const own = field.relationFromFields ?? [];
          const other = dmmf[field.type]!.fields.find((f) => f.relationName === field.relationName && f !== field);
          let link: Relation['link'];
          if (own.length === 1) {
            // This row holds the foreign key to the other model's ID.
            const fk = sql.identifier(dbName(name, own[0]!));
            const id = sql.identifier(dbName(field.type, idOf(field.type)));
            link = (child, parent) => sql`${child}.${id} = ${parent}.${fk}`;
          } else if (other?.relationFromFields?.length === 1) {
            const fk = sql.identifier(dbName(field.type, other.relationFromFields[0]!));
            const id = sql.identifier(dbName(name, idOf(name)));
            link = (child, parent) => sql`${child}.${fk} = ${parent}.${id}`;
          } else {
            continue;
          }
          relations.set(field.name, { name: field.name, model: field.type, isList: field.isList, link });
        }
      }
      const table = runtime[name]?.dbName ?? name;
      this.models.set(name, { name, table: sql.identifier(table), columns, relations });
    }
  }

  model(name: string): Model {
    const model = this.models.get(name);
    if (!model) throw new Unplannable(`model ${name}`);
    return model;
  }

  column(model: Model, field: string): Column {
    const column = model.columns.get(field);
    if (!column) throw new Unplannable(`${model.name}.${field} is not a readable column`);
    return column;
  }

  relation(model: Model, field: string): Relation {
    const relation = model.relations.get(field);
    if (!relation) throw new Unplannable(`${model.name}.${field} is not a relation`);
    return relation;
  }
}
