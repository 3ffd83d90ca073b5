import { z } from 'zod';

/**
 * What text the HTTP APIs accept (issue: NUL and control characters). No input may hold NUL
 * or another C0/C1 control character, nor broken Unicode (a lone surrogate): Postgres cannot
 * store NUL, and none of them means anything in a name, an id or a token. Free text (a
 * description, a reason) may hold tab, line feed and carriage return.
 */

/** Every C0 control, DEL and every C1 control (Unicode category Cc). */
const CONTROL = /\p{Cc}/u;
/** The same, but tab, line feed and carriage return. */
const CONTROL_BUT_LINE_BREAKS = /(?![\t\n\r])\p{Cc}/u;
/** A UTF-16 surrogate not part of a pair (the `u` flag reads pairs as one code point). */
const LONE_SURROGATE = /\p{Cs}/u;

export type TextKind = 'line' | 'free';

/** Why `value` is refused as text of `kind`, or undefined when it is fine. */
export function textFault(value: string, kind: TextKind = 'line'): string | undefined {
  const control = (kind === 'free' ? CONTROL_BUT_LINE_BREAKS : CONTROL).exec(value);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    const what = code === '0000' ? 'NUL' : 'a control character';
    return `must not contain ${what} (U+${code} at index ${control.index})`;
  }
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (a lone surrogate)';
  return undefined;
}

/** `schema` refusing what `textFault` refuses, with its reason. */
function refusing(schema: z.ZodString, kind: TextKind): z.ZodString {
  return schema.superRefine((value, ctx) => {
    const fault = textFault(value, kind);
    if (fault) ctx.addIssue({ code: 'custom', message: fault });
  });
}

/** An id (of a product, an order, a payment…): 1 to `max` characters, no control characters. */
export const identifier = (max = 200) => refusing(z.string().min(1).max(max), 'line');

/** A one-line text (a name, a category, a tracking number): trimmed, 1 to `max` characters. */
export const lineText = (max: number) => refusing(z.string().trim().min(1).max(max), 'line');

/**
 * Free text (a description, a reason): up to `max` characters, line breaks and tabs allowed;
 * `nonEmpty`: trimmed, at least one character.
 */
export const freeText = (max: number, { nonEmpty = false } = {}) =>
  refusing(nonEmpty ? z.string().trim().min(1).max(max) : z.string().max(max), 'free');

/** A header token such as an Idempotency-Key: 1 to `max` printable ASCII characters, no spaces. */
export const headerToken = (max = 200) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x21-\x7e]+$/, 'expected printable ASCII without spaces');
