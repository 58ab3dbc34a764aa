import { describe, expect, it } from 'vitest';
import type { UsageEvent } from '../core/model.js';
import { countUsage, csvField, presentUsage, presentUsageCount, usageCsv } from './usage-report.js';

const DIGEST = `sha256:${'d'.repeat(64)}`;

function ev(repository: string, tag: string | null, action: UsageEvent['action'], at: string, extra: Partial<UsageEvent> = {}): UsageEvent {
  return {
    id: `evt_${at}`,
    at: new Date(at),
    vendorId: 'ven_x',
    tokenId: 'ctok_aaaaaaaaaaaaaaaa',
    customerId: 'cus_bbbbbbbbbbbbbbbb',
    action,
    repository,
    tag,
    digest: DIGEST,
    ip: '192.0.2.1',
    userAgent: 'docker/27.0',
    ...extra,
  };
}

describe('countUsage', () => {
  const cases: { name: string; events: UsageEvent[]; want: [string, string | null, number, number, string][] }[] = [
    { name: 'no events', events: [], want: [] },
    {
      name: 'pulls and pushes of one tag add up; last_at is the latest, whatever the input order',
      events: [ev('acme/app', 'v1', 'pull', '2026-06-02T00:00:00Z'), ev('acme/app', 'v1', 'push', '2026-06-01T00:00:00Z'), ev('acme/app', 'v1', 'pull', '2026-06-01T12:00:00Z')],
      want: [['acme/app', 'v1', 2, 1, '2026-06-02T00:00:00.000Z']],
    },
    {
      name: 'sorted by repository then tag, the digest-only row last in its repository',
      events: [
        ev('acme/web', 'latest', 'pull', '2026-06-01T00:00:01Z'),
        ev('acme/app', null, 'pull', '2026-06-01T00:00:02Z'),
        ev('acme/app', 'v2', 'pull', '2026-06-01T00:00:03Z'),
        ev('acme/app', 'V1', 'pull', '2026-06-01T00:00:04Z'),
        ev('acme/app', null, 'push', '2026-06-01T00:00:05Z'),
        ev('acme/app-x', 'v1', 'pull', '2026-06-01T00:00:06Z'),
      ],
      want: [
        ['acme/app', 'V1', 1, 0, '2026-06-01T00:00:04.000Z'],
        ['acme/app', 'v2', 1, 0, '2026-06-01T00:00:03.000Z'],
        ['acme/app', null, 1, 1, '2026-06-01T00:00:05.000Z'],
        ['acme/app-x', 'v1', 1, 0, '2026-06-01T00:00:06.000Z'],
        ['acme/web', 'latest', 1, 0, '2026-06-01T00:00:01.000Z'],
      ],
    },
    {
      name: 'a tag named "null" is not the digest-only row',
      events: [ev('acme/app', 'null', 'pull', '2026-06-01T00:00:00Z'), ev('acme/app', null, 'pull', '2026-06-01T00:00:01Z')],
      want: [
        ['acme/app', 'null', 1, 0, '2026-06-01T00:00:00.000Z'],
        ['acme/app', null, 1, 0, '2026-06-01T00:00:01.000Z'],
      ],
    },
  ];
  it.each(cases)('$name', ({ events, want }) => {
    const got = countUsage(events).map(presentUsageCount);
    expect(got).toEqual(want.map(([repository, tag, pulls, pushes, last_at]) => ({ repository, tag, pulls, pushes, last_at })));
  });
});

describe('csvField', () => {
  it.each([
    ['plain', 'acme/app', 'acme/app'],
    ['null is empty', null, ''],
    ['empty', '', ''],
    ['comma', 'Go-http-client/1.1, extra', '"Go-http-client/1.1, extra"'],
    ['quote doubled', 'say "hi"', '"say ""hi"""'],
    ['newline', 'a\nb', '"a\nb"'],
    ['carriage return', 'a\rb', '"a\rb"'],
    ['formula =', '=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['formula +', '+1', "'+1"],
    ['formula -', '-1+2', "'-1+2"],
    ['formula @', '@SUM(A1)', "'@SUM(A1)"],
    ['formula tab', '\t=1', "'\t=1"],
    ['formula char later is fine', 'a=b', 'a=b'],
  ] as const)('%s', (_name, input, want) => {
    expect(csvField(input)).toBe(want);
  });
});

describe('usageCsv and presentUsage', () => {
  const e = ev('acme/app', null, 'pull', '2026-06-01T10:00:00Z', { customerId: null, userAgent: 'skopeo, "v1"', ip: '2001:db8::1' });

  it('writes a header and one CRLF-ended row per event, quoting what needs it', () => {
    expect(usageCsv([])).toBe('at,action,repository,tag,digest,token,customer,ip,user_agent\r\n');
    expect(usageCsv([e]).split('\r\n')).toEqual([
      'at,action,repository,tag,digest,token,customer,ip,user_agent',
      `2026-06-01T10:00:00.000Z,pull,acme/app,,${DIGEST},ctok_aaaaaaaaaaaaaaaa,,2001:db8::1,"skopeo, ""v1"""`,
      '',
    ]);
  });

  it('presents an event in snake_case without the vendor', () => {
    expect(presentUsage(e)).toEqual({
      id: e.id,
      at: '2026-06-01T10:00:00.000Z',
      action: 'pull',
      repository: 'acme/app',
      tag: null,
      digest: DIGEST,
      token: 'ctok_aaaaaaaaaaaaaaaa',
      customer_id: null,
      ip: '2001:db8::1',
      user_agent: 'skopeo, "v1"',
    });
  });
});
