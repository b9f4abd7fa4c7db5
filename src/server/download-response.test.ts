import { describe, expect, it } from 'vitest';
import { download } from './download-response.ts';

describe('a download', () => {
  it('is saved under its name, never cached, and carries its digest when it has one', async () => {
    const csv = download('a,b\n', { type: 'text/csv; charset=utf-8', name: 'reads-RWF.csv' });
    expect(Object.fromEntries(csv.headers)).toEqual({
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="reads-RWF.csv"',
      'cache-control': 'no-store',
    });
    expect(await csv.text()).toBe('a,b\n');

    const sealed = download(new Uint8Array([1, 2]), {
      type: 'application/json',
      name: 'x.json',
      sha256: 'ab12',
    });
    expect(sealed.headers.get('X-Content-SHA256')).toBe('ab12');
  });
});
