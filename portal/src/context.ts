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

/**
 * A page's own texts: each page keeps its catalog beside it (`{ en, de }`, where `de` must have
 * every key of `en`, or it does not compile), and gets the one of the chosen language.
 */
export function useText<T>(catalog: { en: T; de: NoInfer<T> }): T {
  return catalog[useUi().lang];
}
