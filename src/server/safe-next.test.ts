import { describe, expect, it } from 'vitest';
import { safeNext } from './safe-next.ts';

describe('the page after sign-in', () => {
  it('keeps a path on this site', () => {
    for (const path of [
      '/',
      '/loads?status=refused',
      '/catalogue/apc',
      '/audit?action=data.read#top',
      '/%2Fx',
    ])
      expect(safeNext(path)).toBe(path);
  });

  it('refuses every way known to leave the site or break the header', () => {
    for (const bad of [
      '/\t/evil.example', // decoded from next=%2F%09%2Fevil.example: browsers drop the tab
      '/\n/evil.example',
      '/\r\nSet-Cookie: x=1',
      '//evil.example',
      '/\\evil.example',
      '\\/evil.example',
      '/ /evil.example',
      'https://evil.example/',
      'javascript:alert(1)',
      'evil.example',
      '',
      '/\u0000/evil.example',
      '/\u0085/evil.example',
      `/${'a'.repeat(3000)}`,
      undefined,
      ['/'],
    ])
      expect(safeNext(bad)).toBe('/');
  });
});
