import { definedSchemas } from './definitions';
import { getDefaultRegistry, loadDefinedSchemas } from './registry';

/**
 * A released schema keeps its canonical form: events and commands written with it sit on the
 * topics, the `<prefix>.schemas` topic is keyed by its fingerprint and snapshots are tagged
 * with it. A change is a new version (schemas/README.md, "Changing a schema"). The schemas
 * declared in domain/ carry their fingerprint (the registry refuses one that no longer has
 * it); the `.avsc` files' are pinned here.
 */
const RELEASED_FILES = {
  command: {},
  event: {
    'OrderConfirmed.v1': 'd2d94cadce9c9065f8f7df8abbbb93930178ce373c72e5c52756d33d2d5e77a6',
  },
} as const;

describe('released schema files keep their fingerprints', () => {
  const registry = getDefaultRegistry();

  it.each(
    Object.entries(RELEASED_FILES).flatMap(([kind, schemas]) =>
      Object.entries(schemas).map(([name, fingerprint]) => [kind, name, fingerprint] as const),
    ),
  )('%s %s', (kind, name, fingerprint) => {
    const [typeName, version] = name.split('.v');
    const schema = registry.writer(kind as 'command' | 'event', fingerprint);
    expect([schema.typeName, schema.version]).toEqual([typeName, Number(version)]);
  });
});

describe('schemas declared in domain/', () => {
  it('each carries the fingerprint it was released with (a new one: paste it from here)', () => {
    const registry = getDefaultRegistry();
    const unreleased = definedSchemas()
      .filter((d) => d.released === undefined)
      .map((d) => `${d.source}: ${registry.current(d.kind, d.typeName).fingerprint}`);
    expect(unreleased).toEqual([]);
  });

  it('are refused when their canonical form is not the released one', () => {
    const [declared] = definedSchemas();
    if (!declared) throw new Error('no declared schema');
    expect(() => loadDefinedSchemas([declared])).not.toThrow();
    const changed = { ...declared, released: 'f'.repeat(64) };
    expect(() => loadDefinedSchemas([changed])).toThrow(/never changes, give it a new version/);
  });
});
