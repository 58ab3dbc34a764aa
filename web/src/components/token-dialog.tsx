import { FormActions } from './form-actions';
import { useRef, useState } from 'preact/hooks';
import { api, errorText } from '../api';
import { kubeName, splitList } from '../format';
import type { CreatedToken, Customer } from '../types';
import { CopyButton } from './copy-button';
import { Dialog } from './dialog';
import { ErrorText } from './feedback';
import { Field } from './field';

interface TokenDialogProps {
  customers: Customer[];
  /** Preset to a customer (from its page): the type is customer and the customer fixed. */
  customerId?: string;
  onCreated(token: CreatedToken): void;
  onClose(): void;
}

/**
 * Creates a token, then shows its secret this one time. The secret lives only
 * in this component's state: closing the dialog drops it for good.
 */
export function TokenDialog({ customers, customerId, onCreated, onClose }: TokenDialogProps) {
  const [created, setCreated] = useState<CreatedToken | null>(null);
  return (
    <Dialog title={created ? 'Token created' : 'New token'} onClose={onClose} wide>
      {created ? (
        <TokenSecret token={created} onDone={onClose} />
      ) : (
        <TokenForm
          customers={customers}
          customerId={customerId}
          onCancel={onClose}
          onCreated={(token) => {
            setCreated(token);
            onCreated(token);
          }}
        />
      )}
    </Dialog>
  );
}

function TokenForm({ customers, customerId, onCreated, onCancel }: { customers: Customer[]; customerId?: string; onCreated(token: CreatedToken): void; onCancel(): void }) {
  const live = customers.filter((c) => !c.deleted_at);
  const [type, setType] = useState<'customer' | 'vendor'>(customerId || live.length > 0 ? 'customer' : 'vendor');
  const [customer, setCustomer] = useState(customerId ?? live[0]?.id ?? '');
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [pull, setPull] = useState(true);
  const [push, setPush] = useState(true);
  const [adminScopes, setAdminScopes] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    const body: Record<string, unknown> = { type, name: name.trim() };
    if (expires.trim()) body.expires = expires.trim();
    if (type === 'customer') {
      if (!customer) {
        setError('Choose the customer this token pulls for.');
        return;
      }
      body.customer = customer;
    } else {
      const scopes = [...(pull ? ['pull'] : []), ...(push ? ['push'] : []), ...splitList(adminScopes.replace(/\s+/g, ','))];
      if (scopes.length === 0) {
        setError('Give the token at least one scope.');
        return;
      }
      body.scopes = scopes;
    }
    setBusy(true);
    try {
      onCreated(await api<CreatedToken>('POST', '/api/v1/tokens', body));
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit}>
      <Field
        label="Type"
        hint={type === 'customer' ? 'pulls what the customer’s licenses open' : 'pushes and pulls in your namespaces, and may manage this instance through admin scopes'}
        control={(p) => (
          <select {...p} value={type} disabled={Boolean(customerId)} onChange={(e) => setType(e.currentTarget.value as 'customer' | 'vendor')}>
            <option value="customer">customer</option>
            <option value="vendor">vendor</option>
          </select>
        )}
      />
      {type === 'customer' &&
        (live.length === 0 ? (
          <p class="notice">
            There is no customer yet: <a href="/customers">create one</a> first.
          </p>
        ) : (
          <Field
            label="Customer"
            control={(p) => (
              <select {...p} value={customer} disabled={Boolean(customerId)} required onChange={(e) => setCustomer(e.currentTarget.value)}>
                {live.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            )}
          />
        ))}
      <Field label="Name" hint="what it is for, e.g. production cluster" control={(p) => <input {...p} required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />} />
      <Field label="Expires after" hint="a duration such as 30d, 12h or 1y, or a date; empty: never" control={(p) => <input {...p} placeholder="never" maxLength={100} value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />} />
      {type === 'vendor' && (
        <fieldset class="scopes">
          <legend>Scopes</legend>
          <label class="check">
            <input type="checkbox" checked={pull} onChange={(e) => setPull(e.currentTarget.checked)} /> pull
          </label>
          <label class="check">
            <input type="checkbox" checked={push} onChange={(e) => setPush(e.currentTarget.checked)} /> push
          </label>
          <Field
            label="Admin scopes"
            hint="optional, comma-separated: admin:*:* for everything, or admin:<area>:read|write"
            control={(p) => <input {...p} placeholder="admin:tokens:read" value={adminScopes} onInput={(e) => setAdminScopes(e.currentTarget.value)} />}
          />
        </fieldset>
      )}
      <ErrorText error={error} />
      <FormActions submit="Create" busy={busy} onCancel={onCancel} />
    </form>
  );
}

function TokenSecret({ token, onDone }: { token: CreatedToken; onDone(): void }) {
  const secretRef = useRef<HTMLElement>(null);
  const host = window.location.host;
  const docker = `echo '${token.secret}' | docker login ${host} -u ${token.username} --password-stdin`;
  const kubectl = `kubectl create secret docker-registry ${kubeName(token.name)} --docker-server=${host} --docker-username=${token.username} --docker-password=${token.secret}`;
  const ci = `echo "$PORTCULLIS_TOKEN" | docker login ${host} -u ${token.username} --password-stdin`;
  return (
    <div class="token-result">
      <p class="notice">Copy the token now: it is shown only this once and cannot be read back later.</p>
      <dl class="fields">
        <dt>Username</dt>
        <dd>
          <code>{token.username}</code>
        </dd>
        <dt>Token</dt>
        <dd class="secret-line">
          <code class="secret" data-testid="token-secret" ref={secretRef}>
            {token.full_token}
          </code>
          <CopyButton text={token.full_token} fallback={() => secretRef.current} />
        </dd>
      </dl>
      <p class="muted">
        The token works as the password, with the username above or any other. The part after the dot, <code>{token.secret}</code>, works as the password with the username.
      </p>
      <h3>Docker</h3>
      <pre class="snippet">{docker}</pre>
      <h3>Kubernetes pull secret</h3>
      <pre class="snippet">{kubectl}</pre>
      <h3>CI step</h3>
      <p class="muted">Store the token as the CI secret PORTCULLIS_TOKEN, then:</p>
      <pre class="snippet">{ci}</pre>
      <div class="actions">
        <button type="button" class="primary" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
