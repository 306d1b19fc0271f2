import type { Invite } from '@discord-images/sdk';
import { useEffect, useState } from 'preact/hooks';
import { di, isSignedOut, messageOf } from '../../api.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { CopyButton } from '../../components/copy-button.js';
import { DateText } from '../../components/date-text.js';
import { Page } from '../../components/page.js';
import { formatCount } from './format.js';

/** The sign-up page with the code filled in, for the admin to send. */
export const inviteLink = (code: string): string => `${location.origin}/auth?invite=${encodeURIComponent(code)}`;

type InviteState = 'active' | 'used up' | 'expired';

const stateOf = (invite: Invite, now: number): InviteState =>
  invite.uses >= invite.max_uses ? 'used up' : invite.expires_at !== null && Date.parse(invite.expires_at) <= now ? 'expired' : 'active';

const usesText = (invite: Invite): string => {
  const left = Math.max(0, invite.max_uses - invite.uses);
  return `${formatCount(invite.uses)} of ${formatCount(invite.max_uses)} used · ${formatCount(left)} ${left === 1 ? 'use' : 'uses'} left`;
};

/** Invite codes for `REGISTRATION=invite`: make single- or multi-use codes with an expiry, share them, revoke them. */
export function AdminInvitesPage({ onSignedOut }: { onSignedOut: () => void }) {
  const [invites, setInvites] = useState<Invite[] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [maxUses, setMaxUses] = useState('1');
  const [days, setDays] = useState('7');
  const [never, setNever] = useState(false);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<Invite | null>(null);
  const [revoking, setRevoking] = useState<Invite | null>(null);
  const [revokeBusy, setRevokeBusy] = useState(false);
  const [registration, setRegistration] = useState<string | null>(null);

  const fail = (failure: unknown) => (isSignedOut(failure) ? onSignedOut() : setError(messageOf(failure)));

  useEffect(() => {
    const controller = new AbortController();
    di.admin.invites.list({ signal: controller.signal }).then(setInvites, (failure: unknown) => {
      if (!controller.signal.aborted) fail(failure);
    });
    // Invites only matter in invite mode: say so when the server is in another.
    di.auth.registration({ signal: controller.signal }).then(setRegistration, () => undefined);
    return () => controller.abort();
  }, []);

  const create = async () => {
    setCreating(true);
    setError(null);
    try {
      // The API checks the numbers and says what is wrong in its own words.
      const invite = await di.admin.invites.create({
        max_uses: Number(maxUses),
        expires_in_days: never ? null : Number(days),
      });
      setCreated(invite);
      setInvites((list) => [invite, ...(list ?? [])]);
    } catch (failure) {
      fail(failure);
    } finally {
      setCreating(false);
    }
  };

  const revoke = async (invite: Invite) => {
    setRevokeBusy(true);
    setError(null);
    try {
      await di.admin.invites.revoke(invite.id);
      setInvites((list) => list?.filter((item) => item.id !== invite.id));
      if (created?.id === invite.id) setCreated(null);
    } catch (failure) {
      fail(failure);
    } finally {
      setRevokeBusy(false);
      setRevoking(null);
    }
  };

  const now = Date.now();
  return (
    <Page title="Invites">
      <p class="muted lead">
        With <code>REGISTRATION=invite</code>, a new account needs a code from an admin. Send the sign-up link: it opens the sign-up form
        with the code filled in.
      </p>
      {registration !== null && registration !== 'invite' && (
        <p class="banner notice" role="note">
          {registration === 'closed'
            ? 'Registration on this server is closed now: invite codes do not work until it runs with REGISTRATION=invite.'
            : 'Registration on this server is open now: anyone can sign up, and codes are not needed.'}
        </p>
      )}
      <form
        class="panel invite-form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void create();
        }}
      >
        <div class="field">
          <label for="invite-uses">Uses</label>
          <input
            id="invite-uses"
            class="input"
            type="number"
            name="max_uses"
            min={1}
            max={10000}
            required
            aria-describedby="uses-hint"
            value={maxUses}
            onInput={(event) => setMaxUses(event.currentTarget.value)}
          />
          <small id="uses-hint" class="hint">
            Accounts the code can make (1 to 10,000)
          </small>
        </div>
        <div class="field">
          <label for="invite-days">Expires in (days)</label>
          <input
            id="invite-days"
            class="input"
            type="number"
            name="expires_in_days"
            min={1}
            max={365}
            disabled={never}
            aria-describedby="days-hint"
            value={days}
            onInput={(event) => setDays(event.currentTarget.value)}
          />
          <small id="days-hint" class="hint">
            1 to 365
          </small>
        </div>
        <label class="check invite-never">
          <input type="checkbox" checked={never} onChange={(event) => setNever(event.currentTarget.checked)} />
          Never expires
        </label>
        <button type="submit" class="button primary" disabled={creating}>
          {creating ? 'Creating…' : 'Create invite'}
        </button>
      </form>
      {created && (
        <section class="panel new-invite" aria-labelledby="new-invite-title">
          <h2 id="new-invite-title">New invite</h2>
          <InviteCodes invite={created} />
          <button type="button" class="button small" onClick={() => setCreated(null)}>
            Done
          </button>
        </section>
      )}
      {error && (
        <p class="banner error" role="alert">
          {error}
        </p>
      )}
      {invites === undefined ? (
        !error && <p class="muted">Loading invites…</p>
      ) : invites.length === 0 ? (
        <p class="empty">No invites yet: create one above.</p>
      ) : (
        <ul class="admin-list" aria-label="Invites">
          {invites.map((invite) => {
            const state = stateOf(invite, now);
            return (
              <li
                key={invite.id}
                class={`admin-row invite-row${state === 'active' ? '' : ' is-disabled'}`}
                aria-labelledby={`invite-${invite.id}`}
              >
                <div class="admin-row-title">
                  <code id={`invite-${invite.id}`} class="invite-code">
                    {invite.code}
                  </code>
                  <span class="badges">
                    <span class={`badge${state === 'active' ? ' success' : ' danger'}`}>
                      {state === 'active' ? 'Active' : state === 'expired' ? 'Expired' : 'Used up'}
                    </span>
                  </span>
                </div>
                <dl class="facts">
                  <div>
                    <dt>Uses</dt>
                    <dd class="invite-uses">{usesText(invite)}</dd>
                  </div>
                  <div>
                    <dt>{state === 'expired' ? 'Expired' : 'Expires'}</dt>
                    <dd>{invite.expires_at === null ? 'Never' : <DateText iso={invite.expires_at} />}</dd>
                  </div>
                  <div>
                    <dt>Created</dt>
                    <dd>
                      <DateText iso={invite.created_at} /> by {invite.created_by}
                    </dd>
                  </div>
                </dl>
                <div class="row-actions">
                  {state === 'active' && (
                    <>
                      <CopyButton text={invite.code} label="Copy code" className="button small" />
                      <CopyButton text={inviteLink(invite.code)} label="Copy link" className="button small" />
                    </>
                  )}
                  <button
                    type="button"
                    class="button small danger-outline"
                    aria-label={`Revoke invite ${invite.code}`}
                    onClick={() => setRevoking(invite)}
                  >
                    Revoke
                  </button>
                </div>
              </li>
            );
          })}
        </ul>
      )}
      {revoking && (
        <ConfirmDialog
          title="Revoke this invite?"
          confirmLabel={revokeBusy ? 'Revoking…' : 'Revoke invite'}
          busy={revokeBusy}
          onCancel={() => setRevoking(null)}
          onConfirm={() => void revoke(revoking)}
        >
          <p>
            The code <code>{revoking.code}</code> stops working at once and leaves the list
            {revoking.uses > 0
              ? `; the ${revoking.uses === 1 ? 'account' : `${formatCount(revoking.uses)} accounts`} made with it stay`
              : ''}
            .
          </p>
        </ConfirmDialog>
      )}
    </Page>
  );
}

/** An invite's code and sign-up link, each with its copy button. */
function InviteCodes({ invite }: { invite: Invite }) {
  const link = inviteLink(invite.code);
  return (
    <>
      <p class="muted">
        {invite.max_uses === 1 ? 'Single use' : `${formatCount(invite.max_uses)} uses`},{' '}
        {invite.expires_at === null ? (
          'never expires'
        ) : (
          <>
            expires <DateText iso={invite.expires_at} />
          </>
        )}
        .
      </p>
      <div class="field">
        <label for="new-invite-code">Invite code</label>
        <div class="secret-row">
          <input id="new-invite-code" class="input mono" readOnly value={invite.code} onFocus={(event) => event.currentTarget.select()} />
          <CopyButton text={invite.code} label="Copy code" className="button" />
        </div>
      </div>
      <div class="field">
        <label for="new-invite-link">Sign-up link</label>
        <div class="secret-row">
          <input id="new-invite-link" class="input mono" readOnly value={link} onFocus={(event) => event.currentTarget.select()} />
          <CopyButton text={link} label="Copy sign-up link" className="button primary" />
        </div>
      </div>
    </>
  );
}
