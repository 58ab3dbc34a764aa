import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { errorText } from '../api';
import { Dialog } from './dialog';
import { ErrorText } from './feedback';

interface ConfirmActionProps {
  /** The button's text, e.g. "Revoke". */
  label: string;
  title: string;
  /** What will happen, shown in the confirmation dialog. */
  children: ComponentChildren;
  action(): Promise<void>;
  danger?: boolean;
  small?: boolean;
}

/** A button whose action runs only after Confirm in a dialog; a failure is shown in the dialog, which stays open. */
export function ConfirmAction({ label, title, children, action, danger, small }: ConfirmActionProps) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await action();
      setOpen(false);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const classes = [danger ? 'danger' : 'secondary', small ? 'button-small' : ''].filter(Boolean).join(' ');
  return (
    <>
      <button
        type="button"
        class={classes}
        onClick={() => {
          setError(null);
          setOpen(true);
        }}
      >
        {label}
      </button>
      {open && (
        <Dialog title={title} onClose={() => setOpen(false)}>
          <div class="dialog-body">{children}</div>
          <ErrorText error={error} />
          <div class="actions">
            <button type="button" class={danger ? 'danger' : 'primary'} disabled={busy} onClick={run}>
              Confirm
            </button>
            <button type="button" class="secondary" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
    </>
  );
}
