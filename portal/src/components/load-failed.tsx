// What a page shows when its first load failed (the daemon unreachable or restarting): the reason
// as an alert and a button that tries again.
import type { ComponentChildren } from 'preact';

export function LoadFailed({ message, retryLabel, onRetry, children }: { message: string; retryLabel: string; onRetry: () => void; children?: ComponentChildren }) {
  return (
    <section>
      {children}
      <p role="alert">{message}</p>
      <button type="button" onClick={onRetry}>
        {retryLabel}
      </button>
    </section>
  );
}
