// Prisma CLI configuration: the schema engine runs in JavaScript over the pg driver
// adapter, so generate and migrate download nothing.
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

// The schema's datasource reads DATABASE_URL, so it must be set even for `prisma generate`.
process.env.DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/ser';
const connectionString = process.env.DATABASE_URL;

// Prisma issue 27403: the schema engine reads PostgreSQL's catalogs, whose `name`
// and `"char"` columns the pg adapter cannot map. They are text to the engine.
const TEXT_OID = 25;
const CATALOG_TEXT_OIDS = new Set([18 /* "char" */, 19 /* name */]);

type Fields = { fields: { dataTypeID: number }[] };

function catalogTypesAsText<T extends object>(queryable: T): T {
  const proxy: T = new Proxy(queryable, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop === 'performIO')
        return async (...args: unknown[]) => {
          const result = (await value.apply(proxy, args)) as Fields;
          for (const field of result.fields) if (CATALOG_TEXT_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
          return result;
        };
      if (prop === 'startTransaction') return async (...args: unknown[]) => catalogTypesAsText(await value.apply(target, args));
      return value.bind(proxy);
    },
  });
  return proxy;
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  adapter: async () => {
    const factory = new PrismaPg({ connectionString });
    return {
      provider: factory.provider,
      adapterName: factory.adapterName,
      connect: async () => catalogTypesAsText(await factory.connect()),
      connectToShadowDb: async () => catalogTypesAsText(await factory.connectToShadowDb()),
    };
  },
});
