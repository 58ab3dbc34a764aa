import { matchesAnyRepoPattern } from './repo-pattern.js';
import { matchesAnyTagPattern } from './tag-pattern.js';

/** A repository as it exists now, with its tags. */
export interface ExistingRepository {
  name: string;
  tags: readonly string[];
}

export interface PreviewRepository {
  name: string;
  tags: { tag: string; opened: boolean }[];
}

export interface LicensePreview {
  repositories: PreviewRepository[];
  /** More repositories (or tags of one) matched than the preview lists. */
  truncated: boolean;
}

export interface PreviewLimits {
  repositories: number;
  tagsPerRepository: number;
}

/**
 * Which existing repositories and tags a license with these patterns would
 * open, judged by the same matchers decide() uses: a repository must be inside
 * the vendor's namespaces and match a repository pattern; a tag opens when it
 * matches a tag pattern (no tag patterns: every tag). Dates and status are not
 * part of it: the preview answers "what does this cover", not "what works now".
 */
export function previewLicense(
  existing: readonly ExistingRepository[],
  namespaces: readonly string[],
  repositoryPatterns: readonly string[],
  tagPatterns: readonly string[],
  limits: PreviewLimits,
): LicensePreview {
  const covered = existing
    .filter((r) => matchesAnyRepoPattern(namespaces, r.name) && matchesAnyRepoPattern(repositoryPatterns, r.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let truncated = covered.length > limits.repositories;
  const repositories = covered.slice(0, limits.repositories).map((r) => {
    if (r.tags.length > limits.tagsPerRepository) truncated = true;
    const tags = [...r.tags].sort().slice(0, limits.tagsPerRepository).map((tag) => ({ tag, opened: matchesAnyTagPattern(tagPatterns, tag) }));
    return { name: r.name, tags };
  });
  return { repositories, truncated };
}
