// `window.Telegram`, as telegram-web-app.js defines it (types from @twa-dev/types).
// Optional: the script can fail to load (blocked, offline), and the page then says so.
// Kept outside static/ (everything there is deployed); only tsc reads it.
import type { Telegram } from '@twa-dev/types';

declare global {
  interface Window {
    Telegram?: Telegram;
  }
}

export {};
