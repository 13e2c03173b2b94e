// Deterministic sample data for the customer domain: customers (accounts and guests), groups,
// memberships, addresses, orders and line items.
//
//   npm run db:seed -- [--customers N] [--groups N] [--seed N] [--force | --reset]
//
// The same options always produce the same rows, IDs and timestamps included: every random choice,
// every ID and every date comes from one seeded Faker instance (or a fast generator Faker seeds) and
// a fixed base date, never from the clock or from newId's random ULIDs. Order display IDs are
// reserved from the database sequence and given in creation order, so in an empty database they
// are deterministic too.

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { en, Faker } from '@faker-js/faker';
import { ulid } from 'ulid';
import { type Database, type LoadSession, openDatabase, quoteIdent } from '../src/db/index.js';
import { analyze, migrate } from '../src/db/migrate.js';
import { loadEnv } from '../src/env.js';
import { datamodel } from '../src/generated/datamodel.js';
import {
  FulfillmentStatus,
  OrderStatus,
  PaymentStatus,
  type Prisma,
  type PrismaClient,
} from '../src/generated/prisma/client.js';
import { ID_PREFIXES, type IdType } from '../src/lib/ids.js';
import { phoneE164 } from '../src/services/validation.js';
import { exitOnStartupError, StartupError } from '../src/startup-error.js';

export interface SeedOptions {
  /** Default 50. */
  customers?: number;
  /** Default max(3, min(50, round(customers / 200))). */
  groups?: number;
  /** Faker seed, default 42. */
  seed?: number;
  /** Called with a one-line progress report every few seconds while rows are inserted. */
  onProgress?: (message: string) => void;
}

export interface SeedResult {
  customers: number;
  groups: number;
  memberships: number;
  addresses: number;
  orders: number;
  lineItems: number;
}

/** bcrypt("password123", cost 10). Fixed: a fresh hash has a random salt, which would break determinism. */
export const SEED_PASSWORD_HASH = '$2b$10$CR3DwDn3.1tWOUTDHFQuz./2V1S9xu8M7ieTCfbz/b5EHIa0t74n6';

/** Every seeded timestamp lies before this instant. */
const BASE_TIME = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Customers sign up over the two years before BASE_TIME; groups exist before that. */
const CUSTOMER_SPAN = 730 * DAY;
const GROUPS_FROM = BASE_TIME - CUSTOMER_SPAN - 60 * DAY;

// Rows per COPY. Rows go to the database in PostgreSQL's COPY text format, which it reads about
// twice as fast as rows expanded from a JSON parameter, and with no per-row work in Prisma's client.
const BATCH_ROWS = 20_000;

// ---------------------------------------------------------------------------------------------
// Reference data

type Currency = 'usd' | 'eur' | 'gbp' | 'dkk';

interface Country {
  code: string;
  weight: number;
  currency: Currency;
  callingCode: string;
  phoneDigits: number;
  /** faker.helpers.replaceSymbols pattern: # digit, ? letter. */
  postalCode: string;
  /** Tax rates in use (US rates vary by state). */
  taxRates: readonly number[];
  /** null: faker's US cities, states and street addresses. */
  cities: readonly string[] | null;
  /** null: faker's English street names. */
  streets: readonly string[] | null;
  /** "Hauptstraße 12" rather than "12 Main Street". */
  numberAfterStreet: boolean;
}

const COUNTRIES: readonly Country[] = [
  {
    code: 'us',
    weight: 35,
    currency: 'usd',
    callingCode: '1',
    phoneDigits: 10,
    postalCode: '#####',
    taxRates: [0, 0.06, 0.0725, 0.0825, 0.0875],
    cities: null,
    streets: null,
    numberAfterStreet: false,
  },
  {
    code: 'gb',
    weight: 15,
    currency: 'gbp',
    callingCode: '44',
    phoneDigits: 10,
    postalCode: '??# #??',
    taxRates: [0.2],
    cities: ['London', 'Manchester', 'Birmingham', 'Leeds', 'Glasgow', 'Edinburgh', 'Bristol', 'Liverpool'],
    streets: null,
    numberAfterStreet: false,
  },
  {
    code: 'de',
    weight: 15,
    currency: 'eur',
    callingCode: '49',
    phoneDigits: 11,
    postalCode: '#####',
    taxRates: [0.19],
    cities: ['Berlin', 'Hamburg', 'München', 'Köln', 'Frankfurt am Main', 'Stuttgart', 'Düsseldorf', 'Leipzig'],
    streets: [
      'Hauptstraße',
      'Bahnhofstraße',
      'Gartenstraße',
      'Schulstraße',
      'Lindenstraße',
      'Goethestraße',
      'Schillerstraße',
      'Bergstraße',
    ],
    numberAfterStreet: true,
  },
  {
    code: 'fr',
    weight: 10,
    currency: 'eur',
    callingCode: '33',
    phoneDigits: 9,
    postalCode: '#####',
    taxRates: [0.2],
    cities: ['Paris', 'Lyon', 'Marseille', 'Toulouse', 'Nice', 'Nantes', 'Bordeaux', 'Lille'],
    streets: [
      'rue de la Paix',
      'rue Victor Hugo',
      'boulevard Saint-Germain',
      'rue de Rivoli',
      'avenue Jean Jaurès',
      'rue Nationale',
      'place de la République',
    ],
    numberAfterStreet: false,
  },
  {
    code: 'dk',
    weight: 10,
    currency: 'dkk',
    callingCode: '45',
    phoneDigits: 8,
    postalCode: '####',
    taxRates: [0.25],
    cities: ['København', 'Aarhus', 'Odense', 'Aalborg', 'Esbjerg', 'Roskilde', 'Frederiksberg'],
    streets: [
      'Vesterbrogade',
      'Nørrebrogade',
      'Østergade',
      'Jernbanegade',
      'Algade',
      'Søndergade',
      'Vestergade',
      'Bredgade',
    ],
    numberAfterStreet: true,
  },
  {
    code: 'nl',
    weight: 5,
    currency: 'eur',
    callingCode: '31',
    phoneDigits: 9,
    postalCode: '#### ??',
    taxRates: [0.21],
    cities: ['Amsterdam', 'Rotterdam', 'Den Haag', 'Utrecht', 'Eindhoven', 'Groningen'],
    streets: ['Kerkstraat', 'Dorpsstraat', 'Hoofdstraat', 'Stationsweg', 'Prinsengracht', 'Keizersgracht'],
    numberAfterStreet: true,
  },
  {
    code: 'se',
    weight: 5,
    currency: 'eur',
    callingCode: '46',
    phoneDigits: 9,
    postalCode: '### ##',
    taxRates: [0.25],
    cities: ['Stockholm', 'Göteborg', 'Malmö', 'Uppsala', 'Västerås'],
    streets: ['Storgatan', 'Drottninggatan', 'Kungsgatan', 'Sveavägen', 'Vasagatan'],
    numberAfterStreet: true,
  },
  {
    code: 'es',
    weight: 5,
    currency: 'eur',
    callingCode: '34',
    phoneDigits: 9,
    postalCode: '#####',
    taxRates: [0.21],
    cities: ['Madrid', 'Barcelona', 'Valencia', 'Sevilla', 'Bilbao', 'Málaga'],
    streets: ['Calle Mayor', 'Gran Vía', 'Calle de Alcalá', 'Paseo de Gracia', 'Calle Real'],
    numberAfterStreet: true,
  },
];

