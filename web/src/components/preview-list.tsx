import type { LicensePreview } from '../types';

/** Repositories and tags a license opens: opened tags first, the others counted. */
export function PreviewList({ preview }: { preview: LicensePreview }) {
  if (preview.repositories.length === 0) return <p class="muted">No existing repository matches these patterns (yet).</p>;
  return (
    <>
      <ul class="preview-list">
        {preview.repositories.map((repo) => {
          const opened = repo.tags.filter((t) => t.opened);
          const closed = repo.tags.length - opened.length;
          return (
            <li key={repo.name}>
              <code>{repo.name}</code>
              {repo.tags.length === 0 ? (
                <span class="muted"> no tags yet</span>
              ) : (
                <div class="chips">
                  {opened.map((t) => (
                    <span key={t.tag} class="chip">
                      {t.tag}
                    </span>
                  ))}
                  {opened.length === 0 && <span class="muted">none of its {repo.tags.length} tag{repo.tags.length === 1 ? '' : 's'}</span>}
                  {opened.length > 0 && closed > 0 && (
                    <span class="muted">
                      {' '}
                      ({closed} other tag{closed === 1 ? '' : 's'} not opened)
                    </span>
                  )}
                </div>
              )}
            </li>
          );
        })}
      </ul>
      {preview.truncated && <p class="muted">More matched than shown.</p>}
    </>
  );
}
