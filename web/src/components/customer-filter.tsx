import type { Customer } from '../types';
import { SelectFilter } from './select-filter';

/** The "Belongs to" filter of the token and license lists: one customer, or anyone. */
export function CustomerFilter({ value, onChange, customers }: { value: string; onChange(id: string): void; customers: readonly Customer[] | undefined }) {
  return <SelectFilter label="Belongs to" value={value} onChange={onChange} any="anyone" options={(customers ?? []).map((c) => ({ value: c.id, label: c.name }))} />;
}
