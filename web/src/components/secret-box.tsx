import { CopyButton } from './copy-button.js';

/** A new API key's secret, which the server shows only this once. */
export function SecretBox({ token, name }: { token: string; name: string }) {
  return (
    <section class="secret" aria-labelledby="secret-title">
      <h2 id="secret-title" class="secret-title">
        Your new API key <span class="muted">“{name}”</span>
      </h2>
      <div class="secret-row">
        <input class="input mono" readOnly value={token} aria-label="API key" onFocus={(event) => event.currentTarget.select()} />
        <CopyButton text={token} label="Copy key" className="button primary" />
      </div>
      <p class="warning" role="note">
        <strong>Copy it now: it will not be shown again.</strong> Only a fingerprint of it is stored. Keep it secret; anyone with it can
        upload to your account.
      </p>
    </section>
  );
}
