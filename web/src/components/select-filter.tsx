import { Field } from './field';

/** One filter of a list page: a select whose first choice (`any`, the empty value) filters nothing. */
export function SelectFilter({ label, value, onChange, any, options }: { label: string; value: string; onChange(value: string): void; any: string; options: readonly { value: string; label: string }[] }) {
  return (
    <Field
      label={label}
      control={(p) => (
        <select {...p} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="">{any}</option>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    />
  );
}

/** Options whose labels are their values. */
export const plainOptions = (values: readonly string[]) => values.map((value) => ({ value, label: value }));
