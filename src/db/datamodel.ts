import type { PrismaClient } from '../generated/prisma/client.js';

/** A model as the Prisma client knows it at run time: its table and its fields' columns (`@map`). */
export interface RuntimeModel {
  dbName: string | null;
  fields: { name: string; dbName?: string | null }[];
}

export interface RuntimeDataModel {
  models: Record<string, RuntimeModel>;
}

/**
 * The client's own data model, the one place table and column names are read from (the read
 * planner, the seed). It is an internal property of the Prisma client, not public API, so a
 * Prisma release that moves it fails here, by name, rather than as a wrong identifier in SQL.
 */
export function runtimeDataModel(prisma: PrismaClient): RuntimeDataModel {
  const model = (prisma as unknown as { _runtimeDataModel?: RuntimeDataModel })._runtimeDataModel;
  if (!model?.models)
    throw new Error(
      'the Prisma client has no _runtimeDataModel: check src/db/datamodel.ts against this Prisma version',
    );
  return model;
}