const CURRENCIES: readonly Currency[] = ['usd', 'eur', 'gbp', 'dkk'];

/** Minor units per US cent, roughly, and flat shipping rates in minor units. */
const PRICING: Record<Currency, { factor: number; shipping: readonly number[]; freeShippingFrom: number }> = {
  usd: { factor: 1, shipping: [599, 999, 1499], freeShippingFrom: 10_000 },
  eur: { factor: 1, shipping: [495, 895, 1295], freeShippingFrom: 10_000 },
  gbp: { factor: 0.8, shipping: [399, 799, 1199], freeShippingFrom: 8_000 },
  dkk: { factor: 7, shipping: [3_900, 5_900, 9_900], freeShippingFrom: 70_000 },
};

const GROUP_NAMES = [
  'VIP',
  'Wholesale',
  'Newsletter',
  'B2B',
  'Employees',
  'Loyalty Gold',
  'Loyalty Silver',
  'Loyalty Bronze',
  'Influencers',
  'Early Adopters',
  'Repeat Buyers',
  'First-time Buyers',
  'Press',
  'Partners',
  'Students',
  'Affiliates',
  'Beta Testers',
  'High Value',
  'At Risk',
  'Win-back',
  'Nordic',
  'DACH',
  'North America',
  'UK & Ireland',
  'Retailers',
  'Distributors',
  'Friends & Family',
  'Ambassadors',
] as const;

