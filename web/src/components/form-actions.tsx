/** A dialog form's submit and Cancel buttons; submit is off while the request runs. */
export function FormActions({ submit, busy, onCancel, disabled = false }: { submit: string; busy: boolean; onCancel: () => void; disabled?: boolean }) {
  return (
    <div class="actions">
      <button type="submit" class="primary" disabled={busy || disabled}>
        {submit}
      </button>
      <button type="button" class="secondary" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
