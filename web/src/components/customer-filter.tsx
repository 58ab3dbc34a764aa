import type { Customer } from '../types';
import { Field } from './field';

/** The "Belongs to" filter of the token and license lists: one customer, or anyone. */
export function CustomerFilter({ value, onChange, customers }: { value: string; onChange(id: string): void; customers: readonly Customer[] | undefined }) {
  return (
    <Field
      label="Belongs to"
      control={(p) => (
        <select {...p} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="">anyone</option>
          {(customers ?? []).map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      )}
    />
  );
}
