import { FormActions } from '../components/form-actions';
import { PageHead } from '../components/page-head';
import { useRef, useState } from 'preact/hooks';
import { api, errorText, listAll } from '../api';
import { ConfirmAction } from '../components/confirm-action';
import { CopyButton } from '../components/copy-button';
import { Dialog } from '../components/dialog';
import { ErrorText, Notice, Status, ListState } from '../components/feedback';
import { Field } from '../components/field';
import { day, time } from '../format';
import { useLoad } from '../hooks';
import { useSession } from '../session';
import type { Invitation, Role, User } from '../types';

const ROLE_TEXT: Record<Role, string> = {
  owner: 'owner: everything, including other owners',
  admin: 'admin: manages tokens, customers, licenses and users (not owners)',
  viewer: 'viewer: reads everything, changes nothing',
};

export function UsersPage() {
  const { session, canWrite } = useSession();
  const me = session.user;
  const [inviting, setInviting] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const users = useLoad(() => listAll<User>('/api/v1/users'), []);
  // An admin may not create, promote or change an owner: owners are left out of what it is offered.
  const roles: Role[] = me.role === 'owner' ? ['viewer', 'admin', 'owner'] : ['viewer', 'admin'];
  const replace = (user: User) => users.setData((old) => old?.map((u) => (u.id === user.id ? user : u)));

  return (
    <section>
      <PageHead title={'Users'} action="Invite user" onAction={canWrite && (() => setInviting(true))} />
      {notice && <Notice>{notice}</Notice>}
      <ErrorText error={users.error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Email</th>
              <th>Role</th>
              <th>Status</th>
              <th>Last login</th>
              {canWrite && <th>Actions</th>}
            </tr>
          </thead>
          <tbody>
            <ListState items={users.data} columns={5} empty={canWrite ? 'No users yet. Add one with Invite user.' : 'No users yet.'} />
            {users.data?.map((u) => {
              const manageable = canWrite && (me.role === 'owner' || u.role !== 'owner');
              const path = `/api/v1/users/${encodeURIComponent(u.id)}`;
              return (
                <tr key={u.id} class={u.status === 'disabled' ? 'revoked' : undefined}>
                  <td>
                    {u.email}
                    {u.id === me.id && <span class="muted"> (you)</span>}
                  </td>
                  <td>{u.role}</td>
                  <td>
                    <Status value={u.status} />
                  </td>
                  <td>{time(u.last_login_at)}</td>
                  {canWrite && (
                    <td>
                      {manageable && (
                        <div class="row-actions">
                          <RoleChange user={u} roles={roles} onChanged={replace} />
                          {u.status === 'disabled' ? (
                            <ConfirmAction small label="Enable" title={`Enable ${u.email}?`} action={async () => replace(await api<User>('PATCH', path, { status: 'active' }))}>
                              <p>{u.email} can log in again.</p>
                            </ConfirmAction>
                          ) : (
                            u.status === 'active' && (
                              <ConfirmAction small label="Disable" title={`Disable ${u.email}?`} action={async () => replace(await api<User>('PATCH', path, { status: 'disabled' }))}>
                                <p>{u.email} is logged out everywhere and cannot log in until enabled again.</p>
                              </ConfirmAction>
                            )
                          )}
                          <ConfirmAction
                            small
                            danger
                            label="Delete"
                            title={`Delete ${u.email}?`}
                            action={async () => {
                              await api('DELETE', path);
                              users.setData((old) => old?.filter((x) => x.id !== u.id));
                            }}
                          >
                            <p>The account is removed and its sessions end. Its actions stay in the audit log.</p>
                          </ConfirmAction>
                        </div>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {inviting && (
        <InviteDialog
          roles={roles}
          onClose={() => setInviting(false)}
          onInvited={({ user, invitation }) => {
            users.setData((old) => [...(old ?? []).filter((u) => u.id !== user.id), user]);
            // Nothing to hand over when the link went by e-mail: say so on the page and close the dialog.
            if (invitation.url === null && invitation.temporary_password === null) {
              setNotice(`Invitation e-mailed to ${user.email}. The link in it works once, until ${day(invitation.expires_at)}.`);
              setInviting(false);
            } else {
              setNotice(null);
            }
          }}
        />
      )}
    </section>
  );
}

function RoleChange({ user, roles, onChanged }: { user: User; roles: Role[]; onChanged(user: User): void }) {
  const [open, setOpen] = useState(false);
  const [role, setRole] = useState<Role>(user.role);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onChanged(await api<User>('PATCH', `/api/v1/users/${encodeURIComponent(user.id)}`, { role }));
      setOpen(false);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        class="secondary button-small"
        onClick={() => {
          setRole(user.role);
          setError(null);
          setOpen(true);
        }}
      >
        Change role
      </button>
      {open && (
        <Dialog title={`Change the role of ${user.email}`} onClose={() => setOpen(false)}>
          <form onSubmit={submit}>
            <RoleField value={role} onChange={setRole} roles={roles} hint="the user's sessions end, so the new role applies from the next login" />
            <ErrorText error={error} />
            <FormActions submit="Confirm" busy={busy} onCancel={() => setOpen(false)} disabled={role === user.role} />
          </form>
        </Dialog>
      )}
    </>
  );
}

function InviteDialog({ roles, onClose, onInvited }: { roles: Role[]; onClose(): void; onInvited(answer: Invitation): void }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [mode, setMode] = useState<'link' | 'password'>('link');
  const [result, setResult] = useState<Invitation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const secretRef = useRef<HTMLElement>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api<Invitation>('POST', '/api/v1/invitations', { email: email.trim(), role, mode });
      setResult(answer);
      onInvited(answer);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  if (result) {
    const { invitation, user } = result;
    return (
      <Dialog title="User invited" onClose={onClose} wide>
        {invitation.temporary_password !== null ? (
          <>
            <p>
              {user.email} can log in now with this temporary password, until {day(invitation.expires_at)}, and will choose a new one at once. Pass it on through a safe channel: it is shown only this once.
            </p>
            <p class="secret-line">
              <code class="secret" data-testid="temporary-password" ref={secretRef}>
                {invitation.temporary_password}
              </code>
              <CopyButton text={invitation.temporary_password} fallback={() => secretRef.current} />
            </p>
          </>
        ) : invitation.url !== null ? (
          <>
            <p>
              No e-mail was sent{invitation.emailed ? '' : ' (e-mail is not set up, or sending failed)'}. Pass this link on to {user.email}; it works once, until {day(invitation.expires_at)}:
            </p>
            <p class="secret-line">
              <code class="secret" data-testid="invite-url" ref={secretRef}>
                {invitation.url}
              </code>
              <CopyButton text={invitation.url} fallback={() => secretRef.current} />
            </p>
          </>
        ) : (
          <p role="status">Invitation e-mailed to {user.email}.</p>
        )}
        <div class="actions">
          <button type="button" class="primary" onClick={onClose}>
            Done
          </button>
        </div>
      </Dialog>
    );
  }

  return (
    <Dialog title="Invite user" onClose={onClose}>
      <form onSubmit={submit}>
        <Field label="Email" control={(p) => <input {...p} type="email" required maxLength={254} value={email} onInput={(e) => setEmail(e.currentTarget.value)} />} />
        <RoleField value={role} onChange={setRole} roles={roles} />
        <fieldset class="choice">
          <legend>How they get in</legend>
          <label class="check">
            <input type="radio" name="mode" checked={mode === 'link'} onChange={() => setMode('link')} /> an invitation link (sent by e-mail when mail is set up)
          </label>
          <label class="check">
            <input type="radio" name="mode" checked={mode === 'password'} onChange={() => setMode('password')} /> a temporary password
          </label>
        </fieldset>
        <ErrorText error={error} />
        <FormActions submit="Invite" busy={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

/** The role choice of the invite and change-role dialogs: only the roles the signed-in user may give. */
function RoleField({ value, onChange, roles, hint }: { value: Role; onChange(role: Role): void; roles: readonly Role[]; hint?: string }) {
  return (
    <Field
      label="Role"
      hint={hint}
      control={(p) => (
        <select {...p} value={value} onChange={(e) => onChange(e.currentTarget.value as Role)}>
          {roles.map((r) => (
            <option key={r} value={r}>
              {ROLE_TEXT[r]}
            </option>
          ))}
        </select>
      )}
    />
  );
}
