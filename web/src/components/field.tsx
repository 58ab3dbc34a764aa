import type { ComponentChildren, VNode } from 'preact';
import { useId } from 'preact/hooks';

export interface ControlProps {
  id: string;
  'aria-describedby'?: string;
}

interface FieldProps {
  /** The label's whole text: tests and screen readers find the control by it. */
  label: string;
  hint?: ComponentChildren;
  control(props: ControlProps): VNode;
}

/** A labelled form control with an optional hint, tied together by id. */
export function Field({ label, hint, control }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {control(hint ? { id, 'aria-describedby': hintId } : { id })}
      {hint && (
        <small id={hintId} class="hint">
          {hint}
        </small>
      )}
    </div>
  );
}
