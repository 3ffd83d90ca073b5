/** A connection URL safe to print: the password, if any, is masked. */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return redactSecrets(value);
  }
}

/**
 * Any text safe to print: the password of every `scheme://user:password@` in it is masked, also
 * in a malformed URL that `new URL` rejects (a password may itself hold `@`, so up to the
 * last `@` before the next `,` or space).
 */
export function redactSecrets(text: string): string {
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/[^:/@\s,]*:)[^\s,]*@/g, '$1***@');
}
