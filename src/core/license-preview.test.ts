import { describe, expect, it } from 'vitest';
import { previewLicense, type ExistingRepository } from './license-preview.js';

const existing: ExistingRepository[] = [
  { name: 'acme/app', tags: ['1.0', '1.1', '2.0', 'latest'] },
  { name: 'acme/tools', tags: ['1.0'] },
  { name: 'acme/internal/db', tags: ['5'] },
  { name: 'other/app', tags: ['1.0'] },
];
const limits = { repositories: 100, tagsPerRepository: 100 };

describe('previewLicense', () => {
  it.each([
    { repos: ['acme/app'], tags: ['1.*'], expected: { 'acme/app': ['1.0', '1.1'] } },
    { repos: ['acme/*'], tags: [], expected: { 'acme/app': ['1.0', '1.1', '2.0', 'latest'], 'acme/tools': ['1.0'] } },
    { repos: ['acme/**'], tags: ['1.1', '2.*', '5'], expected: { 'acme/app': ['1.1', '2.0'], 'acme/internal/db': ['5'], 'acme/tools': [] } },
    { repos: ['other/*'], tags: [], expected: {} },
  ])('$repos with tags $tags opens $expected', ({ repos, tags, expected }) => {
    const preview = previewLicense(existing, ['acme/**'], repos, tags, limits);
    const opened = Object.fromEntries(preview.repositories.map((r) => [r.name, r.tags.filter((t) => t.opened).map((t) => t.tag)]));
    expect(opened).toEqual(expected);
    expect(preview.truncated).toBe(false);
  });

  it('lists the tags a license leaves closed, marked as such', () => {
    const [app] = previewLicense(existing, ['acme/**'], ['acme/app'], ['2.*'], limits).repositories;
    expect(app?.tags).toEqual([
      { tag: '1.0', opened: false },
      { tag: '1.1', opened: false },
      { tag: '2.0', opened: true },
      { tag: 'latest', opened: false },
    ]);
  });

  it('says when it left repositories or tags out', () => {
    const few = previewLicense(existing, ['acme/**'], ['acme/**'], [], { repositories: 1, tagsPerRepository: 100 });
    expect(few.repositories.map((r) => r.name)).toEqual(['acme/app']);
    expect(few.truncated).toBe(true);
    const short = previewLicense(existing, ['acme/**'], ['acme/app'], [], { repositories: 10, tagsPerRepository: 2 });
    expect(short.repositories[0]?.tags.map((t) => t.tag)).toEqual(['1.0', '1.1']);
    expect(short.truncated).toBe(true);
  });
});