const FREE_MAIL = ['gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'icloud.com', 'proton.me'] as const;

interface OrderScenario {
  status: OrderStatus;
  fulfillment: FulfillmentStatus;
  payment: PaymentStatus;
}

const scenario = (status: OrderStatus, fulfillment: FulfillmentStatus, payment: PaymentStatus): OrderScenario => ({
  status,
  fulfillment,
  payment,
});

/** Orders older than two weeks have mostly settled. */
const SETTLED_SCENARIOS = [
  { weight: 50, value: scenario(OrderStatus.completed, FulfillmentStatus.shipped, PaymentStatus.captured) },
  { weight: 18, value: scenario(OrderStatus.completed, FulfillmentStatus.fulfilled, PaymentStatus.captured) },
  { weight: 8, value: scenario(OrderStatus.archived, FulfillmentStatus.shipped, PaymentStatus.captured) },
  {
    weight: 4,
    value: scenario(OrderStatus.completed, FulfillmentStatus.partially_returned, PaymentStatus.partially_refunded),
  },
  { weight: 3, value: scenario(OrderStatus.completed, FulfillmentStatus.returned, PaymentStatus.refunded) },
  { weight: 6, value: scenario(OrderStatus.canceled, FulfillmentStatus.canceled, PaymentStatus.canceled) },
  { weight: 3, value: scenario(OrderStatus.pending, FulfillmentStatus.not_fulfilled, PaymentStatus.not_paid) },
  {
    weight: 1,
    value: scenario(OrderStatus.requires_action, FulfillmentStatus.requires_action, PaymentStatus.requires_action),
  },
] as const;

/** Recent orders are often still in progress. */
const RECENT_SCENARIOS = [
  { weight: 25, value: scenario(OrderStatus.pending, FulfillmentStatus.not_fulfilled, PaymentStatus.captured) },
  { weight: 12, value: scenario(OrderStatus.pending, FulfillmentStatus.not_fulfilled, PaymentStatus.awaiting) },
  { weight: 10, value: scenario(OrderStatus.pending, FulfillmentStatus.not_fulfilled, PaymentStatus.not_paid) },
  { weight: 5, value: scenario(OrderStatus.pending, FulfillmentStatus.partially_fulfilled, PaymentStatus.captured) },
  { weight: 5, value: scenario(OrderStatus.pending, FulfillmentStatus.partially_shipped, PaymentStatus.captured) },
  { weight: 15, value: scenario(OrderStatus.pending, FulfillmentStatus.shipped, PaymentStatus.captured) },
  { weight: 20, value: scenario(OrderStatus.completed, FulfillmentStatus.shipped, PaymentStatus.captured) },
  { weight: 5, value: scenario(OrderStatus.canceled, FulfillmentStatus.canceled, PaymentStatus.canceled) },
  {
    weight: 3,
    value: scenario(OrderStatus.requires_action, FulfillmentStatus.not_fulfilled, PaymentStatus.requires_action),
  },
] as const;

const SALES_CHANNELS = [
  { weight: 85, value: 'web' },
  { weight: 10, value: 'pos' },
  { weight: 5, value: 'app' },
] as const;

// ---------------------------------------------------------------------------------------------
// Generation

/**
 * A Medusa-style ID: prefix, then a ULID (the `ulid` package's) whose time part is `ms` and whose
 * random part comes from a small generator seeded by faker, so a seed always makes the same IDs
 * (faker's own generator, a call per character, was a fifth of the seed's time).
 */
function makeIdFactory(faker: Faker) {
  const random = seededFrom(faker);
  const prng = () => random() / 0x1_0000_0000;
  return (type: IdType | 'user' | 'reg' | 'sc' | 'cart', ms: number): string => {
    const prefix = type in ID_PREFIXES ? ID_PREFIXES[type as IdType] : type;
    return `${prefix}_${ulid(Math.floor(ms), prng)}`;
  };
}

/** A fast stream of random 32-bit unsigned integers whose seed is drawn from `faker`. */
function seededFrom(faker: Faker): () => number {
  const word = () => faker.number.int({ min: 0, max: 0xffffffff });
  return sfc32(word(), word(), word(), word());
}

/** Chris Doty-Humphrey's sfc32: four 32-bit words of state, a 32-bit unsigned integer per call. */
function sfc32(a: number, b: number, c: number, d: number): () => number {
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
}

type AddressSnapshot = {
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  address1: string | null;
  address2: string | null;
  city: string | null;
  countryCode: string | null;
  province: string | null;
  postalCode: string | null;
  phone: string | null;
};

interface SeedCustomer {
  row: Prisma.CustomerCreateManyInput;
  createdAt: number;
  country: Country;
}

interface SeedAddress {
  row: Prisma.AddressCreateManyInput;
  snapshot: AddressSnapshot;
  country: Country;
}

/**
 * How many orders each customer places and when, drawn before any order is made from a stream of
 * their own, so that each order's display ID (the store's order number, given in time order from
 * the table's sequence) is known when it is made and orders go to the database as they are made.
 * Customer `n` has orders `first[n]` to `first[n + 1] - 1`.
 */
async function orderSchedule(session: LoadSession, faker: Faker, signUps: readonly number[]) {
  const random = seededFrom(faker);
  // 0 orders with weight 14, 1 to 9 with weight 10 each, 10 with weight 4.
  const orderCount = () => {
    const r = random() % 108;
    return r < 14 ? 0 : r < 104 ? 1 + Math.floor((r - 14) / 10) : 10;
  };
  const first = new Uint32Array(signUps.length + 1);
  const times: number[] = [];
  for (const [n, signUp] of signUps.entries()) {
    first[n] = times.length;
    const from = signUp + HOUR;
    for (let k = orderCount(); k > 0; k--)
      times.push(from + Math.floor(((random() * 2 ** 32 + random()) / 2 ** 64) * (BASE_TIME - from)));
  }
  first[signUps.length] = times.length;
  const createdAt = Float64Array.from(times);
  const byTime = Uint32Array.from(times.keys()).sort((a, b) => createdAt[a]! - createdAt[b]! || a - b);
  const displayId = new Uint32Array(times.length);
  if (times.length > 0) {
    // Reserve the next numbers of the sequence for these orders.
    const [row] = await session.query<{ first: number }>(
      `SELECT setval(pg_get_serial_sequence('"order"', 'display_id'), nextval(pg_get_serial_sequence('"order"', 'display_id')) + $1 - 1) - $1 + 1 AS first`,
      [times.length],
    );
    for (const [rank, o] of byTime.entries()) displayId[o] = Number(row!.first) + rank;
  }
  return { first, createdAt, displayId };
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
}

export function defaultGroupCount(customers: number): number {
  return Math.max(3, Math.min(50, Math.round(customers / 200)));
}

/** True when the database has no customers (soft-deleted ones count). */
export async function isEmpty(prisma: PrismaClient): Promise<boolean> {
  return (await prisma.customer.findFirst({ select: { id: true } })) === null;
}

/**
 * Inserts deterministic sample data. Does not check that the database is empty (see isEmpty);
 * groups whose name is already taken are reused rather than inserted.
 */
export async function seed(db: Database, options: SeedOptions = {}): Promise<SeedResult> {
  const { prisma } = db;
  const customerCount = options.customers ?? 50;
  const groupCount = options.groups ?? defaultGroupCount(customerCount);
  checkCount('customers', customerCount);
  checkCount('groups', groupCount);
  const seedValue = options.seed ?? 42;
  if (!Number.isSafeInteger(seedValue)) throw new RangeError(`seed must be an integer, got ${seedValue}`);

  const faker = new Faker({ locale: [en] });
  faker.seed(seedValue);
  const id = makeIdFactory(faker);
  const int = (min: number, max: number) => faker.number.int({ min, max });
  const chance = (probability: number) => faker.datatype.boolean({ probability });
  const pick = <T>(values: readonly T[]): T => faker.helpers.arrayElement(values);
  const between = (from: number, to: number) => (to <= from ? from : int(from, to - 1));
  const cap = (ms: number) => Math.min(ms, BASE_TIME - 1);

  // Fixed platform entities referenced by string only.
  const admins = [id('user', GROUPS_FROM - 90 * DAY), id('user', GROUPS_FROM - 30 * DAY)];
  const regionByCurrency = new Map(CURRENCIES.map((currency) => [currency, id('reg', GROUPS_FROM - 100 * DAY)]));
  const salesChannelIds = new Map(SALES_CHANNELS.map(({ value }) => [value, id('sc', GROUPS_FROM - 100 * DAY)]));

  // Groups
  const groupRows: Prisma.CustomerGroupCreateManyInput[] = [];
  for (let i = 0; i < groupCount; i++) {
    const createdAt = GROUPS_FROM + i * HOUR + int(0, HOUR - 1);
    const name = GROUP_NAMES[i] ?? `Segment ${i - GROUP_NAMES.length + 1}`;
    groupRows.push({
      id: id('CustomerGroup', createdAt),
      name,
      metadata: chance(0.3)
        ? { description: faker.company.catchPhrase(), discount_percent: pick([5, 10, 15, 20]) }
        : undefined,
      createdBy: pick(admins),
      createdAt: new Date(createdAt),
      updatedAt: new Date(chance(0.7) ? createdAt : between(createdAt, BASE_TIME)),
    });
  }
  // Earlier groups are bigger: a membership lands in group i with weight 1/sqrt(i+1).
  const groupWeights: number[] = [];
  let totalGroupWeight = 0;
  for (let i = 0; i < groupCount; i++) {
    totalGroupWeight += 1 / Math.sqrt(i + 1);
    groupWeights.push(totalGroupWeight);
  }
  const pickGroupIndex = () => {
    const r = faker.number.float({ min: 0, max: totalGroupWeight });
    let lo = 0;
    let hi = groupCount - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (groupWeights[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };

  // Groups whose name is taken (seeding a non-empty database with --force) are reused.
  const taken = new Map(
    (
      await prisma.customerGroup.findMany({
        where: { name: { in: groupRows.map((g) => g.name) }, deletedAt: null },
        select: { id: true, name: true },
      })
    ).map((g) => [g.name, g.id]),
  );
  const newGroups = groupRows.filter((g) => !taken.has(g.name));
  const groupIds = groupRows.map((g) => taken.get(g.name) ?? g.id);

  // One transaction: a failed seed leaves nothing behind. Rows go to the database while the next
  // are made, a COPY at a time; orders go last, oldest first, for their display IDs.
  const result = await db.bulkLoad(async (session) => {
    const restore = await withoutSecondaryChecks(session, Object.keys(SEEDED_FIELDS));
    const out = copier(session, columnsOf(), progressReporter(options.onProgress));
    for (const group of newGroups) out.customer_group.add(group);

    // Customers, in sign-up order.
    const signUps = Array.from({ length: customerCount }, () => BASE_TIME - DAY - int(0, CUSTOMER_SPAN)).sort(
      (a, b) => a - b,
    );
    const customers: SeedCustomer[] = [];
    const accounts: SeedCustomer[] = [];
    const pickCountry = () =>
      faker.helpers.weightedArrayElement(COUNTRIES.map((value) => ({ weight: value.weight, value })));
    const phoneFor = (country: Country) =>
      `+${country.callingCode}${faker.string.numeric({ length: country.phoneDigits, allowLeadingZeros: false })}`;

    for (let i = 0; i < customerCount; i++) {
      const createdAt = signUps[i]!;
      const country = pickCountry();
      const customerId = id('Customer', createdAt);
      let firstName = faker.person.firstName();
      let lastName = faker.person.lastName();
      let email: string;
      let hasAccount: boolean;
      if (accounts.length > 0 && chance(0.05)) {
        // A guest checkout by someone who also has an account: same email, no account.
        const account = pick(accounts);
        email = account.row.email;
        firstName = account.row.firstName ?? firstName;
        lastName = account.row.lastName ?? lastName;
        hasAccount = false;
      } else {
        email = makeEmail(faker, firstName, lastName, i + 1);
        hasAccount = chance(0.7 / 0.95);
      }
      const companyName = chance(0.2) ? faker.company.name() : null;
      const updatedAt = chance(0.6) ? createdAt : between(createdAt, BASE_TIME);
      const phone = phoneFields(chance(0.5) ? phoneFor(country) : null);
      const row: Prisma.CustomerCreateManyInput = {
        id: customerId,
        email,
        firstName,
        lastName,
        companyName,
        ...phone,
        hasAccount,
        passwordHash: hasAccount ? SEED_PASSWORD_HASH : null,
        metadata: chance(0.25) ? customerMetadata(faker) : undefined,
        createdBy: companyName && chance(0.3) ? pick(admins) : null,
        createdAt: new Date(createdAt),
        updatedAt: new Date(updatedAt),
        ...record(i, hasAccount, phone.phone != null, updatedAt),
      };
      const customer = { row, createdAt, country };
      customers.push(customer);
      out.customer.add(row);
      if (hasAccount) accounts.push(customer);
    }

    // Memberships, addresses and orders, customer by customer.
    const orders = await orderSchedule(
      session,
      faker,
      customers.map((c) => c.createdAt),
    );
    for (const [n, customer] of customers.entries()) {
      if (n % 100 === 0)
        await out.send(`${n.toLocaleString('en')} of ${customers.length.toLocaleString('en')} customers`);
      const { row: c, createdAt: customerCreatedAt } = customer;

      const membershipCount = Math.min(
        groupCount,
        faker.helpers.weightedArrayElement([
          { weight: 35, value: 0 },
          { weight: 35, value: 1 },
          { weight: 20, value: 2 },
          { weight: 10, value: 3 },
        ]),
      );
      const chosen = new Set<number>();
      while (chosen.size < membershipCount) chosen.add(pickGroupIndex());
      for (const index of chosen) {
        const createdAt = between(customerCreatedAt, BASE_TIME);
        out.customer_group_customer.add({
          id: id('CustomerGroupCustomer', createdAt),
          customerId: c.id,
          customerGroupId: groupIds[index]!,
          createdBy: chance(0.5) ? pick(admins) : null,
          createdAt: new Date(createdAt),
          updatedAt: new Date(createdAt),
        });
      }

      const addressCount = faker.helpers.weightedArrayElement([
        { weight: 40, value: 1 },
        { weight: 35, value: 2 },
        { weight: 25, value: 3 },
      ]);
      const billingIndex = addressCount > 1 && chance(0.2) ? 1 : 0;
      const own: SeedAddress[] = [];
      let addressTime = customerCreatedAt + int(0, 10 * MINUTE);
      for (let a = 0; a < addressCount; a++) {
        if (a > 0) addressTime = between(addressTime, BASE_TIME);
        const country = chance(0.85) ? customer.country : pickCountry();
        const someoneElse = chance(0.15);
        const snapshot: AddressSnapshot = {
          firstName: someoneElse ? faker.person.firstName() : (c.firstName ?? null),
          lastName: someoneElse ? faker.person.lastName() : (c.lastName ?? null),
          company: c.companyName && chance(0.5) ? c.companyName : null,
          address1: streetLine(faker, country),
          address2: chance(0.25) ? faker.location.secondaryAddress() : null,
          city: country.cities ? pick(country.cities) : faker.location.city(),
          countryCode: country.code,
          province: country.cities ? null : faker.location.state({ abbreviated: true }),
          postalCode: faker.helpers.replaceSymbols(country.postalCode),
          phone: chance(0.6) ? (c.phone ?? phoneFor(country)) : null,
        };
        const row: Prisma.AddressCreateManyInput = {
          id: id('Address', addressTime),
          customerId: c.id,
          addressName: faker.helpers.weightedArrayElement([
            { weight: 4, value: a === 0 ? 'Home' : 'Work' },
            { weight: 1, value: a === 0 ? 'Main' : 'Holiday home' },
            { weight: 3, value: null },
          ]),
          isDefaultShipping: a === 0,
          isDefaultBilling: a === billingIndex,
          ...snapshot,
          metadata: chance(0.1)
            ? { delivery_instructions: pick(['Leave at the door', 'Ring twice', 'Call on arrival', 'Back entrance']) }
            : undefined,
          createdAt: new Date(addressTime),
          updatedAt: new Date(chance(0.8) ? addressTime : between(addressTime, BASE_TIME)),
        };
        own.push({ row, snapshot, country });
        out.customer_address.add(row);
      }
      const defaultShipping = own[0]!;
      const defaultBilling = own[billingIndex]!;

      for (let o = orders.first[n]!; o < orders.first[n + 1]!; o++) {
        const createdAt = orders.createdAt[o]!;
        const shipTo = chance(0.8) ? defaultShipping : pick(own);
        const billTo = chance(0.9) ? defaultBilling : shipTo;
        const currency = shipTo.country.currency;
        const pricing = PRICING[currency];
        const channel = faker.helpers.weightedArrayElement(SALES_CHANNELS);
        const orderId = id('Order', createdAt);

        const itemCount = faker.helpers.weightedArrayElement([
          { weight: 25, value: 1 },
          { weight: 30, value: 2 },
          { weight: 25, value: 3 },
          { weight: 20, value: 4 },
        ]);
        const items: Prisma.OrderLineItemCreateManyInput[] = [];
        let subtotal = 0;
        let units = 0;
        for (let k = 0; k < itemCount; k++) {
          const quantity = faker.helpers.weightedArrayElement([
            { weight: 70, value: 1 },
            { weight: 22, value: 2 },
            { weight: 8, value: 3 },
          ]);
          const unitPrice = price(faker, pricing.factor);
          subtotal += quantity * unitPrice;
          units += quantity;
          items.push({ id: id('OrderLineItem', createdAt), orderId, title: productName(faker), quantity, unitPrice });
        }

        let discountTotal = 0;
        if (chance(0.15)) {
          discountTotal = chance(0.6)
            ? Math.round((subtotal * pick([10, 15, 20])) / 100)
            : Math.min(Math.floor(subtotal / 2), Math.round(pick([500, 1_000]) * pricing.factor));
        }
        const taxTotal = Math.round((subtotal - discountTotal) * pick(shipTo.country.taxRates));
        const shippingTotal =
          channel === 'pos' || subtotal - discountTotal >= pricing.freeShippingFrom ? 0 : pick(pricing.shipping);
        const total = subtotal + taxTotal + shippingTotal - discountTotal;

        const recent = createdAt > BASE_TIME - 14 * DAY;
        let state: OrderScenario = faker.helpers.weightedArrayElement(recent ? RECENT_SCENARIOS : SETTLED_SCENARIOS);
        // A partial return needs at least two units.
        if (state.payment === PaymentStatus.partially_refunded && units < 2) {
          state = scenario(OrderStatus.completed, FulfillmentStatus.returned, PaymentStatus.refunded);
        }
        let paidTotal = 0;
        let refundedTotal = 0;
        switch (state.payment) {
          case PaymentStatus.captured:
            paidTotal = total;
            break;
          case PaymentStatus.refunded:
            paidTotal = total;
            refundedTotal = total;
            break;
          case PaymentStatus.partially_refunded: {
            paidTotal = total;
            const returned = pick(items);
            refundedTotal = Math.min(total - 1, Number(returned.unitPrice));
            break;
          }
          default: // not_paid, awaiting, canceled, requires_action
            break;
        }

        const canceledAt = state.status === OrderStatus.canceled ? cap(createdAt + int(10 * MINUTE, 3 * DAY)) : null;
        const settledAt =
          state.status === OrderStatus.pending || state.status === OrderStatus.requires_action
            ? createdAt + int(0, 2 * HOUR)
            : createdAt + int(HOUR, 20 * DAY);
        const updatedAt = cap(canceledAt ?? settledAt);

        for (const item of items) out.order_line_item.add(item);
        out.order.add({
          id: orderId,
          displayId: orders.displayId[o]!,
          customerId: c.id,
          email: c.email,
          status: state.status,
          fulfillmentStatus: state.fulfillment,
          paymentStatus: state.payment,
          currencyCode: currency,
          regionId: regionByCurrency.get(currency)!,
          cartId: id('cart', createdAt - int(MINUTE, 2 * HOUR)),
          salesChannelId: salesChannelIds.get(channel)!,
          subtotal,
          taxTotal,
          shippingTotal,
          discountTotal,
          total,
          paidTotal,
          refundedTotal,
          shippingAddress: shipTo.snapshot,
          billingAddress: billTo.snapshot,
          canceledAt: canceledAt === null ? null : new Date(canceledAt),
          metadata: chance(0.08) ? { gift: true, gift_message: faker.lorem.sentence() } : undefined,
          createdAt: new Date(createdAt),
          updatedAt: new Date(updatedAt),
        });
      }
    }
    await out.done();
    options.onProgress?.('rebuilding indexes, checking foreign keys');
    await restore();
    return {
      customers: customers.length,
      groups: newGroups.length,
      memberships: out.customer_group_customer.count,
      addresses: out.customer_address.count,
      orders: orders.createdAt.length,
      lineItems: out.order_line_item.count,
    };
  });
  options.onProgress?.('vacuuming and analyzing the tables');
  await analyze(db, { vacuum: true });
  return result;
}

/** Seeded numbers are written in international form, so their region never matters. */
const phoneFields = (phone: string | null) => ({ phone, phoneE164: phoneE164(phone, 'US') });

/** Each Prisma field name as its column in `table`, read from the generated data model (its @map names). */
function columnsOf(): (table: string, field: string) => string {
  const byTable = new Map<string, Map<string, string>>(
    Object.values(datamodel.models).map((m) => [m.dbName, new Map(m.fields.map((f) => [f.name, f.dbName]))]),
  );
  return (table, field) => byTable.get(table)?.get(field) ?? field;
}

/**
 * Drops the secondary indexes and foreign keys of `tables` and turns off their triggers for a bulk
 * load, and returns what puts them back: an index built once and a foreign key checked in one join
 * are many times faster than maintained row by row, and the merge trigger (which moves a merged
 * customer's new orders) locks a customer row per order while the seed only makes new customers.
 * Inside a transaction only: the tables stay locked until it ends, so no other session sees them
 * without their checks, and a failure (a duplicate, a missing parent) rolls everything back.
 * Primary keys and constraints backed by an index stay.
 */
async function withoutSecondaryChecks(tx: LoadSession, tables: readonly string[]): Promise<() => Promise<void>> {
  const indexes = await tx.query<{ name: string; definition: string }>(
    `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = current_schema() AND t.relname = ANY($1::text[])
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
    [tables],
  );
  const foreignKeys = await tx.query<{ table: string; name: string; definition: string }>(
    `SELECT t.relname AS "table", k.conname AS name, pg_get_constraintdef(k.oid) AS definition
       FROM pg_constraint k
       JOIN pg_class t ON t.oid = k.conrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = current_schema() AND k.contype = 'f' AND t.relname = ANY($1::text[])`,
    [tables],
  );
  const triggers = await tx.query<{ table: string; name: string }>(
    `SELECT t.relname AS "table", g.tgname AS name
       FROM pg_trigger g
       JOIN pg_class t ON t.oid = g.tgrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = current_schema() AND NOT g.tgisinternal AND g.tgenabled <> 'D' AND t.relname = ANY($1::text[])`,
    [tables],
  );
  const q = quoteIdent;
  for (const k of foreignKeys) await tx.exec(`ALTER TABLE ${q(k.table)} DROP CONSTRAINT ${q(k.name)}`);
  for (const index of indexes) await tx.exec(`DROP INDEX ${q(index.name)}`);
  for (const g of triggers) await tx.exec(`ALTER TABLE ${q(g.table)} DISABLE TRIGGER ${q(g.name)}`);
  return async () => {
    for (const index of indexes) await tx.exec(index.definition);
    for (const k of foreignKeys) await tx.exec(`ALTER TABLE ${q(k.table)} ADD CONSTRAINT ${q(k.name)} ${k.definition}`);
    for (const g of triggers) await tx.exec(`ALTER TABLE ${q(g.table)} ENABLE TRIGGER ${q(g.name)}`);
  };
}

/** Calls `onProgress` at most every two seconds (so never, for a seed that takes less). */
function progressReporter(onProgress: SeedOptions['onProgress']): (message: string) => void {
  let last = Date.now();
  return (message) => {
    if (!onProgress || Date.now() - last < 2_000) return;
    last = Date.now();
    onProgress(message);
  };
}

const TAG_SETS = [['VIP'], ['Wholesale'], ['newsletter', 'VIP'], ['Returns often'], ['B2B', 'Wholesale']];

/**
 * A customer's record (tags, marketing consent, a disabled account now and then), from its place in
 * the seed rather than the random stream: the rest of the sample data stays as it was.
 */
function record(
  i: number,
  hasAccount: boolean,
  hasPhone: boolean,
  at: number,
): Partial<Prisma.CustomerCreateManyInput> {
  const when = new Date(at);
  const email =
    i % 3 === 0
      ? { state: 'SUBSCRIBED', level: 'SINGLE_OPT_IN', source: 'register' }
      : i % 17 === 0
        ? { state: 'UNSUBSCRIBED', level: null, source: 'unsubscribe_link' }
        : null;
  const sms = hasPhone && i % 5 === 0;
  // Every column is in the COPY, so a column's default is written here (COPY's \N is NULL).
  return {
    tags: i % 4 === 0 ? TAG_SETS[(i / 4) % TAG_SETS.length]! : [],
    disabledAt: hasAccount && i % 37 === 1 ? when : null,
    emailMarketingState: email?.state ?? 'NOT_SUBSCRIBED',
    emailMarketingOptInLevel: email?.level ?? null,
    emailMarketingUpdatedAt: email ? when : null,
    emailMarketingSource: email?.source ?? null,
    smsMarketingState: sms ? 'SUBSCRIBED' : 'NOT_SUBSCRIBED',
    smsMarketingOptInLevel: sms ? 'SINGLE_OPT_IN' : null,
    smsMarketingUpdatedAt: sms ? when : null,
    smsMarketingSource: sms ? 'checkout' : null,
  };
}

// The columns the seed writes, as Prisma field names; the others keep their defaults (the order
// display ID sequence).
const SEEDED_FIELDS = {
  customer_group: ['id', 'name', 'metadata', 'createdBy', 'createdAt', 'updatedAt'],
  customer: [
    'id',
    'email',
    'firstName',
    'lastName',
    'companyName',
    'phone',
    'phoneE164',
    'hasAccount',
    'passwordHash',
    'metadata',
    'createdBy',
    'createdAt',
    'updatedAt',
    'tags',
    'disabledAt',
    'emailMarketingState',
    'emailMarketingOptInLevel',
    'emailMarketingUpdatedAt',
    'emailMarketingSource',
    'smsMarketingState',
    'smsMarketingOptInLevel',
    'smsMarketingUpdatedAt',
    'smsMarketingSource',
  ],
  customer_group_customer: ['id', 'customerId', 'customerGroupId', 'createdBy', 'createdAt', 'updatedAt'],
  customer_address: [
    'id',
    'customerId',
    'addressName',
    'isDefaultShipping',
    'isDefaultBilling',
    'firstName',
    'lastName',
    'company',
    'address1',
    'address2',
    'city',
    'countryCode',
    'province',
    'postalCode',
    'phone',
    'metadata',
    'createdAt',
    'updatedAt',
  ],
  order: [
    'id',
    'displayId',
    'customerId',
    'email',
    'status',
    'fulfillmentStatus',
    'paymentStatus',
    'currencyCode',
    'regionId',
    'cartId',
    'salesChannelId',
    'subtotal',
    'taxTotal',
    'shippingTotal',
    'discountTotal',
    'total',
    'paidTotal',
    'refundedTotal',
    'shippingAddress',
    'billingAddress',
    'canceledAt',
    'metadata',
    'createdAt',
    'updatedAt',
  ],
  order_line_item: ['id', 'orderId', 'title', 'quantity', 'unitPrice'],
} satisfies { [T in SeededTable]: (keyof SeededRows[T])[] };

interface SeededRows {
  customer_group: Prisma.CustomerGroupCreateManyInput;
  customer: Prisma.CustomerCreateManyInput;
  customer_group_customer: Prisma.CustomerGroupCustomerCreateManyInput;
  customer_address: Prisma.AddressCreateManyInput;
  order: Prisma.OrderCreateManyInput;
  order_line_item: Prisma.OrderLineItemCreateManyInput;
}

type SeededTable = keyof SeededRows;

/**
 * A writer per table that turns rows (objects keyed by Prisma field names) into COPY text as they
 * are made, so only text is kept. `send` copies every table holding BATCH_ROWS rows, one COPY at
 * a time: the database reads a batch while the next rows are made.
 */
function copier(
  session: LoadSession,
  column: (table: string, field: string) => string,
  progress: (message: string) => void,
) {
  let running: Promise<unknown> = Promise.resolve();
  const table = <T extends SeededTable>(name: T) => {
    const fields: readonly string[] = SEEDED_FIELDS[name];
    const columns = fields.map((f) => column(name, f));
    let text = '';
    let rows = 0;
    const writer = {
      count: 0,
      line(row: SeededRows[T]): string {
        let line = '';
        for (let f = 0; f < fields.length; f++)
          line += (f === 0 ? '' : '\t') + copyValue((row as Record<string, unknown>)[fields[f]!]);
        return line;
      },
      add(row: SeededRows[T]) {
        writer.addLine(writer.line(row));
      },
      addLine(line: string) {
        text += `${line}\n`;
        rows++;
        writer.count++;
      },
      async send(min: number) {
        if (rows === 0 || rows < min) return;
        const batch = text;
        text = '';
        rows = 0;
        await running;
        running = session.copy(name, columns, batch);
        // Awaited with the next batch; a failure must not go unobserved until then.
        running.catch(() => {});
      },
    };
    return writer;
  };
  const tables = {
    customer_group: table('customer_group'),
    customer: table('customer'),
    customer_group_customer: table('customer_group_customer'),
    customer_address: table('customer_address'),
    order: table('order'),
    order_line_item: table('order_line_item'),
  };
  const sendAll = async (min: number) => {
    for (const writer of Object.values(tables)) await writer.send(min);
  };
  return {
    ...tables,
    /** Copies the tables that hold a full batch, and reports `message` every few seconds. */
    async send(message: string) {
      progress(message);
      await sendAll(BATCH_ROWS);
      // A turn of the event loop, in which the socket takes more of the COPY in flight: without it
      // the database waits for the rows until the next batch is full.
      await new Promise(setImmediate);
    },
    async done() {
      await sendAll(0);
      await running;
    },
  };
}

/** A value in COPY's text format: `\N` for null, backslash escapes for the characters it reserves. */
function copyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return copyText(value);
  // A text[] (tags): PostgreSQL's array literal, each item quoted.
  if (Array.isArray(value))
    return copyText(`{${value.map((item) => `"${String(item).replace(/["\\]/g, '\\$&')}"`).join(',')}}`);
  // An address snapshot is shared by every order sent to that address: written once.
  let json = jsonText.get(value as object);
  if (json === undefined) {
    json = copyText(JSON.stringify(value));
    jsonText.set(value as object, json);
  }
  return json;
}

const jsonText = new WeakMap<object, string>();

const copyText = (text: string) =>
  /[\\\t\n\r]/.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : text;

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function slug(name: string): string {
  return name
    .normalize('NFD')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

/**
 * Lower-case and unique: the local part ends in `n` and the name part before it never ends in a
 * digit, so two different `n` can never give the same address.
 */
function makeEmail(faker: Faker, firstName: string, lastName: string, n: number): string {
  const first = slug(firstName) || 'customer';
  const last = slug(lastName) || 'shopper';
  const local = faker.helpers.arrayElement([
    `${first}.${last}`,
    `${first}_${last}`,
    `${first}${last}`,
    `${first.charAt(0)}${last}`,
    `${first}.${last.charAt(0)}`,
    `${first}`,
  ]);
  const domain = faker.datatype.boolean({ probability: 0.75 })
    ? faker.helpers.arrayElement(FREE_MAIL)
    : faker.internet.domainName();
  return `${local}${n}@${domain}`.toLowerCase();
}

function streetLine(faker: Faker, country: Country): string {
  if (!country.cities) return faker.location.streetAddress(); // US
  const street = country.streets ? faker.helpers.arrayElement(country.streets) : faker.location.street();
  const number = faker.number.int({ min: 1, max: 180 });
  return country.numberAfterStreet ? `${street} ${number}` : `${number} ${street}`;
}

/** faker's commerce.productName without its template engine, which was an eighth of the seed's time. */
function productName(faker: Faker): string {
  const words = faker.definitions.commerce.product_name;
  return `${faker.helpers.arrayElement(words.adjective)} ${faker.helpers.arrayElement(words.material)} ${faker.helpers.arrayElement(words.product)}`;
}

/** A shelf price in minor units: 4.99, 19.95, 129.00 and so on, scaled to the currency. */
function price(faker: Faker, factor: number): number {
  const cents = faker.number.int({ min: 5, max: 180 }) * 100 - faker.helpers.arrayElement([1, 1, 5, 50, 100]);
  if (factor === 1) return cents;
  return Math.round((cents * factor) / 100) * 100 - (factor >= 5 ? 5 : 1);
}

function customerMetadata(faker: Faker): Prisma.InputJsonObject {
  return faker.helpers.arrayElement<Prisma.InputJsonObject>([
    { source: faker.helpers.arrayElement(['instagram', 'google', 'referral', 'newsletter', 'tiktok']) },
    { newsletter_opt_in: faker.datatype.boolean() },
    { loyalty_points: faker.number.int({ min: 0, max: 5_000 }) },
    { preferred_language: faker.helpers.arrayElement(['en', 'de', 'fr', 'da', 'nl', 'sv', 'es']) },
    {
      birthday: faker.date
        .birthdate({ refDate: new Date(BASE_TIME) })
        .toISOString()
        .slice(0, 10),
      vip_since: 2024,
    },
  ]);
}

// ---------------------------------------------------------------------------------------------
// Command line

const USAGE =
  'usage: npm run db:seed -- [--customers N] [--groups N] [--seed N] [--force | --reset]\n' +
  '  --force  seed even if the database already has customers (added to them)\n' +
  '  --reset  delete every row first (customers, groups, orders, sessions, events), then seed';

class UsageError extends Error {}

interface CliOptions extends SeedOptions {
  force: boolean;
  reset: boolean;
  help: boolean;
}

function positiveInteger(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError(`--${flag} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function parseFlags(args: string[]) {
  try {
    return parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        customers: { type: 'string' },
        groups: { type: 'string' },
        seed: { type: 'string' },
        force: { type: 'boolean', default: false },
        reset: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function parseCli(args: string[]): CliOptions {
  const values = parseFlags(args);
  return {
    customers: positiveInteger('customers', values.customers),
    groups: positiveInteger('groups', values.groups),
    seed: positiveInteger('seed', values.seed),
    force: values.force,
    reset: values.reset,
    help: values.help,
  };
}

export function formatSummary(result: SeedResult): string {
  return (
    `seeded ${result.customers} customers, ${result.groups} groups, ${result.memberships} memberships, ` +
    `${result.addresses} addresses, ${result.orders} orders, ${result.lineItems} line items`
  );
}

async function main(args: string[]): Promise<number> {
  let cli: CliOptions;
  try {
    cli = parseCli(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`seed: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (cli.help) {
    console.log(USAGE);
    return 0;
  }

  const env = loadEnv();
  const db = await openDatabase(
    env.DATABASE_URL ? { url: env.DATABASE_URL, poolSize: env.DB_POOL_SIZE } : { dataDir: env.DATA_DIR },
  );
  try {
    // Decide before migrating: a database that already has customers is left exactly as it was.
    // (A database without the customer table is empty; it is migrated, as the server would, then seeded.)
    const existing = await customerCount(db);
    if (existing > 0 && !cli.force && !cli.reset) {
      console.log(
        `seed: the database already has ${existing} customers; not seeding ` +
          '(--reset replaces them with fresh sample data, --force adds to them)',
      );
      return 0;
    }
    await migrate(db);
    if (cli.reset && existing > 0) {
      await resetData(db);
      console.log(`seed: deleted every row (${existing} customers)`);
    }
    const started = Date.now();
    if ((cli.customers ?? 0) >= 10_000) console.log(`seed: generating ${cli.customers} customers and their rows`);
    const result = await seed(db, {
      customers: cli.customers,
      groups: cli.groups,
      seed: cli.seed,
      onProgress: (message) => console.log(`seed: ${message}`),
    }).catch((error: unknown) => {
      if (/duplicate key|unique constraint/i.test(String((error as Error | undefined)?.message))) {
        console.error(
          'seed: a seeded row already exists (same --seed into a seeded database?); use --reset, or another --seed',
        );
      }
      throw error;
    });
    console.log(`${formatSummary(result)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } finally {
    await db.close();
  }
}

/** Customers in the database, soft-deleted ones included; 0 when it has no customer table yet. */
async function customerCount(db: Database): Promise<number> {
  const session = await db.session();
  try {
    const [table] = await session.query<{ exists: boolean }>(
      `SELECT to_regclass('public.customer') IS NOT NULL AS "exists"`,
    );
    if (!table?.exists) return 0;
    const [row] = await session.query<{ n: number }>('SELECT count(*)::int AS n FROM customer');
    return row?.n ?? 0;
  } finally {
    await session.release();
  }
}

/** Empties every table but the migration ledger, and restarts the order display IDs at 1. */
async function resetData(db: Database) {
  const session = await db.session();
  try {
    const tables = await session.query<{ name: string }>(
      `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`,
    );
    if (tables.length) await session.exec(`TRUNCATE ${tables.map((t) => t.name).join(', ')} RESTART IDENTITY CASCADE`);
  } finally {
    await session.release();
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof StartupError) exitOnStartupError(error);
      console.error(error);
      process.exitCode = 1;
    },
  );
}
