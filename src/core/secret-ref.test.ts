import { describe, expect, it } from 'vitest';
import { errorOf } from '../../test/helpers/errors.js';
import { formatSecretRef, parseSecretRef, type SecretRef } from './secret-ref.js';

describe('parseSecretRef', () => {
  it.each<[string, SecretRef]>([
    ['env:SMTP_PASSWORD', { backend: 'env', name: 'SMTP_PASSWORD' }],
    ['env:_x1', { backend: 'env', name: '_x1' }],
    ['file:/run/secrets/signing.pem', { backend: 'file', path: '/run/secrets/signing.pem' }],
    ['file:secrets/pepper', { backend: 'file', path: 'secrets/pepper' }],
    ['file:/a path/with:colon', { backend: 'file', path: '/a path/with:colon' }],
    ['pass:portcullis/pepper', { backend: 'pass', entry: 'portcullis/pepper' }],
    ['pass:pepper', { backend: 'pass', entry: 'pepper' }],
    ['pass:team/portcullis/signing-key.pem', { backend: 'pass', entry: 'team/portcullis/signing-key.pem' }],
    ['sops:/etc/portcullis/pepper.enc', { backend: 'sops', file: '/etc/portcullis/pepper.enc' }],
    ['sops:secrets.yaml#smtp_password', { backend: 'sops', file: 'secrets.yaml', key: 'smtp_password' }],
    ['sops:/x/a#b.yaml#signing-key', { backend: 'sops', file: '/x/a#b.yaml', key: 'signing-key' }],
  ])('%s', (text, expected) => {
    expect(parseSecretRef(text)).toEqual(expected);
    expect(formatSecretRef(expected)).toBe(text);
  });

  it.each([
    ['', /empty reference: expected env:NAME, file:PATH, pass:PATH or sops:FILE\[#KEY\]; leave the key out/],
    ['   ', /empty reference/],
    ['/run/secrets/pepper', /"\/run\/secrets\/pepper" names no backend: expected env:NAME/],
    ['vault:secret/pepper', /unknown secrets backend "vault" in "vault:secret\/pepper"/],
    ['ENV:X', /unknown secrets backend "ENV"/],
    ['env:', /env:NAME needs a variable name/],
    ['env:1X', /env:NAME needs a variable name/],
    ['env:SMTP-PASSWORD', /env:NAME needs a variable name/],
    ['env:PORTCULLIS_PEPPER', /PORTCULLIS_\* variables are settings/],
    ['env:portcullis_pepper', /PORTCULLIS_\* variables are settings/],
    ['file:', /file:PATH needs a path/],
    ['file:/x\ny', /contains a control character/],
    ['pass:', /pass:PATH needs the entry's name/],
    ['pass:-c', /not starting with "-" or "\/"/],
    ['pass:/etc/passwd', /not starting with "-" or "\/"/],
    ['pass:../other', /no empty, "\." or "\.\." segments/],
    ['pass:a//b', /no empty/],
    ['pass:a/', /no empty/],
    ['sops:', /sops:FILE needs the encrypted file's path/],
    ['sops:#key', /sops:FILE needs the encrypted file's path/],
    ['sops:-d', /would be read as an option; write \.\/-d/],
    ['sops:a.yaml#', /the key after "#" is one top-level key/],
    ['sops:a.yaml#a b', /the key after "#" is one top-level key/],
  ])('refuses %j', (text, message) => {
    const err = errorOf(() => parseSecretRef(text));
    expect(err.code).toBe('invalid_input');
    expect(err.message).toMatch(message);
  });
});
