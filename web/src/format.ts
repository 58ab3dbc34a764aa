const pad = (n: number) => String(n).padStart(2, '0');

/** A time in the browser's zone, `2026-11-24 13:05`; '—' for none. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A day in the browser's zone, `2026-11-24`; '—' for none. */
export function day(iso: string | null | undefined): string {
  return iso ? time(iso).slice(0, 10) : '—';
}

/** Patterns as typed in a form: split on commas and new lines (semver ranges hold spaces), blanks dropped. */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A name Kubernetes accepts for a secret (lowercase letters, digits and dashes). */
export function kubeName(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `portcullis-${slug || 'pull'}`.replace(/-+$/, '');
}
