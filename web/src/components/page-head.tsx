/**
 * A page's heading with its one create action, which only users who may
 * change things see: a viewer finds no button rather than one that fails.
 */
export function PageHead({ title, action, onAction }: { title: string; action?: string; onAction?: (() => void) | false }) {
  return (
    <div class="page-head">
      <h1>{title}</h1>
      {action && onAction && (
        <button type="button" class="primary" onClick={onAction}>
          {action}
        </button>
      )}
    </div>
  );
}
