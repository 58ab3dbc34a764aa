import { describe, it, expect } from 'vitest';
import { digestClosure, reachableFrom, type RepositoryGraph } from './digest-closure.js';

/**
 * acme/app:
 *   1.0 → image M10: config C10, layers L-base
 *   1.2 → image M12: config C12, layers L-base, L-shared
 *   2.0 → index I20 → platform images M20amd (C20amd, L-shared, L-20) and M20arm (C20arm, L-20arm)
 *   SIG12: a signature whose subject is M12, with its own layer L-sig; SIGSIG signs SIG12
 *   SBOM20: an SBOM whose subject is M20amd (a child, not a tag)
 *   loop → X1 (index) → X2 (index) → X1, with X2 also holding blob L-x
 *   dangling → D (index) → M-gone (not in the graph) and M10
 *   gone → M-missing (not in the graph)
 *   ORPHAN: a signature of a manifest that is not in the graph
 */
const graph: RepositoryGraph = {
  tags: [
    { tag: '1.0', digest: 'M10' },
    { tag: '1.2', digest: 'M12' },
    { tag: '2.0', digest: 'I20' },
    { tag: 'loop', digest: 'X1' },
    { tag: 'dangling', digest: 'D' },
    { tag: 'gone', digest: 'M-missing' },
  ],
  manifests: [
    { digest: 'M10', children: [{ digest: 'C10', kind: 'blob' }, { digest: 'L-base', kind: 'blob' }] },
    {
      digest: 'M12',
      children: [
        { digest: 'C12', kind: 'blob' },
        { digest: 'L-base', kind: 'blob' },
        { digest: 'L-shared', kind: 'blob' },
      ],
    },
    { digest: 'I20', children: [{ digest: 'M20amd', kind: 'manifest' }, { digest: 'M20arm', kind: 'manifest' }] },
    {
      digest: 'M20amd',
      children: [
        { digest: 'C20amd', kind: 'blob' },
        { digest: 'L-shared', kind: 'blob' },
        { digest: 'L-20', kind: 'blob' },
      ],
    },
    { digest: 'M20arm', children: [{ digest: 'C20arm', kind: 'blob' }, { digest: 'L-20arm', kind: 'blob' }] },
    { digest: 'SIG12', subject: 'M12', children: [{ digest: 'C-empty', kind: 'blob' }, { digest: 'L-sig', kind: 'blob' }] },
    { digest: 'SIGSIG', subject: 'SIG12', children: [{ digest: 'C-empty', kind: 'blob' }, { digest: 'L-sigsig', kind: 'blob' }] },
    { digest: 'SBOM20', subject: 'M20amd', children: [{ digest: 'L-sbom', kind: 'blob' }] },
    { digest: 'X1', children: [{ digest: 'X2', kind: 'manifest' }] },
    { digest: 'X2', children: [{ digest: 'X1', kind: 'manifest' }, { digest: 'L-x', kind: 'blob' }] },
    { digest: 'D', children: [{ digest: 'M-gone', kind: 'manifest' }, { digest: 'M10', kind: 'manifest' }] },
    { digest: 'ORPHAN', subject: 'M-nowhere', children: [{ digest: 'L-orphan', kind: 'blob' }] },
  ],
};

const sorted = (s: Set<string>) => [...s].sort();

describe('digestClosure', () => {
  const cases: [name: string, tags: string[], manifests: string[], blobs: string[]][] = [
    ['no tags', [], [], []],
    ['1.0 only', ['1.0'], ['M10'], ['C10', 'L-base']],
    [
      '1.2 brings its signature and the signature of the signature',
      ['1.2'],
      ['M12', 'SIG12', 'SIGSIG'],
      ['C-empty', 'C12', 'L-base', 'L-shared', 'L-sig', 'L-sigsig'],
    ],
    [
      '2.0: the index, both platforms, and the SBOM of a child',
      ['2.0'],
      ['I20', 'M20amd', 'M20arm', 'SBOM20'],
      ['C20amd', 'C20arm', 'L-20', 'L-20arm', 'L-sbom', 'L-shared'],
    ],
    [
      '1.0 and 1.2 share a layer',
      ['1.0', '1.2'],
      ['M10', 'M12', 'SIG12', 'SIGSIG'],
      ['C-empty', 'C10', 'C12', 'L-base', 'L-shared', 'L-sig', 'L-sigsig'],
    ],
    ['a cycle ends', ['loop'], ['X1', 'X2'], ['L-x']],
    ['a dangling child is skipped', ['dangling'], ['D', 'M10'], ['C10', 'L-base']],
    ['a tag whose manifest is gone reaches nothing', ['gone'], [], []],
  ];

  it.each(cases)('%s', (_name, allowed, manifests, blobs) => {
    const closure = digestClosure(graph, (tag) => allowed.includes(tag));
    expect(sorted(closure.manifests)).toEqual([...manifests].sort());
    expect(sorted(closure.blobs)).toEqual([...blobs].sort());
  });

  it('the layer 2.0 has of its own stays out of a 1.x entitlement', () => {
    const closure = digestClosure(graph, (tag) => tag.startsWith('1.'));
    expect(closure.blobs.has('L-shared')).toBe(true);
    expect(closure.blobs.has('L-20')).toBe(false);
    expect(closure.manifests.has('I20')).toBe(false);
    expect(closure.manifests.has('M20amd')).toBe(false);
  });

  it('asks the predicate about each tag', () => {
    const asked: string[] = [];
    digestClosure(graph, (tag) => {
      asked.push(tag);
      return false;
    });
    expect(asked).toEqual(graph.tags.map((t) => t.tag));
  });
});

describe('reachableFrom', () => {
  it('from every tag: everything but the orphan referrer', () => {
    const closure = reachableFrom(
      graph,
      graph.tags.map((t) => t.digest),
    );
    const everything = graph.manifests.map((m) => m.digest).filter((d) => d !== 'ORPHAN');
    expect(sorted(closure.manifests)).toEqual(everything.sort());
    expect(closure.blobs.has('L-orphan')).toBe(false);
    expect(closure.blobs.has('L-x')).toBe(true);
  });

  it.each([
    ['a child manifest by digest', ['M20arm'], ['M20arm'], ['C20arm', 'L-20arm']],
    // A referrer does not reach back to its subject.
    ['a referrer alone', ['SIG12'], ['SIG12', 'SIGSIG'], ['C-empty', 'L-sig', 'L-sigsig']],
    ['the middle of a cycle', ['X2'], ['X1', 'X2'], ['L-x']],
    ['a digest not in the graph', ['nope'], [], []],
    ['the same root twice', ['M10', 'M10'], ['M10'], ['C10', 'L-base']],
  ])('%s', (_name, roots, manifests, blobs) => {
    const closure = reachableFrom(graph, roots);
    expect(sorted(closure.manifests)).toEqual([...manifests].sort());
    expect(sorted(closure.blobs)).toEqual([...blobs].sort());
  });

  it('takes any iterable of roots', () => {
    expect(sorted(reachableFrom(graph, new Set(['M10'])).manifests)).toEqual(['M10']);
  });

  it('an empty graph', () => {
    const closure = reachableFrom({ tags: [], manifests: [] }, ['M10']);
    expect(closure.manifests.size).toBe(0);
    expect(closure.blobs.size).toBe(0);
  });
});
