// What a page for signed-in people shows to someone who is not (or no longer) signed in.
import { Link } from '../app';
import { useText } from '../context';

const TEXT = {
  en: { title: 'Please sign in', text: 'This page shows your own reports and lets you report problems; sign in first.', signIn: 'Sign in' },
  de: { title: 'Bitte anmelden', text: 'Diese Seite zeigt Ihre eigenen Meldungen und nimmt neue an; bitte melden Sie sich zuerst an.', signIn: 'Anmelden' },
};

export function SignInFirst() {
  const text = useText(TEXT);
  return (
    <section>
      <h1>{text.title}</h1>
      <p>{text.text}</p>
      <p>
        <Link href="/signin">{text.signIn}</Link>
      </p>
    </section>
  );
}
