import { invalid, notFound } from '../core/errors.js';
import { forEachLimited } from '../core/for-each-limited.js';
import { previewLicense, type ExistingRepository, type LicensePreview } from '../core/license-preview.js';
import type { License } from '../core/model.js';
import { matchesAnyRepoPattern } from '../core/repo-pattern.js';
import { validateTagPattern } from '../core/tag-pattern.js';
import { COMMAS, splitList } from '../core/text.js';
import type { Caller, ServiceDeps } from './context.js';
import { getLicense } from './licenses.js';
import { parseRepositoryPatterns, resolvePlan } from './plans.js';
import { reachesForeign } from '../core/decide.js';
import { authorize } from '../core/operations.js';
import { foreignNamespaces } from './principal.js';

/** Where the registry's repositories and tags are read from: the built-in registry or the upstream. */
export interface RepositoryCatalog {
  repositories(): Promise<string[]>;
  /** undefined when the repository is unknown. */
  tags(name: string): Promise<string[] | undefined>;
}

export interface PreviewInput {
  repositories?: string | readonly string[];
  plan?: string;
  tags?: string | readonly string[];
}

export const PREVIEW_LIMITS = { repositories: 200, tagsPerRepository: 500 };
const PARALLEL_TAG_READS = 8;

/** What a license with these patterns (or this plan) would open among the repositories that exist now. */
export async function previewLicenseInput(deps: ServiceDeps, caller: Caller, catalog: RepositoryCatalog, input: PreviewInput): Promise<LicensePreview> {
  authorize(caller.authority, 'licenses.read');
  const repositories = parseRepositoryPatterns(input.repositories);
  const tags = [...new Set(splitList(input.tags, COMMAS).map((t) => validateTagPattern(t, 'tags')))];
  if (repositories.length > 0 && input.plan) throw invalid('give either repository patterns or a plan, not both', 'plan');
  if (repositories.length === 0 && !input.plan) throw invalid('a license needs repository patterns or a plan', 'repositories');
  const patterns = input.plan ? (await resolvePlan(deps.store, caller.vendorId, input.plan)).repositories : repositories;
  return preview(deps, caller, catalog, patterns, tags);
}

/** The same for a license on record. */
export async function previewExistingLicense(deps: ServiceDeps, caller: Caller, catalog: RepositoryCatalog, id: string): Promise<LicensePreview> {
  authorize(caller.authority, 'licenses.read');
  const license: License = await getLicense(deps, caller, id);
  let patterns = license.repositories;
  if (license.planId !== null) {
    const plan = await deps.store.getPlan(caller.vendorId, license.planId);
    patterns = plan?.repositories ?? [];
  }
  return preview(deps, caller, catalog, patterns, license.tags);
}

async function preview(deps: ServiceDeps, caller: Caller, catalog: RepositoryCatalog, patterns: readonly string[], tags: readonly string[]): Promise<LicensePreview> {
  const vendor = await deps.store.getVendor(caller.vendorId);
  if (!vendor) throw notFound(`vendor ${caller.vendorId} not found`);
  // Tags are read only for repositories the license covers, and one past the limit to know it was reached.
  // The operator's licenses reach no tenant's repositories (decide() says the same).
  const foreign = vendor.isOperator ? await foreignNamespaces(deps.store) : [];
  const names = (await catalog.repositories())
    .filter((name) => matchesAnyRepoPattern(vendor.namespaces, name) && !reachesForeign(foreign, name) && matchesAnyRepoPattern(patterns, name))
    .sort()
    .slice(0, PREVIEW_LIMITS.repositories + 1);
  const existing: ExistingRepository[] = names.map((name) => ({ name, tags: [] }));
  await forEachLimited(existing, PARALLEL_TAG_READS, async (repo) => {
    repo.tags = (await catalog.tags(repo.name)) ?? [];
  });
  return previewLicense(existing, vendor.namespaces, patterns, tags, PREVIEW_LIMITS);
}
