import { describe, expect, it } from 'vitest';
import { markRegistry, type MarkLink } from './registry-mark.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const CUTOFF = new Date('2026-11-24T11:00:00Z');
const OLD = new Date('2026-11-24T10:00:00Z');
const YOUNG = new Date('2026-11-24T11:30:00Z');
const link = (repository: string, digest: string, linkedAt: Date): MarkLink => ({ repository, digest, size: 1, linkedAt });

describe('markRegistry', () => {
  it('keeps what manifests reference, in any repository', () => {
    const { referenced, staleLinks } = markRegistry([{ repository: 'acme/app', digest: d('a'), children: [d('1'), d('2')] }], [], CUTOFF);
    expect([...referenced].sort()).toEqual([d('1'), d('2'), d('a')].sort());
    expect(staleLinks).toEqual([]);
  });

  it('a link keeps its blob while a manifest of its own repository references it, or while it is young', () => {
    const manifests = [
      { repository: 'acme/app', digest: d('a'), children: [d('1')] },
      { repository: 'acme/other', digest: d('b'), children: [d('3')] },
    ];
    const links = [
      link('acme/app', d('1'), OLD), // referenced by acme/app's manifest
      link('acme/app', d('2'), YOUNG), // a push in flight
      link('acme/app', d('3'), OLD), // referenced only by another repository's manifest
      link('acme/gone', d('4'), OLD), // every manifest of acme/gone was deleted
      link('acme/gone', d('5'), CUTOFF), // exactly at the cutoff: still young
    ];
    const { referenced, staleLinks } = markRegistry(manifests, links, CUTOFF);
    expect(staleLinks.map((l) => [l.repository, l.digest])).toEqual([
      ['acme/app', d('3')],
      ['acme/gone', d('4')],
    ]);
    // d('3') stays referenced through acme/other's manifest; d('4') nothing keeps.
    expect([...referenced].sort()).toEqual([d('1'), d('2'), d('3'), d('5'), d('a'), d('b')].sort());
  });

  it('a blob linked stale in one repository and live in another is kept', () => {
    const { referenced, staleLinks } = markRegistry([], [link('acme/gone', d('4'), OLD), link('acme/new', d('4'), YOUNG)], CUTOFF);
    expect(staleLinks.map((l) => l.repository)).toEqual(['acme/gone']);
    expect(referenced.has(d('4'))).toBe(true);
  });
});
