/**
 * Language switching: a React context with the current messages and number formatting for
 * the locale (English or Simplified Chinese).
 */
import { createContext, useContext } from 'react';
import { en, type Messages } from './en.ts';
import { zhCN } from './zh-CN.ts';

/** Supported locales. */
export type Locale = 'en' | 'zh-CN';

/** Messages and formatters of one locale. */
export interface I18n {
  locale: Locale;
  t: Messages;
  /** a number with at most `digits` decimals, grouped for the locale */
  num(x: number, digits?: number): string;
  /** a share 0…1 as a percentage */
  pct(x: number, digits?: number): string;
  /** a label from a bilingual pair */
  label(l: { en: string; zh: string }): string;
}

const cache = new Map<string, Intl.NumberFormat>();
function nf(locale: Locale, digits: number): Intl.NumberFormat {
  const key = `${locale}:${digits}`;
  let f = cache.get(key);
  if (f === undefined) {
    f = new Intl.NumberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
    cache.set(key, f);
  }
  return f;
}

/** Digits worth showing for a value of this size. */
function autoDigits(x: number): number {
  const a = Math.abs(x);
  return a >= 1000 ? 0 : a >= 100 ? 1 : a >= 1 ? 2 : 3;
}

/** Builds the i18n object of `locale`. */
export function makeI18n(locale: Locale): I18n {
  return {
    locale,
    t: locale === 'zh-CN' ? zhCN : en,
    num: (x, digits) => (Number.isFinite(x) ? nf(locale, digits ?? autoDigits(x)).format(x) : '—'),
    pct: (x, digits = 1) => (Number.isFinite(x) ? `${nf(locale, digits).format(x * 100)} %` : '—'),
    label: (l) => (locale === 'zh-CN' ? l.zh : l.en),
  };
}

/** The locale a page starts in: `?lang=`, else the browser's preference. */
export function initialLocale(search: string, browser: string): Locale {
  const q = new URLSearchParams(search).get('lang');
  if (q === 'zh-CN' || q === 'zh') return 'zh-CN';
  if (q === 'en') return 'en';
  return browser.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

/** Context carrying the current i18n. */
export const I18nContext = createContext<I18n>(makeI18n('en'));

/** The current language's messages and formatters. */
export function useI18n(): I18n {
  return useContext(I18nContext);
}
