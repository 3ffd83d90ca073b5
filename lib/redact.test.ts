import { redactSecrets, redactUrl } from './redact';

describe('redaction', () => {
  it('masks the password of a URL, and leaves one without a password alone', () => {
    expect(redactUrl('postgres://u:s3cret@db:5432/x')).toBe('postgres://u:***@db:5432/x');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it('masks the password of a malformed URL, and of every URL in a list', () => {
    expect(redactUrl('postgres://u:s3cret@db:notaport/x')).toBe('postgres://u:***@db:notaport/x');
    expect(redactSecrets('postgres://a:p@ss@h1/x, postgresql://b:q@h2/y')).toBe(
      'postgres://a:***@h1/x, postgresql://b:***@h2/y',
    );
  });
});
