import fs from 'node:fs';
import path from 'node:path';
import {
  ORDER_COMMAND_TYPES,
  ORDER_EVENT_TYPES,
  PRODUCT_COMMAND_TYPES,
  PRODUCT_EVENT_TYPES,
} from '../domain';
import { getDefaultRegistry } from './registry';
import { sampleCommands, sampleEvents } from './samples';

/** The command and event names of domain/README.md's tables (backticked CamelCase). */
function readmeCatalogue(): { commands: string[]; events: string[] } {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'domain', 'README.md'), 'utf8');
  const commands = new Set<string>();
  const events = new Set<string>();
  const camel = (cell: string | undefined) =>
    [...(cell ?? '').matchAll(/`([A-Z][A-Za-z0-9]*)`/g)].map((m) => m[1] ?? '');
  let columns: string[] = [];
  for (const line of readme.split('\n')) {
    if (!line.startsWith('|')) {
      columns = [];
      continue;
    }
    const cells = line.split('|').map((c) => c.trim());
    if (columns.length === 0) {
      columns = cells; // the header row of a table
      continue;
    }
    const at = (name: string) => cells[columns.indexOf(name)];
    for (const name of camel(at('command'))) commands.add(name);
    for (const name of camel(at('events'))) events.add(name);
  }
  return { commands: [...commands].sort(), events: [...events].sort() };
}

describe('the schemas cover domain/README.md exactly', () => {
  const registry = getDefaultRegistry();
  const catalogue = readmeCatalogue();

  it('finds the catalogue in the README', () => {
    expect(catalogue.commands.length).toBeGreaterThanOrEqual(18);
    expect(catalogue.events.length).toBeGreaterThanOrEqual(18);
  });

  it('has a schema for every event and no schema for an unlisted one', () => {
    expect(registry.typeNames('event')).toStrictEqual(catalogue.events);
  });

  it('has a schema for every command and no schema for an unlisted one', () => {
    expect(registry.typeNames('command')).toStrictEqual(catalogue.commands);
  });

  it('agrees with the type lists of domain/', () => {
    expect([...PRODUCT_EVENT_TYPES, ...ORDER_EVENT_TYPES].sort()).toStrictEqual(catalogue.events);
    expect([...PRODUCT_COMMAND_TYPES, ...ORDER_COMMAND_TYPES].sort()).toStrictEqual(
      catalogue.commands,
    );
  });

  it('has a sample of every type in schemas/samples.ts', () => {
    expect([...new Set(sampleEvents.map((e) => e.type))].sort()).toStrictEqual(catalogue.events);
    expect([...new Set(sampleCommands.map((c) => c.type))].sort()).toStrictEqual(
      catalogue.commands,
    );
  });

  it('defines Money and OrderLine identically in every schema that inlines them', () => {
    const shared = new Map<string, Set<string>>();
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (node !== null && typeof node === 'object') {
        const record = node as Record<string, unknown>;
        if (record.type === 'record' && record.namespace === 'orderstream') {
          const name = String(record.name);
          shared.set(name, (shared.get(name) ?? new Set()).add(JSON.stringify(record)));
        }
        Object.values(record).forEach(collect);
      }
    };
    for (const { json } of registry.schemas()) collect(json);
    expect([...shared.keys()].sort()).toStrictEqual(['Money', 'OrderLine']);
    for (const definitions of shared.values()) expect(definitions.size).toBe(1);
  });
});
