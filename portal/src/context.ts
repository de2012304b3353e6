import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { messages, type Language, type Messages } from './i18n';

export interface Ui {
  lang: Language;
  t: Messages;
}

export const UiContext = createContext<Ui>({ lang: 'en', t: messages('en') });

export function useUi(): Ui {
  return useContext(UiContext);
}
