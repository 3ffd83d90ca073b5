import path from 'node:path';
import ts from 'typescript';

/**
 * Adding an event type is a compile-time to-do list: every projection handles each type of the
 * domain's event unions in an exhaustive `switch` or declares that it ignores it, so the type
 * checker names each projection that does neither. These tests add a type to a union (in
 * memory, the files on disk untouched) and type-check the projections against it.
 */

const root = path.join(__dirname, '..');

/** Every projection of the domain's events, and what it ignores by declaration. */
const PROJECTIONS = [
  'read-models/products/projection.ts',
  'read-models/orders/projection.ts',
  'read-models/views/projection.ts',
  'command-api/product-catalogue.ts',
];

type Edit = { file: string; replace: [from: string, to: string][] };

const { config } = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root);
let previous: ts.Program | undefined;

/** The type errors of each projection file once `edits` are made, by file. */
function projectionErrors(edits: Edit[]): Record<string, string[]> {
  const texts = new Map<string, string>();
  for (const { file, replace } of edits) {
    let text = ts.sys.readFile(path.join(root, file)) ?? '';
    for (const [from, to] of replace) {
      // An edit that no longer applies would prove nothing: fail loudly instead.
      expect(text).toContain(from);
      text = text.replace(from, to);
    }
    texts.set(path.join(root, file), text);
  }
  const host = ts.createCompilerHost(options);
  const { getSourceFile, readFile } = host;
  host.readFile = (name) => texts.get(path.resolve(name)) ?? readFile(name);
  host.getSourceFile = (name, language, ...rest) => {
    const text = texts.get(path.resolve(name));
    return text === undefined
      ? getSourceFile(name, language, ...rest)
      : ts.createSourceFile(name, text, language);
  };
  const rootNames = PROJECTIONS.map((p) => path.join(root, p));
  const program = ts.createProgram(rootNames, { ...options, noEmit: true }, host, previous);
  previous = program;
  // Only the projections and the edited files are checked (what they use is read as far as
  // they need it): an edit that does not compile by itself would flag projections for nothing.
  const checked = [...new Set([...PROJECTIONS, ...edits.map((e) => e.file)])];
  return Object.fromEntries(
    checked.map((file) => {
      const source = program.getSourceFile(path.join(root, file));
      if (!source) throw new Error(`${file} is not in the program`);
      const diagnostics = [
        ...program.getSyntacticDiagnostics(source),
        ...program.getSemanticDiagnostics(source),
      ];
      return [file, diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))];
    }),
  );
}

/** `type` added to the product events: a module with it, at the head of the list of modules. */
const newProductEvent = (type: string): Edit => ({
  file: 'domain/product/messages.ts',
  replace: [
    [
      'export const PRODUCT_COMMANDS = [\n',
      `import { accept as acceptNew } from '../decider';
import { message as newMessage } from '../message';
import { productCommand as newModule } from './rules';

const changeImage = newModule(
  newMessage('ChangeProductImage', { productId: 'string', imageUrl: 'string' }),
  newMessage('${type}', { productId: 'string', imageUrl: 'string' }),
  { decide: () => acceptNew(), evolve: (state) => state, samples: { commands: [], events: [] } },
);

export const PRODUCT_COMMANDS = [\n  changeImage,\n`,
    ],
  ],
});

/** `type` added to the order events: its declaration, at the head of the list. */
const newOrderEvent = (type: string): Edit => ({
  file: 'domain/order/events.ts',
  replace: [
    [
      'export const ORDER_EVENT_SCHEMAS = [\n',
      `const giftWrapped = message('${type}', { orderId: 'string', customerId: 'string' });

export const ORDER_EVENT_SCHEMAS = [\n  giftWrapped,\n`,
    ],
  ],
});

const flagged = (errors: Record<string, string[]>) =>
  Object.entries(errors)
    .filter(([, messages]) => messages.length > 0)
    .map(([file]) => file)
    .sort();

describe('a new event type is a compile-time to-do list in every projection', () => {
  it('type-checks every projection as the code stands (so the flags below are the new type’s)', () => {
    expect(projectionErrors([])).toEqual(Object.fromEntries(PROJECTIONS.map((p) => [p, []])));
  });

  it('flags each projection that neither handles nor ignores a new product event', () => {
    const errors = projectionErrors([newProductEvent('ProductImageChanged')]);
    // The orders model ignores every product event by declaration (PRODUCT_EVENT_TYPES).
    expect(flagged(errors)).toEqual([
      'command-api/product-catalogue.ts',
      'read-models/products/projection.ts',
      'read-models/views/projection.ts',
    ]);
    for (const file of flagged(errors)) {
      expect(errors[file]?.join('\n')).toMatch(/never/);
    }
  });

  it('flags each projection that neither handles nor ignores a new order event', () => {
    const errors = projectionErrors([newOrderEvent('OrderGiftWrapped')]);
    expect(flagged(errors)).toEqual([
      'read-models/orders/projection.ts',
      'read-models/views/projection.ts',
    ]);
  });

  it('is satisfied once a projection declares the new type ignored', () => {
    const errors = projectionErrors([
      newOrderEvent('OrderGiftWrapped'),
      {
        file: 'read-models/views/projection.ts',
        replace: [
          [
            'export const VIEWS_IGNORE = [] as const',
            "export const VIEWS_IGNORE = ['OrderGiftWrapped'] as const",
          ],
        ],
      },
    ]);
    expect(flagged(errors)).toEqual(['read-models/orders/projection.ts']);
  });
});
