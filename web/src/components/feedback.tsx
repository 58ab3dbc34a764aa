import type { ComponentChildren } from 'preact';

/** An error next to the form or action that caused it. */
export function ErrorText({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p class="notice" role="status">
      {children}
    </p>
  );
}

export function Loading() {
  return <p class="muted">Loading…</p>;
}

/** A table row that spans the table and says why it is empty. */
export function EmptyRow({ columns, children }: { columns: number; children: ComponentChildren }) {
  return (
    <tr class="empty">
      <td colSpan={columns}>{children}</td>
    </tr>
  );
}

/**
 * What a list's table shows before it has rows: Loading… while `items` is
 * unknown (not once loading `failed`: the error says why), `empty` when there
 * are none, nothing otherwise.
 */
export function ListState({ items, columns, empty, failed }: { items: readonly unknown[] | undefined; columns: number; empty: ComponentChildren; failed?: unknown }) {
  if (items === undefined) return failed ? null : <EmptyRow columns={columns}>Loading…</EmptyRow>;
  return items.length === 0 ? <EmptyRow columns={columns}>{empty}</EmptyRow> : null;
}

const STATUS_CLASS: Record<string, string> = {
  active: 'ok',
  invited: 'pending',
  disabled: 'warn',
  suspended: 'warn',
  expired: 'warn',
  revoked: 'bad',
  deleted: 'bad',
};

export function Status({ value }: { value: string }) {
  return <span class={`badge badge-${STATUS_CLASS[value] ?? 'plain'}`}>{value}</span>;
}
